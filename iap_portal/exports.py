"""CSV and XLSX from the same rows (pretix's ListExporter idea): one row generator, two formats.

CSV: ';'-separated, UTF-8 with a BOM (Excel in Latvia opens it right), decimals with a comma,
dates as 1.09.2026. XLSX: numbers stay numbers, dates stay dates. Text that a spreadsheet would
run as a formula is neutralised in both.

List pages register their export here (``register_export``). A small export is answered at
once; a large one goes to the task queue and the user gets a page that shows its progress.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = {"csv", "xlsx"}


def safe_cell(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return f"{value.day}.{value:%m.%Y}"
    if isinstance(value, Decimal | float):
        return f"{value:.2f}".replace(".", ",")
    return safe_cell(str(value))


def write_csv(rows, stream):
    """Write rows to a text stream as the CSV described above."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";")
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])


def _xlsx_value(value):
    if value is None or isinstance(value, int | float | Decimal | datetime.date):
        return value
    return safe_cell(str(value))  # also turns lazy translations into text


def write_xlsx(sheets, stream):
    """sheets: [(title, rows)], the first row of each its header. Write-only, so a large
    export streams through in constant memory."""
    workbook = Workbook(write_only=True)
    used = set()
    for title, rows in sheets:
        name = "".join(c for c in str(title) if c not in "[]:*?/\\")[:31] or "Sheet"
        while name in used:
            name = name[:28] + f"~{len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        for row in rows:
            # Only cells that need a number format become cell objects; the rest go in as
            # plain values, which write-only sheets take several times faster.
            cells = []
            for value in row:
                if isinstance(value, Decimal | float):
                    cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
                    cell.number_format = "#,##0.00"
                elif isinstance(value, datetime.date):
                    cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
                    cell.number_format = "DD.MM.YYYY"
                else:
                    cell = _xlsx_value(value)
                cells.append(cell)
            sheet.append(cells)
    workbook.save(stream)


def csv_response(rows, filename):
    buffer = io.StringIO()
    write_csv(rows, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(sheets, filename):
    buffer = io.BytesIO()
    write_xlsx(sheets, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


# --- List exports ---------------------------------------------------------------------------


@dataclass
class ExportSpec:
    queryset: object  # what the filters show, for counting
    rows: object  # callable: () -> row generator (header first)
    filename: str
    title: str


EXPORTS = {}


def register_export(kind):
    """Register ``function(user, params) -> ExportSpec`` under a name the task can find."""

    def decorator(function):
        EXPORTS[kind] = function
        return function

    return decorator


def export_response(request, kind):
    """The CSV or XLSX the request asks for (``?format=csv|xlsx``), or None for the page.

    Above ``IAP_INLINE_EXPORT_ROWS`` rows the export is built on the task queue instead."""
    fmt = request.GET.get("format")
    if fmt not in FORMATS:
        return None
    spec = EXPORTS[kind](request.user, request.GET)
    from .audit import record
    from .models import AuditEvent

    record(request, AuditEvent.Action.EXPORT, detail=f"{kind}.{fmt} {request.GET.urlencode()}")
    if spec.queryset.count() > settings.IAP_INLINE_EXPORT_ROWS:
        from reports.models import ExportJob
        from reports.tasks import build_export

        params = request.GET.copy()
        params.pop("format", None)
        params.pop("page", None)
        job = ExportJob.objects.create(
            requested_by=request.user, kind=kind, format=fmt, params=params.urlencode()
        )
        transaction.on_commit(lambda: build_export.enqueue(job_id=str(job.public_id)))
        return redirect("export_detail", public_id=job.public_id)
    if fmt == "csv":
        return csv_response(spec.rows(), spec.filename)
    return xlsx_response([(spec.title, spec.rows())], spec.filename)

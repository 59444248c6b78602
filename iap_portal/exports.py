"""CSV and XLSX from the same rows (pretix's ListExporter idea): one row generator, two formats.

CSV: ';'-separated, UTF-8 with a BOM (Excel in Latvia opens it right), decimals with a comma,
dates as 1.09.2026. XLSX: numbers stay numbers, dates stay dates. Text that a spreadsheet would
run as a formula is neutralised in both.

List pages register their export here (``register_export``, from their AppConfig.ready). A
small export is answered at once; a large one goes to the task queue (``queue_export``, which
the reports app provides) and the user gets a page that shows its progress.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

from . import audit
from .models import AuditEvent
from .registry import Hook, Registry

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = {"csv", "xlsx"}


def safe_cell(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def choice_labels(choices):
    """A row generator's label lookup: each choice's label translated once, not per cell (lazy
    labels cost a gettext call every time they are turned into text)."""
    return {value: str(label) for value, label in choices}


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


def _sheet_name(title, used):
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, no apostrophe
    at either end, unique in the workbook (case-insensitively, as Excel compares them)."""
    base = "".join(c for c in str(title) if c not in "[]:*?/\\").strip("'") or "Sheet"
    name, number = _cut(base, 31), 1
    while name.lower() in used:
        number += 1
        name = f"{_cut(base, 31 - len(str(number)) - 1)}~{number}"
    used.add(name.lower())
    return name


def _cut(text, units):
    """At most this many UTF-16 code units, as Excel counts a sheet name's length, cut at the
    end of a word where the name has more than one."""
    whole = text
    while len(text.encode("utf-16-le")) // 2 > units:
        text = text[:-1]
    if text != whole and not whole[len(text)].isspace() and " " in text.strip():
        text = text.strip().rsplit(" ", 1)[0]
    return text.rstrip(" ,;-'") or "Sheet"


def write_xlsx(sheets, stream, *, constant_memory=False):
    """sheets: [(title, rows)], the first row of each its header (bold, frozen).

    Written with XlsxWriter, every cell with an explicit type: text is never read as a formula,
    a number or a link. A response's export (at most ``IAP_INLINE_XLSX_ROWS`` rows) is built
    in memory, where repeated texts — statuses, semesters, names of staff — are stored once;
    the task queue's large exports pass ``constant_memory=True`` and stream row by row.
    XlsxWriter rather than openpyxl's write-only mode: it is the faster writer (bench/README.md)."""
    workbook = xlsxwriter.Workbook(
        stream,
        {
            "in_memory": not constant_memory,
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    formats = (
        workbook.add_format({"bold": True}),
        workbook.add_format({"num_format": "#,##0.00"}),
        workbook.add_format({"num_format": "DD.MM.YYYY"}),
        workbook.add_format({"num_format": "DD.MM.YYYY HH:MM"}),
    )
    used = set()
    try:
        for title, rows in sheets:
            _write_sheet(workbook.add_worksheet(_sheet_name(title, used)), rows, formats)
    finally:
        # Also when the rows fail half-way (the task marks the export failed): closing removes
        # the temporary files of constant_memory mode, which XlsxWriter keeps until then.
        workbook.close()


def _write_sheet(sheet, rows, formats):
    header, money, day, moment = formats
    sheet.freeze_panes(1, 0)
    write_string, write_number = sheet.write_string, sheet.write_number
    for r, row in enumerate(rows):
        if r == 0:
            for c, value in enumerate(row):
                write_string(0, c, "" if value is None else str(value), header)
            continue
        for c, value in enumerate(row):
            if value is None or value == "":
                continue  # an empty cell, not an empty text
            if isinstance(value, str):
                write_string(r, c, safe_cell(value))
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int):
                write_number(r, c, value)
            elif isinstance(value, Decimal | float):
                write_number(r, c, value, money)
            elif isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.make_naive(value)
                sheet.write_datetime(r, c, value, moment)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(r, c, value, day)
            else:  # lazy translations and anything else with a text form
                write_string(r, c, safe_cell(str(value)))


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
    # The schools whose rows it holds (``students.access.export_schools``): its audit events
    # name them, so each school's log shows what left it.
    schools: tuple = ()


# kind -> function(user, params) -> ExportSpec; the task finds an export by its kind.
EXPORTS = Registry("exports")
register_export = EXPORTS.register
# reports: put a large export on the task queue; (request, kind, fmt) -> the progress page.
queue_export = Hook("queue_export")


def export_response(request, kind):
    """The CSV or XLSX the request asks for (``?format=csv|xlsx``), or None for the page.

    Above ``IAP_INLINE_EXPORT_ROWS`` rows (``IAP_INLINE_XLSX_ROWS`` for a spreadsheet) the
    export is built on the task queue instead."""
    fmt = request.GET.get("format")
    if fmt not in FORMATS:
        return None
    spec = EXPORTS[kind](request.user, request.GET)
    for school_id in spec.schools or (None,):
        audit.record(
            request,
            AuditEvent.Action.EXPORT,
            school=school_id,
            detail=f"{kind}.{fmt} {request.GET.urlencode()}",
        )
    limit = settings.IAP_INLINE_XLSX_ROWS if fmt == "xlsx" else settings.IAP_INLINE_EXPORT_ROWS
    if spec.queryset.count() > limit:
        return queue_export(request, kind, fmt)
    if fmt == "csv":
        return csv_response(spec.rows(), spec.filename)
    return xlsx_response([(spec.title, spec.rows())], spec.filename)

"""CSV and XLSX from the same rows (pretix's ListExporter idea): one row generator, two formats.

CSV: ';'-separated, UTF-8 with a BOM (Excel in Latvia opens it right), decimals with a comma,
dates as 1.09.2026. XLSX: numbers stay numbers, dates stay dates. Text that a spreadsheet would
run as a formula is neutralised in both.
"""

import csv
import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def csv_response(rows, filename):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _xlsx_value(value):
    if value is None or isinstance(value, int | float | Decimal | datetime.date):
        return value
    return safe_cell(str(value))  # also turns lazy translations into text


def xlsx_response(sheets, filename):
    """sheets: [(title, rows)]; the first row of each is its header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used = set()
    for title, rows in sheets:
        name = "".join(c for c in str(title) if c not in "[]:*?/\\")[:31] or "Sheet"
        while name in used:
            name = name[:28] + f"~{len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, Decimal | float):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, datetime.date):
                    cell.number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def export_response(request, rows, *, filename, title):
    """The CSV or XLSX the request asks for (``?format=csv|xlsx``), or None for the page.

    ``rows`` is a callable returning the row generator, so a page view builds nothing extra.
    """
    kind = request.GET.get("format")
    if kind == "csv":
        return csv_response(rows(), filename)
    if kind == "xlsx":
        return xlsx_response([(title, rows())], filename)
    return None

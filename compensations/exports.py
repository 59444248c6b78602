"""One row generator feeds both the CSV and the XLSX payment list."""

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def payment_rows(claims):
    yield [
        _("Pupil"),
        _("Class"),
        _("Category"),
        _("Month"),
        _("Amount, EUR"),
        _("Claim code"),
        _("Status"),
        pgettext("column", "Paid on"),
        _("Payment reference"),
    ]
    for claim in claims:
        student = claim.plan.student
        classes = getattr(student, "year_classes", [])
        yield [
            f"{student.last_name} {student.first_name}",
            classes[0].class_group.label if classes else "",
            claim.measure.get_compensation_category_display(),
            f"{claim.month:%m.%Y}",
            claim.total,
            claim.code,
            claim.get_status_display(),
            claim.paid_on,
            claim.payment_reference,
        ]


def csv_response(rows, filename):
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(buffer, delimiter=";")
    for row in rows:
        writer.writerow(
            [
                f"{v:%d.%m.%Y}"
                if hasattr(v, "strftime")
                else (str(v).replace(".", ",") if hasattr(v, "quantize") else safe_cell(v or ""))
                for v in row
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(rows, filename, title):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    for cell in sheet["E"][1:]:
        cell.number_format = "#,##0.00"
    for cell in sheet["H"][1:]:
        cell.number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response

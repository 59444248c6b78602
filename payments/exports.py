"""A batch as a spreadsheet for the payer: one row generator feeds the CSV and the XLSX
(iap_portal.exports). The IBAN is in full: this is the file the payer pays from."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iap_portal.exports import choice_labels, csv_response, xlsx_response
from plans.models import CompensationCategory

from .iban import format_iban
from .models import LineOutcome


def batch_lines(batch):
    return batch.lines.select_related("claim__measure").order_by("payee_name", "pk")


def batch_rows(batch, lines):
    categories = choice_labels(CompensationCategory.choices)
    outcomes = choice_labels(LineOutcome.choices)
    yield [
        _("Payee"),
        _("IBAN"),
        _("Amount, EUR"),
        _("Claim code"),
        _("Category"),
        _("School"),
        _("Month"),
        _("Outcome"),
        _("Bank reference"),
    ]
    total = Decimal("0.00")
    for line in lines:
        total += line.amount
        yield [
            line.payee_name,
            format_iban(line.iban),
            line.amount,
            line.claim.code,
            categories.get(line.claim.measure.compensation_category, ""),
            batch.school.name,
            f"{batch.month:%m.%Y}",
            outcomes.get(line.outcome, ""),
            line.bank_reference or line.refusal_reason,
        ]
    yield [
        ngettext("Total (%(count)d payment)", "Total (%(count)d payments)", len(lines))
        % {"count": len(lines)},
        "",
        total,
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def batch_export(batch, fmt):
    lines = list(batch_lines(batch))
    if fmt == "csv":
        return csv_response(batch_rows(batch, lines), batch.code)
    return xlsx_response([(batch.code, batch_rows(batch, lines))], batch.code)

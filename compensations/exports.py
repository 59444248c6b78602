"""The payment list: one row generator for the CSV and the XLSX (iap_portal.exports)."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


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

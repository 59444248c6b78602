"""The claim lists' queries and their export: one row generator for the CSV and the XLSX
(iap_portal.exports), registered for each list."""

from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from iap_portal.exports import ExportSpec, register_export
from students.access import (
    current_school_year,
    export_schools,
    get_access,
    managed_schools,
    visible_class_groups,
)
from students.models import Role

from .access import visible_claims
from .forms import ClaimFilterForm
from .hooks import payment_status
from .models import ClaimStatus


def payment_rows(claims, *, with_payments=False):
    header = [
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
    if with_payments:
        header += [_("Payee"), _("IBAN"), _("Payment batch"), _("Refused by the bank")]
    yield header
    for chunk in _chunks(claims, 500):
        status = payment_status(chunk) if with_payments else {}
        for claim in chunk:
            row = _claim_row(claim)
            if with_payments:
                payment = status.get(claim.pk) or dict.fromkeys(PAYMENT_KEYS, "")
                row += [payment[key] for key in PAYMENT_KEYS]
            yield row


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


PAYMENT_KEYS = ("payee", "iban", "batch", "refused")


def _claim_row(claim):
    student = claim.plan.student
    row = [
        f"{student.last_name} {student.first_name}",
        class_label(claim),
        claim.measure.get_compensation_category_display(),
        f"{claim.month:%m.%Y}",
        claim.total,
        claim.code,
        claim.get_status_display(),
        claim.paid_on,
        claim.payment_reference,
    ]
    return row


def _filtered_claims(user, params, claims, *, default_status=""):
    year = current_school_year(user)
    class_groups = visible_class_groups(user).filter(school_year=year)
    data = params.copy()
    if default_status and "status" not in data:
        data["status"] = default_status
    form = ClaimFilterForm(data, class_groups=class_groups.order_by("grade", "letter"))
    if form.is_valid():
        f = form.cleaned_data
        if f["status"]:
            claims = claims.filter(status=f["status"])
        if f["class_group"]:
            claims = claims.filter(plan__student__enrollments__class_group_id=f["class_group"])
        if f["category"]:
            claims = claims.filter(measure__compensation_category=f["category"])
        if f["month"]:
            claims = claims.filter(month=f["month"].replace(day=1))
        if f["min_amount"] is not None:
            claims = claims.filter(total__gte=f["min_amount"])
        if f["max_amount"] is not None:
            claims = claims.filter(total__lte=f["max_amount"])
    else:
        claims = claims.none()
    return form, claims


def with_class_at_the_time(claims):
    """Claims with the pupil's class in the school year of the claim's plan: the class when
    the claim was filed, not today's (``class_label``, "" without one), in the same query."""
    return claims.select_related("plan__student", "measure").annotate(
        class_then=FilteredRelation(
            "plan__student__enrollments",
            condition=Q(
                plan__student__enrollments__school_year_id=F("plan__semester__school_year_id")
            ),
        ),
        class_grade=F("class_then__class_group__grade"),
        class_letter=F("class_then__class_group__letter"),
    )


def class_label(claim):
    """The class annotated by ``with_class_at_the_time`` ("7.a"), or ""."""
    if claim.class_grade is None:
        return ""
    return f"{claim.class_grade}.{claim.class_letter}"


# The three claim lists: their base rows and the status they show unless asked otherwise.
CLAIM_LISTS = {
    "claims": (lambda user: visible_claims(user), ""),
    "claim_queue": (
        lambda user: visible_claims(user).filter(
            school_id__in=get_access(user).school_ids(Role.SOCIAL_PEDAGOGUE)
        ),
        ClaimStatus.SUBMITTED,
    ),
    "payments": (
        lambda user: visible_claims(user).filter(school__in=managed_schools(user)),
        ClaimStatus.APPROVED,
    ),
}


def claims_query(kind, user, params):
    base, default_status = CLAIM_LISTS[kind]
    return _filtered_claims(user, params, base(user), default_status=default_status)


def _claims_export(kind):
    def export(user, params):
        _form, claims = claims_query(kind, user, params)
        return ExportSpec(
            queryset=claims,
            rows=lambda: payment_rows(
                with_class_at_the_time(claims).order_by("month", "code"),
                with_payments=kind == "payments",
            ),
            filename="pieteikumi" if kind != "payments" else "izmaksas",
            title=_("Compensation claims"),
            schools=export_schools(user, claims),
        )

    return export


for _kind in CLAIM_LISTS:
    register_export(_kind)(_claims_export(_kind))

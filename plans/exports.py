"""The plan list's query and its export (CSV and XLSX from one row generator)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from iap_portal.exports import ExportSpec, choice_labels, register_export
from students.access import current_school_year, export_schools, visible_class_groups
from students.models import Semester

from .access import visible_plans
from .filters import PlanFilter
from .models import PlanStatus, SupportPlan


def plan_rows(plans):
    yield [
        _("Plan code"),
        _("Pupil"),
        _("Semester"),
        _("Kind"),
        _("Status"),
        _("Preparer"),
        _("Submitted"),
        _("Approved"),
    ]
    # Plain values, not model instances, and the choice labels translated once: a large export
    # spent most of its time building models, in get_FOO_display() and in gettext.
    kinds = choice_labels(SupportPlan.Kind.choices)
    statuses = choice_labels(PlanStatus.choices)
    numbers = choice_labels(Semester.Number.choices)
    zone = timezone.get_current_timezone()  # looked up once, not per cell
    rows = plans.values_list(
        "code",
        "student__last_name",
        "student__first_name",
        "semester__school_year__start_year",
        "semester__number",
        "kind",
        "status",
        "preparer__first_name",
        "preparer__last_name",
        "preparer__username",
        "submitted_at",
        "first_approved_at",
    )
    for (
        code,
        last_name,
        first_name,
        start_year,
        number,
        kind,
        status,
        preparer_first,
        preparer_last,
        preparer_username,
        submitted_at,
        approved_at,
    ) in rows:
        yield [
            code,
            f"{last_name} {first_name}",
            f"{start_year}/{start_year + 1} {numbers[number]}",
            kinds.get(kind, kind),
            statuses.get(status, status),
            f"{preparer_first} {preparer_last}".strip() or preparer_username,
            submitted_at.astimezone(zone).date() if submitted_at else None,
            approved_at.astimezone(zone).date() if approved_at else None,
        ]


def plans_query(user, params):
    plans = (
        visible_plans(user)
        .select_related("student", "semester__school_year", "preparer")
        .order_by("-semester__start_date", "student__last_name", "student__first_name", "pk")
    )
    year = current_school_year(user)
    plan_filter = PlanFilter(
        params or None,
        queryset=plans,
        class_groups=visible_class_groups(user).filter(school_year=year),
        preparers_of=plans,
    )
    qs = plans
    if plan_filter.is_bound:
        qs = plan_filter.qs if plan_filter.is_valid() else plans.none()
    return plan_filter, qs


@register_export("plans")
def plans_export(user, params):
    _filter, qs = plans_query(user, params)
    return ExportSpec(
        queryset=qs,
        rows=lambda: plan_rows(qs),
        filename="plani",
        title=_("Plans"),
        schools=export_schools(user, qs),
    )

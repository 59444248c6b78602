"""What the approval route's queues read: how long a plan has waited at its level (in working
days, late past the level's setting), the queue above the school (plans by code, no pupil),
the need-to-know view of one plan, and the agency's figures per municipality."""

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from students.access import get_access
from students.models import ApprovalLevel, Enrollment, Municipality, Role

from .access import municipality_ids, upper_scope, waiting_for
from .hooks import annotate_budget, attach_budget, filter_budget
from .models import PlanRisk, PlanStatus, SupportMeasure


def working_days_between(start: date, end: date) -> int:
    """The working days (Monday to Friday) after ``start`` up to and including ``end``.
    Public holidays are not known to the portal and count as working days."""
    if end <= start:
        return 0
    weeks, rest = divmod((end - start).days, 7)
    extra = sum(1 for i in range(1, rest + 1) if (start + timedelta(weeks * 7 + i)).weekday() < 5)
    return weeks * 5 + extra


def late_after(level) -> int:
    """A plan waiting more working days than this at the level is late (a setting per level)."""
    return settings.IAP_APPROVAL_LATE_DAYS.get(str(level), 5)


def mark_budget(plans):
    """Set each queued plan's budget (``plans.hooks.attach_budget``); returns them."""
    return attach_budget(plans)


def mark_waiting(plans, today=None):
    """Set ``waited`` (working days at its level) and ``is_late`` on each plan; returns them."""
    today = today or timezone.localdate()
    for plan in plans:
        since = plan.waiting_since
        plan.waited = working_days_between(timezone.localdate(since), today) if since else 0
        plan.is_late = plan.waited > late_after(plan.approval_level)
    return plans


def grade_of_pupil():
    """The grade the plan's pupil learns in during the plan's school year (a subquery)."""
    return Subquery(
        Enrollment.objects.filter(
            student_id=OuterRef("student_id"), school_year_id=OuterRef("semester__school_year_id")
        ).values("class_group__grade")[:1]
    )


def _measures_sum(field):
    """A plan's measures' total of ``field`` (a subquery: the queue's count and page need no
    GROUP BY over every plan waiting, 2,000 in a large municipality)."""
    return Subquery(
        SupportMeasure.objects.filter(plan_id=OuterRef("pk"))
        .order_by()
        .values("plan_id")
        .annotate(total=Sum(field))
        .values("total")
    )


def upper_queue(user, *, school=None, min_amount=None, max_amount=None, budget=None):
    """The plans waiting for this user above the school, longest waiting first, with their
    grade, planned amount and hours, and their school's budget (``budget_state``: "none",
    "within", "over"; ``budget``: only those): what the queue shows instead of the pupil."""
    plans = annotate_budget(
        waiting_for(user)
        .select_related("school", "semester__school_year", "school_approved_by")
        .annotate(
            grade=grade_of_pupil(),
            amount=_measures_sum("planned_amount"),
            hours=_measures_sum("planned_hours"),
            waiting_from=Coalesce("level_since", "submitted_at"),
        )
        .order_by(F("waiting_from").asc(nulls_first=True), "pk")
    )
    if budget:
        plans = filter_budget(plans, budget)
    if school is not None:
        plans = plans.filter(school=school)
    if min_amount is not None:
        plans = plans.filter(amount__gte=min_amount)
    if max_amount is not None:
        plans = plans.filter(amount__lte=max_amount)
    return plans


def last_approved_at(plan):
    """When the plan was last approved at its route's last level (None: never)."""
    return (
        plan.status_changes.filter(
            from_status=PlanStatus.SUBMITTED, to_status__in=PlanStatus.ACTIVE
        )
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )


def _as_of(model, plan, at):
    """The plan's rows of ``model`` as they were at ``at`` (from its change history)."""
    records = model.history.filter(plan_id=plan.pk, history_date__lte=at).latest_of_each()
    return {r.id: r for r in records if r.history_type != "-"}


# What a measure is: changing one of these is a new measure, not a lower one.
_MEASURE_KIND = ("measure_type", "specialist_type_id", "compensation_category", "ngo_project_id")


def lowers_only(plan) -> bool:
    """Whether the revised plan only lowers what its last approval approved: no measure's hours
    or amount rose (equal is not a rise), no measure or risk was added and no measure became
    another kind of support; measures and risks removed, dates and texts changed are allowed.
    Compared with the plan's change history as of that approval: a plan without it (loaded in
    bulk) is never taken to lower only, and goes through the whole route."""
    at = last_approved_at(plan)
    if at is None:
        return False
    approved = _as_of(SupportMeasure, plan, at)
    for measure in plan.measures.all():
        before = approved.get(measure.pk)
        if before is None:
            return False
        if any(getattr(measure, f) != getattr(before, f) for f in _MEASURE_KIND):
            return False
        for figure in ("planned_hours", "planned_amount"):
            if (getattr(measure, figure) or 0) > (getattr(before, figure) or 0):
                return False
    risks_before = {r.risk_factor_id for r in _as_of(PlanRisk, plan, at).values()}
    return set(plan.risks.values_list("risk_factor_id", flat=True)) <= risks_before


def version(plan) -> str:
    """The plan's last change as the queue saw it: the bulk approval refuses a plan changed
    since (``plans.services.approve_plans``)."""
    return plan.updated_at.isoformat()


def need_to_know(plan):
    """What a level above the school sees of one plan: no pupil, no free text. Risk types
    (not the factors or their justifications) and measures with hours and amounts."""
    risk_types = sorted(
        {r.risk_factor.risk_type for r in plan.risks.select_related("risk_factor__risk_type")},
        key=lambda t: t.number,
    )
    measures = list(plan.measures.select_related("specialist_type", "ngo_project").order_by("pk"))
    grade = (
        Enrollment.objects.filter(
            student_id=plan.student_id, school_year_id=plan.semester.school_year_id
        )
        .values_list("class_group__grade", flat=True)
        .first()
    )
    return {
        "risk_types": risk_types,
        "measures": measures,
        "grade": grade,
        "amount": sum((m.planned_amount or 0) for m in measures),
        "hours": sum((m.planned_hours or 0) for m in measures),
    }


@dataclass
class Waiting:
    """How many plans wait at a level, and for how long (working days)."""

    limit: int = 5
    days: list = field(default_factory=list)

    @property
    def count(self):
        return len(self.days)

    @property
    def median(self):
        return statistics.median(self.days) if self.days else None

    @property
    def longest(self):
        return max(self.days) if self.days else None

    @property
    def late(self):
        return sum(1 for d in self.days if d > self.limit)


def waiting_by_municipality(user, today=None):
    """Per municipality in the user's scope: the plans waiting at each level, with the median
    and longest wait (working days). One query for the waiting plans (counted per day they
    arrived), one for the municipalities."""
    today = today or timezone.localdate()
    levels = list(ApprovalLevel)
    # One row per municipality, level and day the plans arrived there (a few hundred at
    # national size, however many plans wait).
    rows = (
        upper_scope(user)
        .filter(status=PlanStatus.SUBMITTED)
        .annotate(since=TruncDate(Coalesce("level_since", "submitted_at")))
        .order_by()
        .values_list("school__municipality_id", "approval_level", "since")
        .annotate(plans=Count("pk"))
    )
    figures = {}
    for municipality_id, level, since, plans in rows:
        waited = working_days_between(since, today) if since else 0
        per_level = figures.setdefault(
            municipality_id, {lvl: Waiting(limit=late_after(lvl)) for lvl in levels}
        )
        per_level[level].days.extend([waited] * plans)
    municipalities = Municipality.objects.order_by("name")
    if not get_access(user).has_role(Role.AGENCY):
        municipalities = municipalities.filter(pk__in=municipality_ids(user))
    empty = {lvl: Waiting(limit=late_after(lvl)) for lvl in levels}
    return [(m, [(lvl, figures.get(m.pk, empty)[lvl]) for lvl in levels]) for m in municipalities]

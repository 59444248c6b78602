"""What plans take from the early-warning signals: the lists of flagged pupils without a plan
or with a stalled one (the class teacher's home page), and a new plan's risks pre-filled from
the signals."""

from datetime import timedelta

from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from early_warning import indicators
from early_warning.indicators import FLAGGED, Level
from early_warning.lists import current_indicators
from early_warning.services import signals_for_plan
from students.models import Student

from .models import PlanRisk, PlanStatus, RiskFactor, SupportPlan

STALLED_DAYS = 30


def submitted_plans(semester):
    """The live plans of the semester past their draft (submitted, approved, …): only such a
    plan takes a flagged pupil off the call to action; an empty draft does not, nor a returned
    one until it is submitted again."""
    return SupportPlan.objects.live().filter(semester=semester).exclude(status=PlanStatus.DRAFT)


def plan_annotations(semester):
    """For an indicator queryset: ``has_plan`` (a submitted plan of the semester) and
    ``draft_plan_id`` (the pupil's unsubmitted draft of the semester, to open instead of
    creating a plan that would be refused)."""
    return {
        "has_plan": Exists(submitted_plans(semester).filter(student=OuterRef("student"))),
        "draft_plan_id": Subquery(
            SupportPlan.objects.filter(
                semester=semester, student=OuterRef("student"), status=PlanStatus.DRAFT
            )
            .order_by("kind", "pk")
            .values("pk")[:1]
        ),
    }


def support_periods(student):
    """The pupil's counted plans as (first day, last day, first measure's start), for the
    early-warning chart: a plan covers its measures' period, else its semester."""
    plans = (
        SupportPlan.objects.filter(student=student, first_approved_at__isnull=False)
        .exclude(status=PlanStatus.INACTIVE)
        .annotate(
            measures_from=Min("measures__start_date"), measures_until=Max("measures__end_date")
        )
        .select_related("semester")
    )
    return [
        (
            plan.measures_from or plan.semester.start_date,
            plan.measures_until or plan.semester.end_date,
            plan.measures_from,
        )
        for plan in plans
    ]


def flagged_without_plan(students, semester):
    """Pupils among ``students`` flagged "at risk" or higher with no submitted plan this
    semester: the class teacher's call to action. Each has ``draft_plan_id`` when a draft of
    the semester exists (the action is then to finish it, not to create one)."""
    annotations = plan_annotations(semester)
    return (
        current_indicators(semester)
        .filter(student__in=students, level__gte=FLAGGED, student__status=Student.Status.ACTIVE)
        .annotate(**annotations)
        .filter(has_plan=False)
        .select_related("student", "period")
        .order_by("-level", "student__last_name", "student__first_name", "pk")
    )


def flagged_stalled_plans(plans, semester, today=None):
    """Running plans of flagged pupils with no consultation for 30 days (or none since an
    approval more than 30 days ago)."""
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=STALLED_DAYS)
    flagged = current_indicators(semester).filter(student=OuterRef("student"), level__gte=FLAGGED)
    return (
        plans.filter(semester=semester, status__in=PlanStatus.RUNNING)
        .filter(Exists(flagged))
        .annotate(last_consultation=Max("measures__consultations__date"))
        .filter(
            Q(last_consultation__lt=cutoff)
            | Q(last_consultation__isnull=True, first_approved_at__date__lt=cutoff)
        )
        .select_related("student")
        .order_by("last_consultation", "student__last_name", "pk")
    )


# --- Pre-filling a plan's risks -----------------------------------------------------------------

# Trigger -> the code of the national risk factor it points to (risk type 1, learning and
# school related; the codes of migrations/0006_risk_factor_versions.py). A factor keeps its
# code when IKVD renames it, so the pre-fill finds its newest version.
FACTOR_OF_TRIGGER = {
    indicators.ATTENDANCE: "biezi-kavejumi",
    indicators.UNEXCUSED: "neattaisnoti-kavejumi",
    indicators.FAILING: "zemi-macibu-sasniegumi",
    indicators.AVERAGE_DROP: "zemi-macibu-sasniegumi",
    indicators.CONDUCT: "uzvedibas-problemas",
}
PLAN_RISK_LEVEL = {Level.WATCH: "low", Level.AT_RISK: "medium", Level.HIGH: "high"}


def prefill_suggestions(indicator):
    """[(risk factor, level, justification)] for the indicator's triggers, one per factor: the
    national factor in use with the trigger's code (a code taken out of use suggests nothing)."""
    if indicator is None or indicator.level == Level.NONE:
        return []
    by_code = {}
    for trigger in indicator.triggers:
        code = FACTOR_OF_TRIGGER.get(trigger["code"])
        if code is None:
            continue
        entry = by_code.setdefault(code, {"level": 0, "reasons": []})
        entry["level"] = max(entry["level"], trigger["level"])
        entry["reasons"].append(indicators.describe(trigger))
    if not by_code:
        return []
    factors = RiskFactor.objects.newest_national(by_code)
    intro = _("E-journal data for %(period)s:") % {"period": indicator.period}
    return [
        (factors[code], entry["level"], " ".join([intro, *entry["reasons"]]))
        for code, entry in by_code.items()
        if code in factors
    ]


def prefill_plan_risks(*, plan):
    """Add the risks the pupil's early-warning signals point to, with the figures as the
    justification's starting text (the preparer edits them). Returns how many were added."""
    suggestions = prefill_suggestions(signals_for_plan(plan.student, plan.semester))
    if not suggestions:
        return 0
    existing = set(plan.risks.values_list("risk_factor__code", flat=True))
    added = 0
    for factor, level, justification in suggestions:
        if factor.code in existing:
            continue
        PlanRisk.objects.create(
            plan=plan,
            risk_factor=factor,
            level=PLAN_RISK_LEVEL.get(level, ""),
            justification=justification,
        )
        added += 1
    return added

"""The early-warning lists shown on other pages; each is one query whatever the data size."""

from datetime import timedelta

from django.db.models import Exists, F, FilteredRelation, Max, OuterRef, Q
from django.utils import timezone

from plans.models import PlanStatus, SupportPlan
from students.models import Student

from .models import FLAGGED, Indicator, Period

STALLED_DAYS = 30
RUNNING = [PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, PlanStatus.REVISION]


def current_indicators(semester):
    """Indicators of each school's latest period in the semester."""
    return Indicator.objects.filter(period__in=Period.objects.latest_per_school(semester))


def with_class(indicators, school_year_id):
    """Annotate each indicator with the pupil's class of that school year (a pupil has at most
    one class a year, so the join adds no rows)."""
    return indicators.annotate(
        year_class=FilteredRelation(
            "student__enrollments",
            condition=Q(student__enrollments__school_year_id=school_year_id),
        )
    ).annotate(
        class_grade=F("year_class__class_group__grade"),
        class_letter=F("year_class__class_group__letter"),
    )


def flagged_without_plan(students, semester):
    """Pupils among ``students`` flagged "at risk" or higher with no live plan this semester:
    the class teacher's call to action."""
    plans = SupportPlan.objects.live().filter(semester=semester, student=OuterRef("student"))
    return (
        current_indicators(semester)
        .filter(student__in=students, level__gte=FLAGGED, student__status=Student.Status.ACTIVE)
        .exclude(Exists(plans))
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
        plans.filter(semester=semester, status__in=RUNNING)
        .filter(Exists(flagged))
        .annotate(last_consultation=Max("measures__consultations__date"))
        .filter(
            Q(last_consultation__lt=cutoff)
            | Q(last_consultation__isnull=True, first_approved_at__date__lt=cutoff)
        )
        .select_related("student")
        .order_by("last_consultation", "student__last_name", "pk")
    )

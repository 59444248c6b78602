"""The early-warning lists shown on other pages; each is one query whatever the data size."""

from django.db.models import F, FilteredRelation, Q

from .models import Indicator, Period


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

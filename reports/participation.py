"""Participation in the programme, computed in the database.

A pupil counts in a semester when a plan of that semester was approved at least once and is
not deleted (inactive); a pupil with several plans counts once. Every figure comes from a
grouped, filtered aggregate, so the number of queries does not grow with the data.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from compensations.models import CompensationClaim, money_sums
from early_warning.indicators import FLAGGED
from early_warning.models import Indicator
from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    SupportMeasure,
    SupportPlan,
)
from students.models import Semester, Student

SMALL = 3  # counts below this (but above zero) are shown as "<3" above school level


def counted(schools, semester=None, prefix=""):
    """The condition "a counted plan" on the plan reached through ``prefix`` ("plan__", …).

    Written as a plain join condition rather than ``plan__in=<plans>``: the planner then joins
    straight through the small set of one semester's plans. ``schools=None`` means every school
    (the agency's scope), with no school condition at all."""
    condition = Q(**{f"{prefix}first_approved_at__isnull": False}) & ~Q(
        **{f"{prefix}status": PlanStatus.INACTIVE}
    )
    if schools is not None:
        condition &= Q(**{f"{prefix}school__in": schools})
    if semester is not None:
        condition &= Q(**{f"{prefix}semester": semester})
    return condition


def counted_plans(schools):
    """Plans approved at least once and not deleted; ``schools=None`` for all schools."""
    return SupportPlan.objects.filter(counted(schools))


@dataclass
class Cell:
    """A pupil count, suppressed when it could single out a child."""

    value: int
    suppress: bool = False

    @property
    def hidden(self):
        return self.suppress and 0 < self.value < SMALL

    def __str__(self):
        return "<3" if self.hidden else str(self.value)

    def export(self):
        return "<3" if self.hidden else self.value


@dataclass
class Table:
    title: str
    columns: list
    rows: list = field(default_factory=list)  # each: list of str / Cell / Decimal

    def export_rows(self):
        yield [str(c) for c in self.columns]
        for row in self.rows:
            yield [c.export() if isinstance(c, Cell) else c for c in row]


def year_label(start_year):
    return f"{start_year}/{start_year + 1}"


def participation_by_semester(schools, *, suppress=False):
    """School years as rows, semesters I and II as columns: distinct pupils (one query).

    Counted per semester in a subquery that the partial index ``plan_counted_pupils`` answers
    from the index alone, without touching pupils or schools."""
    pupils = (
        counted_plans(schools)
        .filter(semester=OuterRef("pk"))
        .order_by()
        .values("semester")
        .annotate(pupils=Count("student", distinct=True))
        .values("pupils")
    )
    rows = (
        Semester.objects.annotate(pupils=Subquery(pupils))
        .filter(pupils__gt=0)
        .values("school_year__start_year", "number", "pupils")
    )
    by_year = {}
    for row in rows:
        year = row["school_year__start_year"]
        by_year.setdefault(year, {})[row["number"]] = row["pupils"]
    table = Table(
        title=_("Pupils in the programme"),
        columns=[_("School year"), _("Semester I"), _("Semester II")],
    )
    for year in sorted(by_year):
        table.rows.append(
            [
                year_label(year),
                Cell(by_year[year].get(1, 0), suppress),
                Cell(by_year[year].get(2, 0), suppress),
            ]
        )
    return table


def flagged_plan_share(schools, *, suppress=False):
    """Per semester: the pupils flagged "at risk" or higher by the early warning in any period
    of the semester, and how many of them have a counted plan of that semester (one query).

    Above school level a share is hidden whenever one of its counts is."""
    plans = counted_plans(schools).filter(
        student=OuterRef("student"), semester=OuterRef("period__semester")
    )
    indicators = Indicator.objects.filter(level__gte=FLAGGED)
    if schools is not None:
        indicators = indicators.filter(period__school__in=schools)
    rows = (
        indicators.annotate(has_plan=Exists(plans))
        .values("period__semester__school_year__start_year", "period__semester__number")
        .annotate(
            flagged=Count("student_id", distinct=True),
            with_plan=Count("student_id", distinct=True, filter=Q(has_plan=True)),
        )
        .order_by("period__semester__school_year__start_year", "period__semester__number")
    )
    table = Table(
        title=_("Flagged pupils who received a plan"),
        columns=[
            _("School year"),
            _("Semester"),
            _("Flagged pupils"),
            _("With a plan"),
            _("Share, %"),
        ],
    )
    for row in rows:
        flagged = Cell(row["flagged"], suppress)
        with_plan = Cell(row["with_plan"], suppress)
        share = ""
        if not (flagged.hidden or with_plan.hidden) and row["flagged"]:
            share = (Decimal(row["with_plan"]) * 100 / row["flagged"]).quantize(Decimal("0.1"))
        table.rows.append(
            [
                year_label(row["period__semester__school_year__start_year"]),
                "I" if row["period__semester__number"] == 1 else "II",
                flagged,
                with_plan,
                share,
            ]
        )
    return table


def participation_by_school(schools, semester, *, suppress=True):
    """Per school and per municipality, for one semester (two queries)."""
    plans = SupportPlan.objects.filter(counted(schools, semester))
    per_school = (
        plans.values("school__municipality__name", "school__name")
        .annotate(pupils=Count("student_id", distinct=True))
        .order_by("school__municipality__name", "school__name")
    )
    per_municipality = (
        plans.values("school__municipality__name")
        .annotate(pupils=Count("student_id", distinct=True))
        .order_by("school__municipality__name")
    )
    schools_table = Table(title=_("Schools"), columns=[_("Municipality"), _("School"), _("Pupils")])
    for row in per_school:
        schools_table.rows.append(
            [
                row["school__municipality__name"],
                row["school__name"],
                Cell(row["pupils"], suppress),
            ]
        )
    municipalities = Table(title=_("Municipalities"), columns=[_("Municipality"), _("Pupils")])
    for row in per_municipality:
        municipalities.rows.append(
            [row["school__municipality__name"], Cell(row["pupils"], suppress)]
        )
    return schools_table, municipalities


def semester_breakdowns(schools, semester, *, suppress=False):
    """The breakdowns of one semester: grade, gender, risk type, measures, money, outcomes."""
    plans = SupportPlan.objects.filter(counted(schools, semester))
    measures = SupportMeasure.objects.filter(counted(schools, semester, "plan__"))
    return [
        _by_grade(plans, semester, suppress),
        _by_gender(plans, suppress),
        _by_risk_type(schools, semester, suppress),
        _by_measure(schools, semester, measures, suppress),
        _compensations(schools, semester, measures),
        _by_outcome(schools, semester, suppress),
    ]


def _by_grade(plans, semester, suppress):
    grades = (
        plans.annotate(
            year_class=FilteredRelation(
                "student__enrollments",
                condition=Q(student__enrollments__school_year_id=semester.school_year_id),
            )
        )
        .values("year_class__class_group__grade")
        .annotate(pupils=Count("student_id", distinct=True))
        .order_by("year_class__class_group__grade")
    )
    table = Table(title=_("By grade"), columns=[_("Grade"), _("Pupils")])
    for row in grades:
        grade = row["year_class__class_group__grade"]
        table.rows.append(
            [f"{grade}." if grade else _("not in a class"), Cell(row["pupils"], suppress)]
        )
    return table


def _by_gender(plans, suppress):
    genders = dict(Student.Gender.choices)
    table = Table(title=_("By gender"), columns=[_("Gender"), _("Pupils")])
    for row in (
        plans.values("student__gender")
        .annotate(pupils=Count("student_id", distinct=True))
        .order_by("student__gender")
    ):
        label = genders.get(row["student__gender"], _("not given"))
        table.rows.append([label, Cell(row["pupils"], suppress)])
    return table


def _by_risk_type(schools, semester, suppress):
    table = Table(title=_("By risk type"), columns=[_("Risk type"), _("Pupils")])
    for row in (
        PlanRisk.objects.filter(counted(schools, semester, "plan__"))
        .values("risk_factor__risk_type__number", "risk_factor__risk_type__name")
        .annotate(pupils=Count("plan__student_id", distinct=True))
        .order_by("risk_factor__risk_type__number")
    ):
        table.rows.append(
            [
                f"{row['risk_factor__risk_type__number']}. {row['risk_factor__risk_type__name']}",
                Cell(row["pupils"], suppress),
            ]
        )
    return table


def _by_measure(schools, semester, measures, suppress):
    delivered = {
        (row["measure__measure_type"], row["measure__specialist_type__name"]): row["minutes"]
        for row in Consultation.objects.filter(counted(schools, semester, "measure__plan__"))
        .values("measure__measure_type", "measure__specialist_type__name")
        .annotate(minutes=Sum("minutes"))
    }
    types = dict(SupportMeasure.Type.choices)
    table = Table(
        title=_("By measure"),
        columns=[
            _("Measure"),
            _("Specialist"),
            _("Pupils"),
            _("Planned hours"),
            _("Delivered hours"),
        ],
    )
    for row in (
        measures.values("measure_type", "specialist_type__name")
        .annotate(
            pupils=Count("plan__student_id", distinct=True),
            planned=Sum("planned_hours"),
        )
        .order_by("measure_type", "specialist_type__name")
    ):
        key = (row["measure_type"], row["specialist_type__name"])
        minutes = delivered.get(key) or 0
        is_consultation = row["measure_type"] == SupportMeasure.Type.CONSULTATION
        table.rows.append(
            [
                types.get(row["measure_type"], row["measure_type"]),
                row["specialist_type__name"] or "",
                Cell(row["pupils"], suppress),
                row["planned"] if is_consultation else "",
                (Decimal(minutes) / 60).quantize(Decimal("0.1")) if is_consultation else "",
            ]
        )
    return table


def _compensations(schools, semester, measures):
    categories = dict(CompensationCategory.choices)
    planned = {
        row["compensation_category"]: row["planned"]
        for row in measures.filter(measure_type=SupportMeasure.Type.COMPENSATION)
        .values("compensation_category")
        .annotate(planned=Sum("planned_amount"))
    }
    table = Table(
        title=_("Compensations, EUR"),
        columns=[_("Category"), _("Planned"), _("Claimed"), _("Approved"), _("Paid")],
    )
    claims = (
        CompensationClaim.objects.filter(counted(schools, semester, "plan__"))
        .values("measure__compensation_category")
        .annotate(**money_sums())
    )
    sums = {row["measure__compensation_category"]: row for row in claims}
    zero = Decimal("0.00")
    for category in sorted(set(planned) | set(sums)):
        row = sums.get(category, {})
        table.rows.append(
            [
                categories.get(category, category),
                planned.get(category) or zero,
                row.get("claimed") or zero,
                row.get("approved") or zero,
                row.get("paid") or zero,
            ]
        )
    return table


def _by_outcome(schools, semester, suppress):
    outcomes = dict(SupportPlan.Outcome.choices)
    table = Table(title=_("By evaluation outcome"), columns=[_("Outcome"), _("Pupils")])
    for row in (
        PlanEvaluation.objects.filter(counted(schools, semester, "plan__"))
        .values("overall_outcome")
        .annotate(pupils=Count("plan__student_id", distinct=True))
        .order_by("overall_outcome")
    ):
        table.rows.append(
            [
                outcomes.get(row["overall_outcome"], row["overall_outcome"]),
                Cell(row["pupils"], suppress),
            ]
        )
    return table

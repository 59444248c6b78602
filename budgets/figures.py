"""What a school's budget shows: its allocation for a school year against the compensations
planned in approved plans, approved in claims and paid, per semester and category; and the
same per school and municipality for the levels above. Every figure is a sum read with one
GROUP BY query, however many plans and claims there are.

- planned: the approved amounts (``SupportMeasure.approved_amount``: what the plan's last
  approval approved) of the compensation measures of the plans counted as approved — approved
  at the route's last level at least once and not deleted, as the participation report counts
  them;
- approved in claims: the claims granted (approved or paid, ``ClaimStatus.GRANTED``);
- paid: the claims paid;
- remaining: allocated − approved in claims (what claims may still draw);
- not yet planned: allocated − planned (what plans may still commit).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from compensations.models import ClaimStatus, CompensationClaim
from plans.models import CompensationCategory, Consultation, PlanStatus, SupportMeasure
from students.models import School, SchoolYear

from .models import Allocation

ZERO = Decimal("0.00")


def counted_plans(prefix="plan__"):
    """The plans whose planned compensations count against the budget (a filter)."""
    return Q(**{f"{prefix}first_approved_at__isnull": False}) & ~Q(
        **{f"{prefix}status": PlanStatus.INACTIVE}
    )


def compensation_measures(*, school_year, schools=None):
    measures = SupportMeasure.objects.filter(
        counted_plans(),
        measure_type=SupportMeasure.Type.COMPENSATION,
        plan__semester__school_year=school_year,
    )
    return measures if schools is None else measures.filter(plan__school__in=schools)


def granted_claims(*, school_year, schools=None):
    claims = CompensationClaim.objects.filter(
        status__in=ClaimStatus.GRANTED, plan__semester__school_year=school_year
    )
    return claims if schools is None else claims.filter(school__in=schools)


def _sum(field_name, **filter_kwargs):
    return Coalesce(
        Sum(field_name, **filter_kwargs),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


@dataclass
class Money:
    """Planned, approved in claims and paid: one cell of the budget's tables."""

    planned: Decimal = ZERO
    approved: Decimal = ZERO
    paid: Decimal = ZERO

    def add(self, other):
        self.planned += other.planned
        self.approved += other.approved
        self.paid += other.paid


@dataclass
class Hours:
    planned: Decimal = Decimal("0.0")
    delivered: Decimal = Decimal("0.0")


@dataclass
class Figures:
    """A budget's totals against an allocation (``allocated`` None: no allocation set)."""

    allocated: Decimal | None
    money: Money = field(default_factory=Money)

    @property
    def has_allocation(self):
        return self.allocated is not None

    @property
    def remaining(self):
        """Allocated − approved in claims."""
        return None if self.allocated is None else self.allocated - self.money.approved

    @property
    def unplanned(self):
        """Allocated − planned in approved plans."""
        return None if self.allocated is None else self.allocated - self.money.planned

    @property
    def is_over(self):
        return self.allocated is not None and (
            self.money.approved > self.allocated or self.money.planned > self.allocated
        )


@dataclass
class SemesterBudget:
    semester: object
    categories: list  # [(category label, Money)]
    total: Money
    hours: Hours


@dataclass
class SchoolBudget:
    school: School
    school_year: SchoolYear
    allocation: Allocation | None
    figures: Figures
    semesters: list
    hours: Hours
    categories: list  # the whole year: [(category label, Money)]

    @property
    def hours_allocated(self):
        return None if self.allocation is None else self.allocation.consultation_hours

    @property
    def hours_remaining(self):
        allocated = self.hours_allocated
        return None if allocated is None else allocated - self.hours.planned


def school_budget(school, school_year) -> SchoolBudget:
    """The school's budget for the year, per semester and category. Five queries: the
    allocation, the semesters, the planned sums, the claims' sums, the consultation hours
    planned and delivered."""
    allocation = (
        Allocation.objects.filter(school=school, school_year=school_year)
        .select_related("set_by")
        .first()
    )
    semesters = list(school_year.semesters.order_by("number"))
    cells = {}  # (semester id, category) -> Money
    planned = (
        compensation_measures(school_year=school_year, schools=[school])
        .order_by()
        .values_list("plan__semester_id", "compensation_category")
        .annotate(total=_sum("approved_amount"))
    )
    for semester_id, category, total in planned:
        cells.setdefault((semester_id, category), Money()).planned = total
    claims = (
        granted_claims(school_year=school_year, schools=[school])
        .order_by()
        .values_list("plan__semester_id", "measure__compensation_category")
        .annotate(approved=_sum("total"), paid=_sum("total", filter=Q(status=ClaimStatus.PAID)))
    )
    for semester_id, category, approved, paid in claims:
        cell = cells.setdefault((semester_id, category), Money())
        cell.approved, cell.paid = approved, paid
    hours = _hours_per_semester(school, school_year)

    year_total = Money()
    year_categories = {category: Money() for category in CompensationCategory}
    rows = []
    for semester in semesters:
        total = Money()
        categories = []
        for category in CompensationCategory:
            cell = cells.get((semester.pk, category), Money())
            total.add(cell)
            year_categories[category].add(cell)
            categories.append((category.label, cell))
        year_total.add(total)
        rows.append(SemesterBudget(semester, categories, total, hours.get(semester.pk, Hours())))
    year_hours = Hours(
        planned=sum((h.planned for h in hours.values()), Decimal("0.0")),
        delivered=sum((h.delivered for h in hours.values()), Decimal("0.0")),
    )
    return SchoolBudget(
        school=school,
        school_year=school_year,
        allocation=allocation,
        figures=Figures(
            allocated=allocation.compensations if allocation else None, money=year_total
        ),
        semesters=rows,
        hours=year_hours,
        categories=[(c.label, year_categories[c]) for c in CompensationCategory],
    )


def _hours_per_semester(school, school_year):
    """{semester id: Hours}: the approved hours of the counted plans' consultations, and the
    hours delivered on them."""
    counted = Q(
        counted_plans(),
        measure_type=SupportMeasure.Type.CONSULTATION,
        plan__school=school,
        plan__semester__school_year=school_year,
    )
    hours = {}
    planned = (
        SupportMeasure.objects.filter(counted)
        .order_by()
        .values_list("plan__semester_id")
        .annotate(total=Sum("approved_hours"))
    )
    for semester_id, total in planned:
        hours.setdefault(semester_id, Hours()).planned = total or Decimal("0.0")
    delivered = (
        Consultation.objects.filter(
            counted_plans("measure__plan__"),
            measure__measure_type=SupportMeasure.Type.CONSULTATION,
            measure__plan__school=school,
            measure__plan__semester__school_year=school_year,
        )
        .order_by()
        .values_list("measure__plan__semester_id")
        .annotate(minutes=Sum("minutes"))
    )
    for semester_id, minutes in delivered:
        hours.setdefault(semester_id, Hours()).delivered = (Decimal(minutes or 0) / 60).quantize(
            Decimal("0.1")
        )
    return hours


@dataclass
class TableRow:
    """One school's or municipality's line of the budget table."""

    name: str
    figures: Figures
    school: School | None = None
    schools_without_allocation: int = 0


def budget_table(schools, school_year):
    """The budget per school (the ``schools`` queryset, by name) and per municipality (summed
    from its schools in ``schools``) for the year: four queries whatever the number of schools
    (the schools, their allocations, the planned sums, the claims' sums). Returns (school rows,
    municipality rows, the total row)."""
    schools = list(schools.select_related("municipality").order_by("name", "pk"))
    ids = [s.pk for s in schools]
    allocated = dict(
        Allocation.objects.filter(school_id__in=ids, school_year=school_year).values_list(
            "school_id", "compensations"
        )
    )
    money = {pk: Money() for pk in ids}
    planned = (
        compensation_measures(school_year=school_year)
        .filter(plan__school_id__in=ids)
        .order_by()
        .values_list("plan__school_id")
        .annotate(total=_sum("approved_amount"))
    )
    for school_id, total in planned:
        money[school_id].planned = total
    claims = (
        granted_claims(school_year=school_year)
        .filter(school_id__in=ids)
        .order_by()
        .values_list("school_id")
        .annotate(approved=_sum("total"), paid=_sum("total", filter=Q(status=ClaimStatus.PAID)))
    )
    for school_id, approved, paid in claims:
        money[school_id].approved, money[school_id].paid = approved, paid

    rows, per_municipality = [], {}
    total = TableRow(name="", figures=Figures(allocated=ZERO))
    for school in schools:
        figures = Figures(allocated=allocated.get(school.pk), money=money[school.pk])
        rows.append(TableRow(name=school.name, figures=figures, school=school))
        municipality = per_municipality.setdefault(
            school.municipality_id,
            TableRow(name=school.municipality.name, figures=Figures(allocated=ZERO)),
        )
        for row in (municipality, total):
            row.figures.money.add(figures.money)
            if figures.allocated is None:
                row.schools_without_allocation += 1
            else:
                row.figures.allocated += figures.allocated
    municipalities = sorted(per_municipality.values(), key=lambda row: row.name)
    return rows, municipalities, total

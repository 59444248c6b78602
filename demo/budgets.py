"""Demo allocations for the demo schools (called by ``load_demo``, after the plans and
claims, which they do not change).

Each demo school gets an allocation for the current school year, set the way people set them:
IKVD sets Preiļu 1. pamatskola's and Līvānu Valsts tehnikums', the Līvānu municipal
coordinator Līvānu 1. vidusskola's. The figures follow what the demo's plans and claims came
to, so that the pages show a school well within its budget (Preiļu, with consultation hours
too), one with room to spare (the tehnikums) and one near its limit: Līvānu 1. vidusskola has
just enough not yet planned for its smallest plan waiting at the municipality, so in the
municipal coordinator's queue some waiting plans are within budget and the others over it.
Idempotent: a school that has an allocation for the year is left alone.
"""

from decimal import ROUND_CEILING, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Sum

from budgets import figures
from budgets.models import Allocation
from budgets.services import AllocationValues, set_allocations
from plans.models import SupportMeasure
from students.models import ApprovalLevel, School, SchoolYear

PREILI = "4212900251"
LIVANI_SCHOOL = "4313900117"
LIVANI_TECHNIKUM = "3111800123"


def _round_up(amount, step):
    return (Decimal(amount) / step).to_integral_value(rounding=ROUND_CEILING) * step


def _planned_and_approved(school, year):
    budget = figures.school_budget(school, year)
    return budget.figures.money.planned, budget.figures.money.approved, budget.hours.planned


def _smallest_waiting_plan(school, year):
    """The smallest compensations of a plan waiting at the municipality (None: none waits)."""
    sums = (
        SupportMeasure.objects.filter(
            plan__school=school,
            plan__semester__school_year=year,
            plan__status="submitted",
            plan__approval_level=ApprovalLevel.MUNICIPALITY,
            measure_type=SupportMeasure.Type.COMPENSATION,
        )
        .order_by()
        .values("plan_id")
        .annotate(total=Sum("planned_amount"))
        .values_list("total", flat=True)
    )
    return min(sums, default=None)


def create_demo_allocations(*, today):
    """Set the demo schools' allocations for the current school year (once)."""
    year = SchoolYear.objects.current(today)
    if year is None:
        return
    User = get_user_model()
    agency = User.objects.filter(username="ikvd").first()
    municipal = User.objects.filter(username="pasvaldiba2").first()
    schools = {s.registration_number: s for s in School.objects.select_related("municipality")}
    taken = set(Allocation.objects.filter(school_year=year).values_list("school_id", flat=True))

    def wanted(number):
        school = schools.get(number)
        return school if school is not None and school.pk not in taken else None

    preili = wanted(PREILI)
    if preili is not None and agency is not None:
        planned, approved, hours = _planned_and_approved(preili, year)
        set_allocations(
            school_year=year,
            values={
                preili: AllocationValues(
                    compensations=_round_up(max(planned, approved) * Decimal("1.5") + 1, 500),
                    consultation_hours=_round_up(hours * Decimal("1.25") + 1, 10),
                )
            },
            by=agency,
        )
    technikum = wanted(LIVANI_TECHNIKUM)
    if technikum is not None and agency is not None:
        planned, approved, _hours = _planned_and_approved(technikum, year)
        set_allocations(
            school_year=year,
            values={technikum: AllocationValues(_round_up(max(planned, approved) + 400, 100))},
            by=agency,
        )
    school = wanted(LIVANI_SCHOOL)
    if school is not None and municipal is not None:
        planned, approved, _hours = _planned_and_approved(school, year)
        smallest = _smallest_waiting_plan(school, year) or Decimal("0")
        set_allocations(
            school_year=year,
            values={school: AllocationValues(max(planned, approved) + smallest + 10)},
            by=municipal,
        )

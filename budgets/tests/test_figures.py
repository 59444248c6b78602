"""The budget's figures on a small known data set, exactly: what counts as planned (approved
plans only, their approved amounts), approved and paid (granted claims), per semester and
category, and nothing of another school or school year."""

from datetime import date
from decimal import Decimal

import pytest

from budgets import figures
from budgets.tests.helpers import allocate, approved_plan, claim, draft_plan
from compensations.models import ClaimStatus
from plans.models import CompensationCategory, Consultation, PlanStatus, SupportPlan
from students.models import School

T = CompensationCategory.TRANSPORT_TICKETS
M = CompensationCategory.MEALS
L = CompensationCategory.LEARNING_MATERIALS


@pytest.fixture
def known(cast):
    """Allocation 1 000,00 € and 20 h for the cast's school this year.

    Semester I: plan A (transport 200, meals 150; claims: transport 50 approved, 30 paid,
    20 submitted, 40 rejected), a draft with transport 500 (not counted), a deleted plan
    once approved with meals 70 (not counted), a plan under revision approved with 80
    learning materials and now planning 120 (80 counts).
    Semester II: plan B (meals 100; a paid claim of 25).
    Last year: a plan with transport 999 and a paid claim of 999 (another year).
    The other school: transport 333 approved in claims (another school)."""
    first, second = cast.year.semesters.order_by("number")
    allocate(cast.school, cast.year, "1000.00", hours="20", by=cast.agency)
    a = approved_plan(cast, semester=first, compensations=[(T, "200.00"), (M, "150.00")])
    transport = a.measures.get(compensation_category=T)
    claim(transport, "50.00", by=cast.class_teacher)
    claim(transport, "30.00", ClaimStatus.PAID, by=cast.class_teacher)
    claim(transport, "20.00", ClaimStatus.SUBMITTED, by=cast.class_teacher)
    claim(transport, "40.00", ClaimStatus.REJECTED, by=cast.class_teacher)
    Consultation.objects.create(
        measure=a.measures.get(measure_type="consultation"),
        date=first.start_date,
        minutes=90,
        topic="Saruna",
        provider=cast.specialist,
    )
    draft_plan(cast, semester=first, compensations=[(T, "500.00")])
    deleted = approved_plan(cast, semester=first, compensations=[(M, "70.00")])
    SupportPlan.objects.filter(pk=deleted.pk).update(status=PlanStatus.INACTIVE)
    revised = approved_plan(
        cast, semester=first, compensations=[(L, "80.00")], status=PlanStatus.REVISION
    )
    revised.measures.filter(compensation_category=L).update(planned_amount=Decimal("120.00"))
    b = approved_plan(cast, semester=second, compensations=[(M, "100.00")])
    claim(b.measures.get(compensation_category=M), "25.00", ClaimStatus.PAID, by=cast.class_teacher)
    old = approved_plan(
        cast, semester=cast.last_year.semesters.get(number=1), compensations=[(T, "999.00")]
    )
    claim(
        old.measures.get(compensation_category=T), "999.00", ClaimStatus.PAID, by=cast.class_teacher
    )
    return first, second


def cell(semester_budget, category):
    return dict(semester_budget.categories)[category.label]


def test_it_sums_the_year_per_semester_and_category_exactly(cast, known):
    budget = figures.school_budget(cast.school, cast.year)
    first, second = budget.semesters
    assert cell(first, T) == figures.Money(Decimal("200.00"), Decimal("80.00"), Decimal("30.00"))
    assert cell(first, M) == figures.Money(Decimal("150.00"), Decimal("0.00"), Decimal("0.00"))
    assert cell(first, L) == figures.Money(Decimal("80.00"), Decimal("0.00"), Decimal("0.00"))
    assert first.total == figures.Money(Decimal("430.00"), Decimal("80.00"), Decimal("30.00"))
    assert cell(second, M) == figures.Money(Decimal("100.00"), Decimal("25.00"), Decimal("25.00"))
    assert second.total == figures.Money(Decimal("100.00"), Decimal("25.00"), Decimal("25.00"))
    year = budget.figures
    assert year.allocated == Decimal("1000.00")
    assert year.money == figures.Money(Decimal("530.00"), Decimal("105.00"), Decimal("55.00"))
    assert year.remaining == Decimal("895.00")  # allocated − approved in claims
    assert year.unplanned == Decimal("470.00")  # allocated − planned
    assert not year.is_over


def test_it_counts_consultation_hours_against_the_hours_allocated(cast, known):
    budget = figures.school_budget(cast.school, cast.year)
    # Three plans counted with 6 h each (A, the revised one, B; the deleted one is not).
    assert budget.hours.planned == Decimal("18.0")
    assert budget.hours.delivered == Decimal("1.5")
    assert budget.hours_allocated == Decimal("20.0")
    assert budget.hours_remaining == Decimal("2.0")
    assert [s.hours.planned for s in budget.semesters] == [Decimal("12.0"), Decimal("6.0")]


def test_the_table_sums_schools_and_municipalities(cast, known):
    outsider = approved_plan(
        cast,
        semester=known[0],
        compensations=[(T, "333.00")],
        student=cast.outsider_student,
    )
    claim(outsider.measures.get(compensation_category=T), "333.00", by=cast.class_teacher)
    rows, municipalities, total = figures.budget_table(School.objects.all(), cast.year)
    by_name = {row.name: row for row in rows}
    own = by_name[cast.school.name].figures
    assert (own.allocated, own.money.planned, own.money.approved, own.money.paid) == (
        Decimal("1000.00"),
        Decimal("530.00"),
        Decimal("105.00"),
        Decimal("55.00"),
    )
    other = by_name[cast.other_school.name].figures
    assert other.allocated is None and other.remaining is None
    assert (other.money.planned, other.money.approved) == (Decimal("333.00"), Decimal("333.00"))
    assert total.figures.money.approved == Decimal("438.00")
    assert total.figures.allocated == Decimal("1000.00")
    assert total.schools_without_allocation == 1
    assert sum(m.figures.money.planned for m in municipalities) == Decimal("863.00")


def test_a_school_without_an_allocation_has_no_limit(cast):
    budget = figures.school_budget(cast.school, cast.year)
    assert not budget.figures.has_allocation
    assert budget.figures.remaining is None and not budget.figures.is_over


def test_it_is_over_when_claims_or_plans_pass_the_allocation(cast):
    semester = cast.year.semesters.get(number=1)
    allocate(cast.school, cast.year, "100.00", by=cast.agency)
    approved_plan(cast, semester=semester, compensations=[(T, "100.00")])
    assert not figures.school_budget(cast.school, cast.year).figures.is_over
    approved_plan(cast, semester=semester, compensations=[(T, "0.01")])
    budget = figures.school_budget(cast.school, cast.year)
    assert budget.figures.is_over and budget.figures.unplanned == Decimal("-0.01")


def test_school_years_are_told_apart_by_their_semesters(cast, known):
    last = figures.school_budget(cast.school, cast.last_year)
    assert last.figures.money == figures.Money(
        Decimal("999.00"), Decimal("999.00"), Decimal("999.00")
    )
    assert not last.figures.has_allocation
    assert last.semesters[0].semester.start_date == date(cast.last_year.start_year, 9, 1)

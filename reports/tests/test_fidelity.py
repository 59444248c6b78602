"""Fidelity: delivered against planned consultation hours as a share, and the plans of an
ended semester that delivered under half of their hours."""

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from plans.models import Consultation, PlanStatus
from plans.tests.factories import add_consultation_measure, add_risk, make_plan
from reports.participation import Cell, low_delivery_plans, share_of
from students.models import Semester
from students.tests.factories import StudentFactory


def plan_with(cast, semester, *, hours, delivered_minutes):
    plan = make_plan(
        student=StudentFactory(school=cast.school),
        preparer=cast.class_teacher,
        semester=semester,
        status=PlanStatus.EVALUATED,
        first_approved_at=timezone.now(),
    )
    measure = add_consultation_measure(
        plan, responsible=cast.specialist, risks=[add_risk(plan)], hours=hours
    )
    left = delivered_minutes
    while left > 0:
        minutes = min(left, 60)
        Consultation.objects.create(
            measure=measure,
            date=semester.start_date,
            minutes=minutes,
            topic="Saruna",
            provider=cast.specialist,
        )
        left -= minutes
    return plan


def ended_semester():
    return Semester.objects.filter(end_date__lt=timezone.localdate()).order_by("-end_date").first()


def test_the_share_is_exact_and_empty_without_a_plan():
    assert share_of(Cell(Decimal("1")), Cell(Decimal("3"))) == Decimal("33.33")
    assert share_of(Cell(Decimal("2")), Cell(Decimal("0"))) == ""
    assert share_of(Cell(1, "x"), Cell(Decimal("3"))) == "x"


def test_plans_under_half_are_listed_at_the_edges(cast):
    semester = ended_semester()
    half = plan_with(cast, semester, hours="4", delivered_minutes=120)  # 50,00 %: not under
    under = plan_with(cast, semester, hours="4", delivered_minutes=115)  # 47,92 %
    none = plan_with(cast, semester, hours="2", delivered_minutes=0)
    table = low_delivery_plans([cast.school], semester)
    listed = [row[0] for row in table.rows]
    assert listed == [none.code, under.code]
    assert half.code not in listed
    assert table.rows[1][2:] == [Decimal("1.9"), Decimal("47.92")]


def test_the_report_shows_the_low_delivery_plans_of_an_ended_semester_only(cast, login):
    semester = ended_semester()
    plan_with(cast, semester, hours="4", delivered_minutes=60)
    client = login(cast.coordinator)
    ended = client.get(reverse("participation_report"), {"semester": semester.pk})
    assert "low_delivery" in [t.key for t in ended.context["tables"]]
    running = client.get(
        reverse("participation_report"), {"semester": Semester.objects.current().pk}
    )
    assert "low_delivery" not in [t.key for t in running.context["tables"]]
    # Not above the school: the list is the school's own.
    above = login(cast.municipality).get(
        reverse("participation_report"),
        {"semester": semester.pk, "scope": f"municipality-{cast.school.municipality_id}"},
    )
    assert "low_delivery" not in [t.key for t in above.context["tables"]]


def test_the_measures_table_gives_the_delivered_share(cast, login):
    semester = ended_semester()
    plan_with(cast, semester, hours="4", delivered_minutes=60)
    response = login(cast.coordinator).get(
        reverse("participation_report"), {"semester": semester.pk}
    )
    measures = next(t for t in response.context["tables"] if t.key == "measures")
    assert measures.rows[0][-1] == Decimal("25.00")


def test_low_delivery_takes_a_fixed_number_of_queries(cast, django_assert_num_queries):
    semester = ended_semester()
    for count in (1, 5):
        for _n in range(count):
            plan_with(cast, semester, hours="2", delivered_minutes=30)
        # planned hours per plan, delivered minutes per plan, the plans' codes
        with django_assert_num_queries(3):
            table = low_delivery_plans([cast.school], semester)
        assert len(table.rows) >= count

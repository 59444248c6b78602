"""A year later: of the pupils supported in year Y, who is enrolled in Y+1 (also in another
school, found by the personal code), who finished the final grade, who left."""

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import PlanStatus
from plans.tests.factories import add_consultation_measure, add_risk, make_plan
from reports import outcomes
from students.models import ClassGroup, SchoolYear
from students.tests.factories import SchoolFactory, StudentFactory, enrol


def group(school, year, grade):
    return ClassGroup.objects.get_or_create(
        school=school, school_year=year, grade=grade, letter="t"
    )[0]


def supported_last_year(cast, school, *, grade, code="", risk="neattaisnoti-kavejumi"):
    year = cast.last_year
    student = StudentFactory(school=school, personas_kods=code)
    enrol(student, group(school, year, grade))
    plan = make_plan(
        student=student,
        preparer=cast.class_teacher,
        semester=year.semesters.order_by("number").first(),
        status=PlanStatus.EVALUATED,
        first_approved_at=timezone.now(),
    )
    add_consultation_measure(plan, responsible=cast.specialist, risks=[add_risk(plan, risk)])
    return student


def enrolled_now(cast, student, school=None, grade=8):
    enrol(student, group(school or student.school, cast.year, grade))


def test_stayed_moved_finished_and_left(cast):
    stayed = supported_last_year(cast, cast.school, grade=7)
    enrolled_now(cast, stayed)
    moved = supported_last_year(cast, cast.school, grade=7, code="12031012345")
    elsewhere = StudentFactory(school=cast.other_school, personas_kods="12031012345")
    enrolled_now(cast, elsewhere)
    supported_last_year(cast, cast.school, grade=9)  # finished basic school
    supported_last_year(cast, cast.school, grade=12)  # finished secondary school
    supported_last_year(cast, cast.school, grade=8)  # left
    supported_last_year(cast, cast.school, grade=9, code="05050511111")
    back = StudentFactory(school=cast.other_school, personas_kods="05050511111")
    enrolled_now(cast, back, grade=10)  # grade 9, then on to secondary: stayed
    result = {
        (f.grade, f.student_id == moved.pk): f.outcome
        for f in outcomes.followed([cast.school], cast.last_year, cast.year)
    }
    people = outcomes.followed([cast.school], cast.last_year, cast.year)
    by_outcome = sorted(f.outcome for f in people)
    assert by_outcome == ["finished", "finished", "left", "stayed", "stayed", "stayed"]
    assert result[(7, True)] == "stayed"


def test_the_school_sees_its_tables_by_grade_and_risk_type(cast, login):
    enrolled_now(cast, supported_last_year(cast, cast.school, grade=7))
    supported_last_year(
        cast, cast.school, grade=8, risk="attalums-lidz-skolai-un-transporta-izmaksas"
    )
    response = login(cast.coordinator).get(reverse("esf_indicators"), {"year": cast.last_year.pk})
    tables = {t.key: t for t in response.context["later_tables"]}
    assert [str(c) for c in tables["later_total"].rows[0][1:]] == ["2", "1", "0", "1"]
    grades = {row[0]: [str(c) for c in row[1:]] for row in tables["later_grades"].rows}
    assert grades == {"7.": ["1", "1", "0", "0"], "8.": ["1", "0", "0", "1"]}
    assert len(tables["later_risks"].rows) == 2


def test_until_the_next_year_has_classes_nothing_is_said(cast, login):
    supported_last_year(cast, cast.school, grade=7)
    response = login(cast.coordinator).get(reverse("esf_indicators"), {"year": cast.year.pk})
    assert response.context["later_tables"] == []
    assert not response.context["later_started"]


def test_above_the_school_the_small_school_is_protected(cast, login):
    for _n in range(5):
        enrolled_now(cast, supported_last_year(cast, cast.school, grade=7))
    small = SchoolFactory(municipality=cast.school.municipality, name="Mazā skola")
    supported_last_year(cast, small, grade=7)  # one pupil, who left
    response = login(cast.municipality).get(
        reverse("esf_indicators"),
        {"year": cast.last_year.pk, "scope": f"municipality-{cast.school.municipality_id}"},
    )
    tables = {t.key: t for t in response.context["later_tables"]}
    schools = {row[0]: row[1:] for row in tables["later_schools"].rows}
    assert schools["Mazā skola"][0].mark == "<3"
    total = tables["later_total"].rows[0][1:]
    big = schools[cast.school.name]
    # The small school's pupil cannot be had as the total minus the big school.
    assert total[0].hidden or big[0].hidden
    assert total[3].hidden or big[3].hidden or schools["Mazā skola"][3].hidden


@pytest.mark.parametrize("count", [1, 5])
def test_following_takes_a_fixed_number_of_queries(cast, django_assert_num_queries, count):
    for _n in range(count):
        enrolled_now(cast, supported_last_year(cast, cast.school, grade=7))
    # plans, grades (the indicators); personal codes, enrolments a year later, risk types
    with django_assert_num_queries(5):
        people = outcomes.followed([cast.school], cast.last_year, cast.year)
    assert len(people) == count
    assert SchoolYear.objects.count() >= 2

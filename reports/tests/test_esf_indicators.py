"""The ESF participant indicators: hand-made pupils with known answers at every band edge,
each pupil once, the school's participant list only for the school, suppression above it."""

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from iap_portal.models import AuditEvent
from plans.models import PlanEvaluation, PlanStatus, SupportPlan
from plans.tests.factories import add_consultation_measure, add_risk, make_plan
from reports import indicators
from students.models import SchoolYear, Semester, Student
from students.tests.factories import ClassGroupFactory, SchoolFactory, StudentFactory, enrol


@pytest.mark.parametrize(
    ("birth", "on", "band"),
    [
        (date(2012, 9, 2), date(2027, 9, 1), "under_15"),  # 14 the day before the birthday
        (date(2012, 9, 1), date(2027, 9, 1), "15_17"),  # 15 on the birthday
        (date(2009, 9, 2), date(2027, 9, 1), "15_17"),  # still 17
        (date(2009, 9, 1), date(2027, 9, 1), "18_24"),
        (date(2002, 9, 2), date(2027, 9, 1), "18_24"),  # still 24
        (date(2002, 9, 1), date(2027, 9, 1), "25_plus"),
        (date(2008, 2, 29), date(2026, 2, 28), "15_17"),  # born on 29 February: 18 on 1 March
        (None, date(2027, 9, 1), "unknown"),
    ],
)
def test_the_age_band_at_entry(birth, on, band):
    assert indicators.age_band(birth, on) == band


@pytest.mark.parametrize(
    ("grade", "level"),
    [
        (1, "isced1"),
        (6, "isced1"),
        (7, "isced2"),
        (9, "isced2"),
        (10, "isced3"),
        (12, "isced3"),
        (None, "unknown"),
    ],
)
def test_the_education_level_from_the_grade(grade, level):
    assert indicators.isced_level(grade) == level


def evaluate(cast, plan, outcome):
    PlanEvaluation.objects.create(
        plan=plan, narrative="Izvērtēts.", overall_outcome=outcome, evaluated_by=cast.coordinator
    )


def supported(cast, school, *, grade, birth, gender, outcome="", semesters=None, status=None):
    year = SchoolYear.objects.current()
    group = ClassGroupFactory(school=school, school_year=year, grade=grade)
    student = StudentFactory(school=school, birth_date=birth, gender=gender)
    enrol(student, group)
    plans = []
    for semester in semesters or [Semester.objects.current()]:
        plan = make_plan(
            student=student,
            preparer=cast.class_teacher,
            semester=semester,
            status=status or PlanStatus.EVALUATED,
            first_approved_at=timezone.now(),
        )
        if outcome:
            evaluate(cast, plan, outcome)
        add_consultation_measure(plan, responsible=cast.specialist, risks=[add_risk(plan)])
        plans.append(plan)
    return student, plans


def test_each_pupil_counts_once_with_entry_leaving_and_result_of_the_last_plan(cast):
    year = SchoolYear.objects.current()
    first, second = year.semesters.order_by("number")
    student, plans = supported(
        cast,
        cast.school,
        grade=9,
        birth=date(year.start_year - 15, 1, 1),
        gender=Student.Gender.FEMALE,
        semesters=[first, second],
    )
    evaluate(cast, plans[0], SupportPlan.Outcome.CONTINUES)
    evaluate(cast, plans[1], SupportPlan.Outcome.LEFT)
    people = indicators.participants([cast.school], year)
    assert len(people) == 1
    person = people[0]
    entry = plans[0].measures.order_by("start_date").first().start_date
    leaving = plans[1].measures.order_by("-end_date").first().end_date
    assert (person.entry, person.leaving) == (entry, leaving)
    assert (person.isced, person.result, person.gender) == ("isced2", "left", "F")


def test_a_plan_never_approved_or_deleted_does_not_count(cast):
    year = SchoolYear.objects.current()
    supported(cast, cast.school, grade=5, birth=None, gender="", status=PlanStatus.INACTIVE)
    make_plan(student=cast.student, preparer=cast.class_teacher, status=PlanStatus.DRAFT)
    assert indicators.participants([cast.school], year) == []


def test_the_school_sees_exact_counts_and_lists_its_participants(cast, login):
    year = SchoolYear.objects.current()
    for grade, outcome in [(4, SupportPlan.Outcome.PROMOTED), (8, SupportPlan.Outcome.EXTENDED)]:
        supported(
            cast,
            cast.school,
            grade=grade,
            birth=date(year.start_year - 10, 5, 5),
            gender=Student.Gender.MALE,
            outcome=outcome,
        )
    client = login(cast.coordinator)
    response = client.get(reverse("esf_indicators"))
    tables = {t.key: t for t in response.context["tables"]}
    assert str(tables["esf_total"].rows[0][0]) == "2"
    by_level = {str(row[0]): str(row[1]) for row in tables["esf_isced"].rows}
    assert list(by_level.values()) == ["1", "1", "0", "0"]
    results = [str(row[1]) for row in tables["esf_result"].rows]
    assert results == ["1", "1", "0", "0"]  # extended: continues; promoted: completed
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("esf_indicators"), {"format": "xlsx"}).content)
    )
    assert workbook.sheetnames[-1] == "Dalībnieku saraksts"
    listed = list(workbook.worksheets[-1].iter_rows(values_only=True))
    assert listed[0][0] == "Izglītojamais" and len(listed) == 3
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_LIST).latest("pk")
    assert event.detail.startswith("esf_participants: 2")


def test_no_participant_list_for_the_social_pedagogue_nor_above_the_school(cast, login):
    year = SchoolYear.objects.current()
    supported(cast, cast.school, grade=4, birth=date(year.start_year - 10, 1, 1), gender="M")
    for user, scope in [
        (cast.social_pedagogue, ""),
        (cast.municipality, f"municipality-{cast.school.municipality_id}"),
        (cast.agency, "all"),
    ]:
        response = login(user).get(reverse("esf_indicators"), {"scope": scope, "format": "xlsx"})
        workbook = load_workbook(io.BytesIO(response.content))
        assert "Dalībnieku saraksts" not in workbook.sheetnames
        text = " ".join(
            str(v)
            for ws in workbook.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
        )
        student = Student.objects.filter(school=cast.school).latest("pk")
        assert student.last_name not in text


def test_above_the_school_small_counts_cannot_be_worked_out(cast, login):
    """Four boys in one school, one girl in another of the same municipality: the girl is
    "<3", and so is (at least) a partner, so the total minus the boys does not give her."""
    year = SchoolYear.objects.current()
    small = SchoolFactory(municipality=cast.school.municipality)
    for _n in range(4):
        supported(cast, cast.school, grade=7, birth=date(year.start_year - 13, 1, 1), gender="M")
    supported(cast, small, grade=7, birth=date(year.start_year - 13, 1, 1), gender="F")
    response = login(cast.municipality).get(
        reverse("esf_indicators"), {"scope": f"municipality-{cast.school.municipality_id}"}
    )
    tables = {t.key: t for t in response.context["tables"]}
    genders = {str(row[0]): row[1] for row in tables["esf_gender"].rows}
    total = tables["esf_total"].rows[0][0]
    assert genders["sieviete"].mark == "<3"
    published = [c for c in [total, *genders.values()] if not c.hidden]
    # Not both the total and the boys are published: the subtraction is not possible.
    assert not (not total.hidden and not genders["vīrietis"].hidden)
    assert all(c.value != 1 for c in published)


def test_the_page_takes_a_fixed_number_of_queries(cast, login, django_assert_num_queries):
    year = SchoolYear.objects.current()
    client = login(cast.coordinator)
    for count in (1, 6):
        for _n in range(count):
            supported(cast, cast.school, grade=3, birth=date(year.start_year - 9, 1, 1), gender="F")
        # session, user, memberships, the scopes' schools and municipalities, the school years,
        # the current one, the plans, the grades, the next school year (none: nothing more)
        with django_assert_num_queries(9):
            client.get(reverse("esf_indicators"))

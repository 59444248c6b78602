from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from students.models import Membership, Role, SchoolYear, Student
from students.personas_kods import (
    birth_date_from_personas_kods,
    mask_personas_kods,
    normalise_personas_kods,
)
from students.tests.factories import (
    ClassGroupFactory,
    SchoolFactory,
    SchoolYearFactory,
    StudentFactory,
    UserFactory,
    enrol,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("161175-19997", "16117519997"),  # old format with a birth date
        ("16117519997", "16117519997"),
        (" 161175-19997 ", "16117519997"),
        ("328673-00679", "32867300679"),  # new format, no birth date
        ("32867300679", "32867300679"),
    ],
)
def test_it_accepts_both_formats_and_stores_digits_only(given, stored):
    assert normalise_personas_kods(given) == stored


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("328673-00677", "checksum"),  # new format, wrong check digit
        ("161175-19996", "checksum"),  # old format, wrong check digit
        ("301375-19995", "date"),  # month 13 does not exist
        ("40003032065", "company"),  # a company registration number
        ("16117519", "format"),
        ("abcdef-ghijk", "format"),
        ("", "format"),
    ],
)
def test_it_rejects_bad_codes_with_a_reason(given, code):
    with pytest.raises(ValidationError) as excinfo:
        normalise_personas_kods(given)
    assert excinfo.value.code == code


def test_it_masks_everything_after_the_first_six_digits():
    assert mask_personas_kods("32867300679") == "328673-*****"
    assert mask_personas_kods("") == ""


def test_it_reads_the_birth_date_of_old_codes_only():
    assert birth_date_from_personas_kods("16117519997") == date(1975, 11, 16)
    assert birth_date_from_personas_kods("32867300679") is None


@pytest.mark.django_db
def test_it_normalises_the_code_in_model_validation():
    student = StudentFactory.build(school=SchoolFactory(), personas_kods="328673-00679")
    student.full_clean()
    assert student.personas_kods == "32867300679"
    assert student.masked_personas_kods == "328673-*****"


@pytest.mark.django_db
def test_it_reports_a_bad_code_on_the_field():
    student = StudentFactory.build(school=SchoolFactory(), personas_kods="328673-00677")
    with pytest.raises(ValidationError) as excinfo:
        student.full_clean()
    assert "personas_kods" in excinfo.value.message_dict


@pytest.mark.django_db
def test_it_allows_the_same_code_only_once_per_school():
    school = SchoolFactory()
    StudentFactory(school=school, personas_kods="32867300679")
    StudentFactory(school=school, personas_kods="")
    StudentFactory(school=school, personas_kods="")  # blank codes do not collide
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentFactory(school=school, personas_kods="32867300679")


@pytest.mark.django_db
def test_it_requires_a_leaving_date_only_for_pupils_who_left():
    student = StudentFactory.build(school=SchoolFactory(), status=Student.Status.LEFT)
    with pytest.raises(ValidationError) as excinfo:
        student.full_clean()
    assert "left_on" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentFactory(school=SchoolFactory(), left_on=date(2024, 1, 1))


@pytest.mark.django_db
def test_it_keeps_one_class_per_pupil_and_school_year():
    school = SchoolFactory()
    year = SchoolYearFactory(start_year=2024)
    student = StudentFactory(school=school)
    enrol(student, ClassGroupFactory(school=school, school_year=year, grade=7))
    with pytest.raises(IntegrityError), transaction.atomic():
        enrol(student, ClassGroupFactory(school=school, school_year=year, grade=8))
    # Another year is fine.
    enrol(student, ClassGroupFactory(school=school, school_year=SchoolYearFactory(start_year=2025)))
    assert student.enrollments.count() == 2


@pytest.mark.django_db
def test_it_refuses_a_grade_outside_1_to_12():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassGroupFactory(grade=13)


@pytest.mark.django_db
def test_it_scopes_each_role_at_its_level():
    user, school = UserFactory(), SchoolFactory()
    Membership.objects.create(user=user, role=Role.COORDINATOR, school=school)
    Membership.objects.create(user=user, role=Role.MUNICIPALITY, municipality=school.municipality)
    Membership.objects.create(user=user, role=Role.AGENCY)
    for bad in (
        {"role": Role.COORDINATOR},  # a school role without a school
        {"role": Role.MUNICIPALITY, "school": school},
        {"role": Role.AGENCY, "municipality": school.municipality},
        {"role": Role.CLASS_TEACHER, "school": school, "municipality": school.municipality},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(user=UserFactory(), **bad)


@pytest.mark.django_db
def test_it_asks_a_specialist_for_their_type():
    membership = Membership(user=UserFactory(), role=Role.SPECIALIST, school=SchoolFactory())
    with pytest.raises(ValidationError) as excinfo:
        membership.full_clean()
    assert "specialist_type" in excinfo.value.message_dict


@pytest.mark.django_db
def test_it_finds_the_current_school_year_and_semester():
    SchoolYearFactory(start_year=2024)  # 1.09.2024 – 31.08.2025 in the factory
    SchoolYearFactory(start_year=2025)
    assert SchoolYear.objects.current(date(2025, 3, 1)).start_year == 2024
    assert SchoolYear.objects.current(date(2025, 9, 2)).start_year == 2025
    # In the summer the year just ended stays current until the next one begins.
    assert SchoolYear.objects.current(date(2030, 7, 1)).start_year == 2025
    from students.models import Semester

    semester = Semester.objects.current(date(2025, 10, 1))
    assert (semester.school_year.start_year, semester.number) == (2025, 1)
    assert str(semester) == "2025/2026 I"

"""Pupil search ignores diacritics and case, on SQLite (the folded column) and on PostgreSQL
(unaccent); the CI runs this file on both."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from students.models import Student
from students.search import fold, search_students
from students.tests.factories import StudentFactory, UserFactory, enrol

migration = importlib.import_module("students.migrations.0011_pupil_search_without_diacritics")


@pytest.fixture
def klavins(cast):
    pupil = StudentFactory(school=cast.school, first_name="Jānis", last_name="Kļaviņš")
    enrol(pupil, cast.class_group)
    return pupil


def found(text):
    return sorted(s.last_name for s in search_students(Student.objects.all(), text))


def test_fold_drops_the_diacritics_and_the_case():
    assert fold("Kļaviņš Ģirts Čākste ŪDRIS žēlā") == "klavins girts cakste udris zela"


@pytest.mark.parametrize(
    "text", ["klavins", "Kļaviņš", "KLAVIŅŠ", "kļav", "janis klav", "Jānis Kļaviņš"]
)
def test_a_name_is_found_with_or_without_diacritics(klavins, text):
    assert found(text) == ["Kļaviņš"]


def test_a_name_typed_with_diacritics_finds_one_written_without(cast):
    StudentFactory(school=cast.school, first_name="Janis", last_name="Klavins")
    assert found("Kļaviņš") == ["Klavins"]


def test_every_word_must_match(klavins):
    assert found("janis ozols") == []
    assert found("   ") == sorted(Student.objects.values_list("last_name", flat=True))


def test_the_folded_names_follow_a_change_of_name(klavins):
    klavins.last_name = "Ozoliņš"
    klavins.save(update_fields=["last_name"])
    assert found("ozolins") == ["Ozoliņš"]
    assert found("klavins") == []
    assert Student.objects.get(pk=klavins.pk).search_name == "janis ozolins"


def test_the_migration_fills_the_folded_names_of_existing_pupils(klavins):
    Student.objects.update(search_name="")
    migration.fill_search_names(apps, connection.schema_editor())
    assert Student.objects.get(pk=klavins.pk).search_name == "janis klavins"
    assert Student.objects.get(first_name="Elza").search_name == "elza berzina"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="unaccent is PostgreSQL's")
def test_postgresql_searches_the_names_themselves_with_unaccent(klavins):
    Student.objects.update(search_name="")  # the column is SQLite's: not read here
    assert found("klavins") == ["Kļaviņš"]


def test_the_pupil_list_finds_without_diacritics(cast, login, klavins):
    page = login(cast.coordinator).get(reverse("student_list"), {"q": "klavins"})
    assert [s.last_name for s in page.context["page"].object_list] == ["Kļaviņš"]


def test_the_audit_log_finds_the_pupil_without_diacritics(cast, login):
    client = login(cast.coordinator)
    client.get(reverse("student_detail", args=[cast.student.pk]))  # an event naming Elza
    page = client.get(reverse("audit_log"), {"pupil": "berzina"})
    assert page.status_code == 200
    assert page.context["page"].paginator.count >= 1
    assert client.get(reverse("audit_log"), {"pupil": "ozols"}).context["page"].paginator.count == 0


@pytest.mark.parametrize("extra", [1, 40])
def test_a_searched_pupil_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for i in range(extra):
        enrol(StudentFactory(school=cast.school, last_name=f"Kļaviņš{i:03d}"), cast.class_group)
    client = login(cast.coordinator)
    # session, user, memberships, current school year, count, classes for the filter,
    # page of pupils with schools, their enrollments this year with classes, the audit row
    # naming its pupils (one INSERT)
    with django_assert_num_queries(9):
        page = client.get(reverse("student_list"), {"q": "klavins"})
    assert page.context["page"].paginator.count == extra


def test_the_admin_finds_the_pupil_without_diacritics(client, klavins):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:students_student_changelist"), {"q": "klavins"})
    assert [s.pk for s in page.context["cl"].result_list] == [klavins.pk]

"""The Django admin's pages of pupils, plans and claims are in the audit log as the app's own
pages are: a change page names its pupil, a change list the pupils of its page."""

import pytest
from django.urls import reverse

from iap_portal.models import AuditEvent
from iap_portal.tests.test_permissions import cast_claim
from students.tests.factories import UserFactory

A = AuditEvent.Action


@pytest.fixture
def admin_client(client, cast):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def new_events(client, url):
    before = AuditEvent.objects.count()
    response = client.get(url)
    assert response.status_code == 200
    return list(AuditEvent.objects.order_by("pk")[before:])


@pytest.mark.parametrize(
    ("model", "action"),
    [
        ("students_student", A.VIEW_PUPIL),
        ("plans_supportplan", A.VIEW_PLAN),
        ("compensations_compensationclaim", A.VIEW_CLAIM),
    ],
)
def test_a_change_page_and_its_history_name_the_pupil(cast, admin_client, model, action):
    claim = cast_claim(cast)
    obj = {"students_student": cast.student, "plans_supportplan": claim.plan}.get(model, claim)
    for page in ("change", "history"):
        (event,) = new_events(admin_client, reverse(f"admin:{model}_{page}", args=[obj.pk]))
        assert (event.action, event.student_id, event.school_id) == (
            action,
            cast.student.pk,
            cast.school.pk,
        )
        assert event.object_id == str(obj.pk) and event.username == "root"


def test_a_past_version_names_the_pupil(cast, admin_client):
    version = cast.student.history.first()
    url = reverse("admin:students_student_simple_history", args=[cast.student.pk, version.pk])
    (event,) = new_events(admin_client, url)
    assert event.student_id == cast.student.pk and event.detail == "admin history version"


@pytest.mark.parametrize(
    "model", ["students_student", "plans_supportplan", "compensations_compensationclaim"]
)
def test_a_change_list_names_the_pupils_of_its_page_in_one_row(cast, admin_client, model):
    cast_claim(cast)
    (event,) = new_events(admin_client, reverse(f"admin:{model}_changelist"))
    assert event.action == A.VIEW_LIST and event.detail.startswith("admin ")
    if model == "students_student":
        expected = {cast.student, cast.other_student, cast.outsider_student}
    else:
        expected = {cast.student}
    assert set(event.students.all()) == expected


def test_a_change_list_that_shows_nobody_records_nothing(cast, admin_client):
    assert new_events(admin_client, reverse("admin:plans_supportplan_changelist")) == []


def test_other_admin_pages_record_no_pupil(cast, admin_client):
    events = new_events(admin_client, reverse("admin:students_school_changelist"))
    assert events == []

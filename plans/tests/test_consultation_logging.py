"""Logging a consultation: why a closed plan refuses it, and what the pupil's confirmation
says until someone records it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from plans import services
from plans.models import Consultation, PlanStatus
from plans.tests.factories import ready_plan


def english(client):
    client.cookies["django_language"] = "en"
    return client


def consultation_data(**changes):
    return {
        "date": timezone.localdate().isoformat(),
        "minutes": 45,
        "topic": "Motivācija",
        "mode": "in_person",
        "confirmation": "signed",
        "confirmed_on": "",
        **changes,
    }


def plan_in(cast, status):
    return ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=status,
        first_approved_at=None if status in {"draft", "submitted"} else timezone.now(),
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (PlanStatus.EVALUATED, "The plan has been evaluated and is closed"),
        (PlanStatus.SUSPENDED, "The plan is suspended"),
        (PlanStatus.SUBMITTED, "The plan is not approved yet"),
    ],
)
def test_it_says_why_a_plan_takes_no_consultation(cast, login, status, reason):
    # The coordinator: a specialist no longer sees an evaluated plan at all (404).
    measure = plan_in(cast, status).measures.get()
    url = reverse("consultation_create", args=[measure.pk])
    client = english(login(cast.coordinator))
    page = client.get(url).content.decode()
    assert reason in page
    assert 'name="topic"' not in page  # no form to fill in for nothing
    response = client.post(url, consultation_data())
    assert response.status_code == 200
    content = response.content.decode()
    assert reason in content
    assert "only on an approved plan" not in content
    assert not measure.consultations.exists()


def test_the_service_gives_the_evaluated_plans_reason(cast):
    measure = plan_in(cast, PlanStatus.EVALUATED).measures.get()
    consultation = Consultation(date=timezone.localdate(), minutes=45, topic="T")
    with pytest.raises(services.PlanActionError) as refused:
        services.log_consultation(measure=measure, by=cast.coordinator, consultation=consultation)
    assert str(refused.value.messages[0]).startswith("Plāns ir izvērtēts un slēgts")


def test_a_running_plan_shows_the_form(cast, login):
    measure = plan_in(cast, PlanStatus.IN_PROGRESS).measures.get()
    page = login(cast.specialist).get(reverse("consultation_create", args=[measure.pk]))
    assert 'name="topic"' in page.content.decode()
    assert page.context["refusal"] is None


def test_the_confirmation_starts_as_not_yet_confirmed(cast, login):
    measure = plan_in(cast, PlanStatus.IN_PROGRESS).measures.get()
    page = english(login(cast.specialist)).get(reverse("consultation_create", args=[measure.pk]))
    form = page.context["form"]
    assert form["confirmation"].value() == Consultation.Confirmation.PENDING
    assert '<option value="pending" selected>not yet confirmed</option>' in page.content.decode()
    assert Consultation().confirmation == Consultation.Confirmation.PENDING


def test_a_consultation_logged_as_not_yet_confirmed_is_kept_so(cast, login):
    measure = plan_in(cast, PlanStatus.IN_PROGRESS).measures.get()
    response = login(cast.specialist).post(
        reverse("consultation_create", args=[measure.pk]),
        consultation_data(confirmation="pending"),
    )
    assert response.status_code == 302
    assert measure.consultations.get().confirmation == Consultation.Confirmation.PENDING

"""The class teacher's "what to do next": each step appears while its condition holds and
disappears once it is resolved."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from compensations.models import ClaimStatus
from compensations.services import submit_claim
from compensations.tests.factories import at_status, draft_claim, transport_measure
from early_warning.tests.helpers import give, make_period
from plans import services as plan_services
from plans.models import Consultation, PlanStatus
from plans.tests.factories import (
    add_consultation_measure,
    add_risk,
    make_plan,
    ready_plan,
    semester_ends_in,
)
from students.models import Semester
from students.tests.factories import StudentFactory, enrol

AT_RISK = {"held": 100, "excused": 4, "unexcused": 12}


def steps(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {step.key: step for step in response.context["guide"]}


def running_plan(cast, student=None, **fields):
    return ready_plan(
        student=student or cast.student,
        preparer=cast.class_teacher,
        responsible=cast.class_teacher,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now() - timedelta(days=5),
        **fields,
    )


def new_draft(cast, student=None):
    """A draft as the page makes it (with its first status record), ready to be submitted."""
    plan = plan_services.create_plan(
        student=student or cast.student,
        semester=Semester.objects.current(),
        kind="regular",
        by=cast.class_teacher,
    )
    risk = add_risk(plan)
    add_consultation_measure(plan, responsible=cast.specialist, risks=[risk])
    plan.parent_application_date = timezone.localdate()
    plan.save(update_fields=["parent_application_date"])
    return plan


def test_it_explains_the_programme_when_nothing_waits(cast, login):
    response = login(cast.class_teacher).get(reverse("home"))
    assert response.context["guide"] == []
    content = response.content.decode()
    assert "data-guide-empty" in content
    assert reverse("help") in content


def test_a_flagged_pupil_stays_until_a_plan_is_submitted(cast, login):
    give(cast.student, make_period(cast.school), by=cast.coordinator, **AT_RISK)
    client = login(cast.class_teacher)
    step = steps(client)["flagged"]
    assert step.count == 1 and step.link == "#flagged-heading"
    # An empty draft does not take the pupil off the list: the link opens the draft instead
    # of offering a plan that could not be created.
    draft = new_draft(cast)
    assert "flagged" in steps(client)
    content = client.get(reverse("home")).content.decode()
    assert reverse("plan_detail", args=[draft.pk]) in content
    assert reverse("plan_create", args=[cast.student.pk]) not in content
    plan_services.submit_plan(plan=draft, by=cast.class_teacher)
    assert "flagged" not in steps(client)


def test_a_draft_waits_until_it_is_submitted(cast, login):
    client = login(cast.class_teacher)
    draft = new_draft(cast)
    step = steps(client)["drafts"]
    assert step.count == 1 and step.link == reverse("plan_detail", args=[draft.pk])
    make_plan(student=cast.other_student, preparer=cast.other_teacher)  # not alice's pupil
    assert steps(client)["drafts"].count == 1
    plan_services.submit_plan(plan=draft, by=cast.class_teacher)
    assert "drafts" not in steps(client) and "returned" not in steps(client)


def test_a_returned_plan_waits_until_it_is_submitted_again(cast, login):
    client = login(cast.class_teacher)
    draft = new_draft(cast)
    plan_services.submit_plan(plan=draft, by=cast.class_teacher)
    plan_services.return_plan(plan=draft, by=cast.coordinator, comment="Pamatojums par īsu.")
    found = steps(client)
    assert found["returned"].link == reverse("plan_detail", args=[draft.pk])
    assert "drafts" not in found  # returned, not a draft never submitted
    draft.refresh_from_db()
    plan_services.submit_plan(plan=draft, by=cast.class_teacher)
    assert "returned" not in steps(client)


def test_consultations_to_log_until_the_planned_hours_are_given(cast, login):
    client = login(cast.class_teacher)
    plan = running_plan(cast)  # 6 hours, given by alice herself
    step = steps(client)["consultations"]
    assert step.count == 1 and step.link == reverse("consultation_list")
    for minutes in (180, 120, 60):
        assert "consultations" in steps(client)
        Consultation.objects.create(
            measure=plan.measures.get(),
            date=timezone.localdate(),
            minutes=minutes,
            topic="Mācību plānošana",
            provider=cast.class_teacher,
        )
    assert "consultations" not in steps(client)


def test_claims_to_file_until_they_are_submitted(cast, login):
    client = login(cast.class_teacher)
    plan = running_plan(cast)
    transport_measure(plan)
    claim = draft_claim(plan=plan, by=cast.class_teacher)
    step = steps(client)["claims"]
    assert step.count == 1 and step.link == reverse("claim_detail", args=[claim.pk])
    submit_claim(claim=claim, by=cast.class_teacher)
    assert "claims" not in steps(client)
    at_status(claim, ClaimStatus.RETURNED)
    assert steps(client)["claims"].count == 1
    second = draft_claim(plan=plan, by=cast.class_teacher)
    step = steps(client)["claims"]
    assert step.count == 2 and step.link == reverse("claim_list") + "?status=returned"
    at_status(claim, ClaimStatus.SUBMITTED)
    at_status(second, ClaimStatus.SUBMITTED)
    assert "claims" not in steps(client)


def test_an_evaluation_is_due_in_the_schools_window(cast, login):
    client = login(cast.class_teacher)
    semester_ends_in(60)
    plan = running_plan(cast)
    assert "evaluations" not in steps(client)
    semester_ends_in(5)  # the window opens 14 days before the end
    step = steps(client)["evaluations"]
    assert step.count == 1 and step.link == reverse("plan_evaluate", args=[plan.pk])
    type(plan).objects.filter(pk=plan.pk).update(status=PlanStatus.EVALUATED)
    assert "evaluations" not in steps(client)


def test_the_steps_are_alice_s_only(cast, login):
    running_plan(cast)
    give(cast.student, make_period(cast.school), by=cast.coordinator, **AT_RISK)
    assert steps(login(cast.other_teacher)) == {}


def _crowd(cast, count):
    """``count`` times two more pupils in alice's class: one flagged with a returned plan, one
    with a running plan that has hours to give, a claim to file and its evaluation due."""
    period = make_period(cast.school)
    for i in range(count):
        flagged = StudentFactory(school=cast.school, last_name=f"Soļi{i:02d}")
        supported = StudentFactory(school=cast.school, last_name=f"Atbalsts{i:02d}")
        enrol(flagged, cast.class_group)
        enrol(supported, cast.class_group)
        give(flagged, period, by=cast.coordinator, **AT_RISK)
        draft = new_draft(cast, flagged)
        plan_services.submit_plan(plan=draft, by=cast.class_teacher)
        plan_services.return_plan(plan=draft, by=cast.coordinator, comment="Labot.")
        running = running_plan(cast, supported)
        transport_measure(running)
        draft_claim(plan=running, by=cast.class_teacher)


@pytest.mark.parametrize("extra", [1, 8])
def test_the_guide_costs_the_same_queries_at_any_size(
    cast, login, django_assert_num_queries, extra
):
    semester_ends_in(5)
    _crowd(cast, extra)
    client = login(cast.class_teacher)
    # session, user, memberships, current school year, current semester, classes, their
    # enrollments with pupils, the pupils' plans of the semester, flagged pupils without a
    # submitted plan, flagged pupils' stalled plans, the guide's plans being prepared, its
    # consultation measures to log, its claims to file, its plans due for evaluation,
    # decisions on my claims, the audit row naming the pupils shown
    with django_assert_num_queries(16):
        response = client.get(reverse("home"))
    found = {step.key: step.count for step in response.context["guide"]}
    assert found == {
        "flagged": extra,
        "returned": extra,
        "consultations": extra,
        "claims": extra,
        "evaluations": extra,
    }

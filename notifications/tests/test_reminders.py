"""Deadlines: reminders once per item, kind, recipient and day however often the daily run
runs (also two at once, on PostgreSQL), late marks in the queues, and the late items of a
user (``late_items_for``, for the home page)."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from compensations.models import CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from notifications.deadlines import late_items_for
from notifications.models import Notification
from plans.models import PlanStatus, SupportPlan
from plans.tests.factories import make_plan, ready_plan
from students.models import Semester

from .helpers import in_language, link_of

pytestmark = pytest.mark.django_db


def long_ago(days):
    return timezone.now() - timedelta(days=days)


def plans_due_already():
    """The current semester started long enough ago for its plans to be due."""
    semester = Semester.objects.current()
    semester.start_date = timezone.localdate() - timedelta(weeks=6)
    semester.save(update_fields=["start_date"])
    return semester


@pytest.fixture
def late_things(cast):
    """A draft past its due date, a plan waiting at the school for 30 days, a claim
    undecided for 20 days."""
    plans_due_already()
    draft = make_plan(student=cast.other_student, preparer=cast.other_teacher)
    waiting = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        kind="holiday",
        status=PlanStatus.SUBMITTED,
        submitted_at=long_ago(30),
        level_since=long_ago(30),
    )
    claim = submitted_claim(plan=claimable_plan(cast), by=cast.class_teacher)
    CompensationClaim.objects.filter(pk=claim.pk).update(submitted_at=long_ago(20))
    Notification.objects.all().delete()
    mail.outbox.clear()
    return draft, waiting, claim


def reminders():
    return sorted(Notification.objects.values_list("kind", "recipient__username", "item", "day"))


def run(capture):
    with capture(execute=True):
        call_command("send_reminders", verbosity=0)


def test_each_late_item_is_reminded_once_a_day(
    cast, late_things, client, django_capture_on_commit_callbacks
):
    draft, waiting, claim = late_things
    in_language(cast.other_teacher, "en")
    run(django_capture_on_commit_callbacks)
    today = timezone.localdate()
    assert reminders() == sorted(
        [
            ("plan_due", "other_teacher", f"plan:{draft.pk}", today),
            ("plan_waiting", "coordinator", f"plan:{waiting.pk}", today),
            ("claim_waiting", "social_pedagogue", f"claim:{claim.pk}", today),
        ]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.other_teacher.email, cast.coordinator.email, cast.social_pedagogue.email]
    )
    by_recipient = {m.to[0]: m for m in mail.outbox}
    due = by_recipient[cast.other_teacher.email]
    assert "was due for submission on" in due.subject
    for user in (cast.other_teacher, cast.coordinator, cast.social_pedagogue):
        client.force_login(user)
        assert client.get(link_of(by_recipient[user.email])).status_code == 200
    # A second run the same day sends nothing more.
    run(django_capture_on_commit_callbacks)
    assert len(reminders()) == 3
    assert len(mail.outbox) == 3


def test_the_next_day_reminds_again_of_what_is_still_late(
    cast, late_things, django_capture_on_commit_callbacks
):
    run(django_capture_on_commit_callbacks)
    Notification.objects.update(day=timezone.localdate() - timedelta(1))
    run(django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 6


def test_nothing_is_reminded_before_its_deadline(cast, django_capture_on_commit_callbacks):
    semester = Semester.objects.current()
    semester.start_date = timezone.localdate() - timedelta(days=3)
    semester.save(update_fields=["start_date"])
    make_plan(student=cast.other_student, preparer=cast.other_teacher)
    ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
        submitted_at=long_ago(1),
        level_since=long_ago(1),
    )
    Notification.objects.all().delete()
    run(django_capture_on_commit_callbacks)
    assert reminders() == []


def test_an_ended_semesters_plan_is_reminded_of_its_evaluation(
    cast, django_capture_on_commit_callbacks
):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    Semester.objects.filter(pk=plan.semester_id).update(
        end_date=timezone.localdate() - timedelta(days=2)
    )
    run(django_capture_on_commit_callbacks)
    assert reminders() == [
        ("evaluation_due", "class_teacher", f"plan:{plan.pk}", timezone.localdate())
    ]
    (item,) = late_items_for(cast.class_teacher)
    assert (item.kind, item.code) == ("evaluation_due", plan.code)


def test_late_items_for_each_person(cast, late_things):
    draft, waiting, claim = late_things
    assert [(i.kind, i.code) for i in late_items_for(cast.other_teacher)] == [
        ("plan_due", draft.code)
    ]
    assert [(i.kind, i.code) for i in late_items_for(cast.coordinator)] == [
        ("plan_waiting", waiting.code)
    ]
    assert [(i.kind, i.code) for i in late_items_for(cast.social_pedagogue)] == [
        ("claim_waiting", claim.code)
    ]
    assert late_items_for(cast.class_teacher) == []
    assert late_items_for(cast.other_coordinator) == []
    item = late_items_for(cast.social_pedagogue)[0]
    assert "20 days" in item.text or "20 dienas" in item.text


def test_the_claims_queue_marks_late_claims(cast, late_things, login):
    _draft, _waiting, claim = late_things
    fresh = submitted_claim(plan=SupportPlan.objects.get(pk=claim.plan_id), by=cast.class_teacher)
    content = login(cast.social_pedagogue).get(reverse("claim_queue")).content.decode()
    rows = {code: content.split(code, 2)[1][:2000] for code in (claim.code, fresh.code)}
    assert "nokavēts" in rows[claim.code].split("</tr>")[0]
    assert "nokavēts" not in rows[fresh.code].split("</tr>")[0]


def test_the_plan_queue_marks_late_plans(cast, late_things, login):
    _draft, waiting, _claim = late_things
    content = login(cast.coordinator).get(reverse("plan_queue")).content.decode()
    row = content.split(waiting.code, 1)[1].split("</tr>")[0]
    assert "nokavēts" in row


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two runs at once need PostgreSQL")
def test_two_runs_at_once_remind_once(cast_tx):
    cast = cast_tx
    plans_due_already()
    make_plan(student=cast.other_student, preparer=cast.other_teacher)
    ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
        submitted_at=long_ago(30),
        level_since=long_ago(30),
    )
    Notification.objects.all().delete()
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    errors = []

    def one_run():
        try:
            barrier.wait(timeout=10)
            call_command("send_reminders", verbosity=0)
        except Exception as error:  # a failure of either run fails the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_run) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(Notification.objects.values_list("kind", flat=True)) == [
        "plan_due",
        "plan_waiting",
    ]
    assert len(mail.outbox) == 2

"""How notifications reach people: preferences, daily digests, a refusing mail server, and
the pages (the bell, the list, marking read, the settings)."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.kinds import Delivery
from notifications.models import MailLanguage, MailState, Notification, Preference
from plans import services as plan_services
from plans.models import SupportPlan
from plans.tests.factories import ready_plan

from .helpers import in_language, only_mail_to

pytestmark = pytest.mark.django_db

REFUSED = smtplib.SMTPException("451 try again later")


@pytest.fixture
def draft(cast):
    return ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )


def choose(user, kind, delivery):
    Preference.objects.create(user=user, kind=kind, delivery=delivery)


def a_notification(user, **fields):
    values = {
        "recipient": user,
        "kind": "plan_approved",
        "params": {"code": "IAP-1", "pupil": "Elza"},
        "url": "/notifications/",
        "item": "plan:1",
        "mail_state": MailState.NONE,
    }
    return Notification.objects.create(**{**values, **fields})


def test_off_sends_nothing_but_keeps_it_in_the_portal(
    cast, draft, django_capture_on_commit_callbacks
):
    choose(cast.coordinator, "plan_submitted", Delivery.OFF)
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.submit_plan(plan=draft, by=cast.class_teacher)
    assert mail.outbox == []
    row = Notification.objects.get(recipient=cast.coordinator)
    assert row.mail_state == MailState.NONE
    call_command("send_reminders", verbosity=0)
    assert mail.outbox == []


def test_the_daily_digest_gathers_several_into_one_mail_once(
    cast, draft, django_capture_on_commit_callbacks
):
    for kind in ("plan_returned", "plan_approved"):
        choose(cast.class_teacher, kind, Delivery.DAILY)
    in_language(cast.class_teacher, "en")
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.submit_plan(plan=draft, by=cast.class_teacher)
        plan_services.return_plan(
            plan=SupportPlan.objects.get(pk=draft.pk), by=cast.coordinator, comment="Labot."
        )
        plan_services.submit_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=cast.class_teacher)
        plan_services.approve_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=cast.coordinator)
    # The coordinator's two "waits for your approval" went at once; the teacher's wait.
    assert [m.to for m in mail.outbox] == [[cast.coordinator.email]] * 2
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", verbosity=0)
    message = only_mail_to(cast.class_teacher)
    assert "2 notifications of the day" in message.subject
    assert "returned to you for correction" in message.body
    assert "was approved" in message.body
    assert "Labot." not in message.body
    assert message.body.count("http://testserver/plans/") == 2
    assert cast.student.last_name not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", verbosity=0)
    assert len(mail.outbox) == 1


def refusing():
    return mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=REFUSED
    )


def test_a_refusing_mail_server_never_fails_the_request_and_is_tried_again(
    cast, draft, login, django_capture_on_commit_callbacks
):
    client = login(cast.class_teacher)
    with refusing(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("plan_submit", args=[draft.pk]))
    assert response.status_code == 302
    assert SupportPlan.objects.get(pk=draft.pk).status == "submitted"
    row = Notification.objects.get(recipient=cast.coordinator)
    assert (row.mail_state, row.mail_attempts) == (MailState.PENDING, 1)
    assert row.mail_next_at > timezone.now()
    assert mail.outbox == []
    # Not due yet: the daily run leaves it.
    call_command("send_reminders", verbosity=0)
    assert mail.outbox == []
    # Once due, the mail server answers again and the e-mail goes, once.
    Notification.objects.filter(pk=row.pk).update(mail_next_at=timezone.now() - timedelta(1))
    call_command("send_reminders", verbosity=0)
    message = only_mail_to(cast.coordinator)
    assert draft.code in message.subject
    row.refresh_from_db()
    assert row.mail_state == MailState.SENT
    call_command("send_reminders", verbosity=0)
    assert len(mail.outbox) == 1


def test_a_deferring_queue_retries_with_a_growing_delay_and_gives_up_in_the_end(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.IAP_MAIL_ATTEMPTS = 3
    # Imported here: the setting above makes a new default backend.
    from django_tasks import default_task_backend

    row = a_notification(cast.coordinator, mail_state=MailState.PENDING)
    delays = []
    with refusing():
        for _attempt in range(3):
            Notification.objects.filter(pk=row.pk).update(mail_next_at=None)
            before = timezone.now()
            services.send_notification_mail.call(notification_id=row.pk)
            row.refresh_from_db()
            if row.mail_state == MailState.PENDING:
                delays.append(round((row.mail_next_at - before).total_seconds() / 60))
    assert delays == [1, 2]
    assert [r.task.run_after is not None for r in default_task_backend.results] == [True, True]
    assert row.mail_state == MailState.FAILED
    assert mail.outbox == []


def test_a_retry_run_too_early_or_twice_sends_once(cast):
    row = a_notification(cast.coordinator, mail_state=MailState.PENDING)
    Notification.objects.filter(pk=row.pk).update(
        mail_next_at=timezone.now() + timedelta(minutes=5)
    )
    assert services.send_notification_mail.call(notification_id=row.pk) is False
    Notification.objects.filter(pk=row.pk).update(mail_next_at=None)
    assert services.send_notification_mail.call(notification_id=row.pk) is True
    assert services.send_notification_mail.call(notification_id=row.pk) is False
    assert len(mail.outbox) == 1


def test_the_switch_of_language_is_the_language_of_the_mails(cast, login):
    client = login(cast.coordinator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert MailLanguage.objects.get(user=cast.coordinator).language == "en"


def test_the_settings_page_keeps_each_choice(cast, login):
    client = login(cast.class_teacher)
    page = client.get(reverse("notification_settings"))
    assert page.status_code == 200
    data = {f"kind_{code}": "immediate" for code in services.KINDS}
    data.update({"kind_plan_returned": "daily", "kind_payment": "off", "language": "en"})
    response = client.post(reverse("notification_settings"), data)
    assert response.status_code == 302
    assert dict(
        Preference.objects.filter(user=cast.class_teacher).values_list("kind", "delivery")
    ) == {"plan_returned": "daily", "payment": "off"}
    assert services.language_of(cast.class_teacher) == "en"
    data["kind_payment"] = "sometimes"
    response = client.post(reverse("notification_settings"), data)
    assert response.status_code == 200
    assert Preference.objects.get(user=cast.class_teacher, kind="payment").delivery == "off"


@pytest.mark.parametrize("extra", [1, 30])
def test_the_bell_counts_unread_in_one_query(cast, login, django_assert_num_queries, extra):
    for _n in range(extra):
        a_notification(cast.class_teacher)
    a_notification(cast.class_teacher, read_at=timezone.now())
    a_notification(cast.coordinator)
    client = login(cast.class_teacher)
    # session, user, the unread count
    with django_assert_num_queries(3):
        response = client.get(reverse("notification_bell"))
    assert f">{extra}<" in response.content.decode()


@pytest.mark.parametrize("extra", [1, 30])
def test_the_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for _n in range(extra):
        a_notification(cast.class_teacher)
    client = login(cast.class_teacher)
    # session, user, memberships (the menu), count, the page of notifications
    with django_assert_num_queries(5):
        response = client.get(reverse("notification_list"))
    assert response.content.decode().count("Elza: ") == min(extra, 25)


def test_the_list_shows_ninety_days_and_only_ones_own(cast, login):
    old = a_notification(cast.class_teacher, params={"code": "IAP-OLD"})
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(91))
    a_notification(cast.class_teacher, params={"code": "IAP-NEW"})
    a_notification(cast.coordinator, params={"code": "IAP-THEIRS"})
    content = login(cast.class_teacher).get(reverse("notification_list")).content.decode()
    assert "IAP-NEW" in content
    assert "IAP-OLD" not in content
    assert "IAP-THEIRS" not in content


def test_marking_read_one_and_all(cast, login):
    first = a_notification(cast.class_teacher, url="/plans/")
    second = a_notification(cast.class_teacher)
    theirs = a_notification(cast.coordinator)
    client = login(cast.class_teacher)
    assert client.get(reverse("notification_read", args=[first.pk])).status_code == 405
    assert client.post(reverse("notification_read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("notification_read", args=[first.pk]), {"open": "1"})
    assert response["Location"] == "/plans/"
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    client.post(reverse("notification_read_all"))
    assert list(Notification.objects.filter(read_at__isnull=True)) == [theirs]
    second.refresh_from_db()
    assert second.read_at is not None


def test_the_header_loads_the_bell(cast, login):
    content = login(cast.class_teacher).get(reverse("notification_list")).content.decode()
    assert f'hx-get="{reverse("notification_bell")}"' in content


def test_an_email_link_is_absolute(cast, settings):
    settings.IAP_BASE_URL = "https://iap.example.lv/"
    row = a_notification(cast.coordinator, mail_state=MailState.PENDING, url="/plans/7/")
    services.send_notification_mail.call(notification_id=row.pk)
    assert "https://iap.example.lv/plans/7/" in mail.outbox[0].body

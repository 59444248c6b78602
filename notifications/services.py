"""Raising notifications, and sending their e-mails.

A higher app's service calls ``notify`` inside its own transaction: the rows are written with
the event (or not at all), and each e-mail is queued on the task queue only once the
transaction commits, so a request never waits for the mail server. A refused or unreachable
mail server is retried later with a growing delay (django-tasks has no retries of its own:
the task queues itself again with ``run_after`` and a counter on the row; the daily
``send_reminders`` also takes up what is due, should a queued retry be lost).
"""

import logging
import smtplib
import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import default_task_backend, task

from .kinds import KINDS, Delivery
from .models import MailLanguage, MailState, Notification, Preference

log = logging.getLogger(__name__)

# What counts as the mail server refusing or being out of reach: tried again later.
MAIL_ERRORS = (smtplib.SMTPException, OSError)

_STATE_OF = {
    Delivery.IMMEDIATE: MailState.PENDING,
    Delivery.DAILY: MailState.DIGEST,
    Delivery.OFF: MailState.NONE,
}


def deliveries(users, kind) -> dict[int, str]:
    """Each user's choice for the kind (at once unless they chose otherwise)."""
    chosen = dict(
        Preference.objects.filter(user__in=users, kind=kind).values_list("user_id", "delivery")
    )
    return {user.pk: chosen.get(user.pk, Delivery.IMMEDIATE) for user in users}


def _recipients(recipients) -> list:
    seen, users = set(), []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def notify(
    *,
    recipients: Iterable[AbstractBaseUser],
    kind: str,
    url: str,
    item: str,
    params: dict | None = None,
    comment: str = "",
    day: date | None = None,
    exclude: AbstractBaseUser | None = None,
    pupil_id: int | None = None,
) -> list[Notification]:
    """One notification of ``kind`` for each recipient (``exclude``: the person who acted,
    who needs no news of their own action; ``pupil_id``: the pupil it is about, whose first
    name ``params`` may hold). With ``day`` (a reminder) one per item, kind,
    recipient and day however often or on however many machines this runs: a row already
    there is skipped. Returns the rows written; their e-mails go once the transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    users = [u for u in _recipients(recipients) if exclude is None or u.pk != exclude.pk]
    if not users:
        return []
    chosen = deliveries(users, kind)
    made = []
    for user in users:
        state = _STATE_OF[chosen[user.pk]]
        if not user.email and state != MailState.NONE:
            state = MailState.NONE
        row = Notification(
            recipient=user,
            kind=kind,
            params=params or {},
            comment=comment,
            url=url,
            item=item,
            day=day,
            mail_state=state,
            pupil_id=pupil_id,
        )
        if day is None:
            made.append(row)
            continue
        # Insert or skip: the unique constraint on (item, kind, day, recipient) decides, also
        # between two runs at once (the second waits for the first's row, then skips it).
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue
        made.append(row)
    if day is None:
        made = Notification.objects.bulk_create(made)
    pending = [row.pk for row in made if row.mail_state == MailState.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_each(pending))
    return made


def _enqueue_each(ids):
    for pk in ids:
        send_notification_mail.enqueue(notification_id=pk)


# --- Reading and marking --------------------------------------------------------------------


def recent(user):
    """The user's notifications of the last IAP_NOTIFICATION_DAYS days, newest first."""
    since = timezone.now() - timedelta(days=settings.IAP_NOTIFICATION_DAYS)
    return Notification.objects.filter(recipient=user, created_at__gte=since)


def unread_count(user) -> int:
    return recent(user).filter(read_at__isnull=True).count()


def mark_read(*, notification: Notification, by: AbstractBaseUser) -> None:
    Notification.objects.filter(pk=notification.pk, recipient=by, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mark_all_read(*, by: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=by, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def save_preferences(*, user: AbstractBaseUser, choices: dict[str, str], language: str) -> None:
    """The user's delivery per kind (at once is kept as no row) and their e-mail language."""
    for kind, delivery in choices.items():
        if kind not in KINDS or delivery not in Delivery.values:
            raise ValueError(f"Bad preference {kind!r}: {delivery!r}.")
        if delivery == Delivery.IMMEDIATE:
            Preference.objects.filter(user=user, kind=kind).delete()
        else:
            Preference.objects.update_or_create(
                user=user, kind=kind, defaults={"delivery": delivery}
            )
    remember_language(user=user, language=language)


def remember_language(*, user: AbstractBaseUser, language: str) -> None:
    """Keep the language the user chose for their e-mails (the language switch calls this)."""
    if language not in dict(settings.LANGUAGES):
        return
    MailLanguage.objects.update_or_create(user=user, defaults={"language": language})


def language_of(user) -> str:
    chosen = MailLanguage.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


# --- E-mail ---------------------------------------------------------------------------------


def absolute(url: str) -> str:
    return settings.IAP_BASE_URL.rstrip("/") + url


def _message(user, subject, template, context):
    with translation.override(language_of(user)):
        context = {**context, "settings_url": absolute(reverse("notification_settings"))}
        body = render_to_string(template, context)
        subject = str(subject() if callable(subject) else subject)
    # One line, whatever the sentence: a header cannot hold a line break.
    subject = " ".join(subject.split())
    return EmailMessage(subject=subject, body=body, to=[user.email])


def _retry(ids, *, again) -> None:
    """The mail server refused: try again after a growing delay, or give up after
    IAP_MAIL_ATTEMPTS tries (the notification stays in the portal)."""
    rows = list(Notification.objects.filter(pk__in=ids, mail_state=MailState.PENDING))
    if not rows:
        return
    attempts = max(row.mail_attempts for row in rows) + 1
    if attempts >= settings.IAP_MAIL_ATTEMPTS:
        Notification.objects.filter(pk__in=ids, mail_state=MailState.PENDING).update(
            mail_state=MailState.FAILED, mail_attempts=attempts
        )
        log.error("Notification e-mail %s failed %s times: given up.", ids, attempts)
        return
    delay = timedelta(seconds=settings.IAP_MAIL_RETRY_SECONDS * 2 ** (attempts - 1))
    next_at = timezone.now() + delay
    Notification.objects.filter(pk__in=ids, mail_state=MailState.PENDING).update(
        mail_attempts=attempts, mail_next_at=next_at
    )
    log.warning("Notification e-mail %s refused (try %s); again at %s.", ids, attempts, next_at)
    # A backend that cannot defer (the immediate one, in tests and development) would retry
    # at once in a loop: there the daily command takes it up (``retry_due_mail``).
    if default_task_backend.supports_defer:
        again.using(run_after=next_at).enqueue(**_task_args(rows[0]))


def _claim(rows) -> int:
    """Take the pending, due rows for this worker for a while (a lease): a task queued twice,
    or by two machines, sends once; a worker that dies leaves them to be taken again once the
    lease ends (``retry_due_mail``)."""
    now = timezone.now()
    return (
        rows.filter(mail_state=MailState.PENDING)
        .filter(Q(mail_next_at__isnull=True) | Q(mail_next_at__lte=now))
        .update(mail_next_at=now + timedelta(seconds=settings.IAP_MAIL_LEASE_SECONDS))
    )


def _task_args(row):
    if row.digest:
        return {"user_id": row.recipient_id, "digest": str(row.digest)}
    return {"notification_id": row.pk}


def _send(message, ids, *, again) -> bool:
    try:
        message.send()
    except MAIL_ERRORS:
        _retry(ids, again=again)
        return False
    Notification.objects.filter(pk__in=ids, mail_state=MailState.PENDING).update(
        mail_state=MailState.SENT, mailed_at=timezone.now(), mail_next_at=None
    )
    return True


@task()
def send_notification_mail(*, notification_id: int) -> bool:
    """One notification's e-mail, in the recipient's language, with a link to the object."""
    if not _claim(Notification.objects.filter(pk=notification_id, digest__isnull=True)):
        return False  # sent already, being sent by another worker, or not due yet
    row = Notification.objects.select_related("recipient").get(pk=notification_id)
    user = row.recipient
    if not user.email or not user.is_active:
        Notification.objects.filter(pk=row.pk).update(mail_state=MailState.NONE)
        return False
    kind = KINDS[row.kind]
    message = _message(
        user,
        lambda: _("IAP portal: %(text)s") % {"text": kind.text(row.params)},
        "notifications/email.txt",
        {"items": [row], "link": absolute(row.url)},
    )
    return _send(message, [row.pk], again=send_notification_mail)


@task()
def send_digest_mail(*, user_id: int, digest: str) -> bool:
    """The day's notifications of one user in one e-mail."""
    if not _claim(Notification.objects.filter(recipient_id=user_id, digest=digest)):
        return False
    rows = list(
        Notification.objects.select_related("recipient")
        .filter(recipient_id=user_id, digest=digest, mail_state=MailState.PENDING)
        .order_by("created_at", "pk")
    )
    user = rows[0].recipient
    if not user.email or not user.is_active:
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(mail_state=MailState.NONE)
        return False
    message = _message(
        user,
        lambda: (
            ngettext(
                "IAP portal: %(count)s notification of the day",
                "IAP portal: %(count)s notifications of the day",
                len(rows),
            )
            % {"count": len(rows)}
        ),
        "notifications/email.txt",
        {"items": rows, "links": True},
    )
    return _send(message, [r.pk for r in rows], again=send_digest_mail)


def send_digests() -> int:
    """Gather each user's notifications waiting for the daily digest into one e-mail each.
    A row is taken by one run only (a conditional UPDATE), so runs at once send each once."""
    users = (
        Notification.objects.filter(mail_state=MailState.DIGEST)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(users):
        digest = uuid.uuid4()
        with transaction.atomic():
            taken = Notification.objects.filter(
                recipient_id=user_id, mail_state=MailState.DIGEST
            ).update(mail_state=MailState.PENDING, digest=digest)
            if taken:
                sent += 1
                transaction.on_commit(
                    lambda u=user_id, d=str(digest): send_digest_mail.enqueue(user_id=u, digest=d)
                )
    return sent


def retry_due_mail(now=None) -> int:
    """Queue again the e-mails whose retry is due (and any left pending for an hour without a
    retry time: a task lost with its worker)."""
    now = now or timezone.now()
    due = Notification.objects.filter(mail_state=MailState.PENDING).filter(
        Q(mail_next_at__lte=now)
        | Q(mail_next_at__isnull=True, created_at__lte=now - timedelta(hours=1))
    )
    queued = set()
    for row in due.only("pk", "recipient_id", "digest"):
        args = _task_args(row)
        key = tuple(sorted(args.items()))
        if key in queued:
            continue
        queued.add(key)
        (send_digest_mail if row.digest else send_notification_mail).enqueue(**args)
    return len(queued)


def purge_old(now=None) -> int:
    """Notifications older than IAP_NOTIFICATION_DAYS are deleted (they hold a pupil's first
    name; the portal shows only that many days)."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.IAP_NOTIFICATION_DAYS)
    deleted, _rows = Notification.objects.filter(created_at__lt=since).delete()
    return deleted

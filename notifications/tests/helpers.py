import re

from django.core import mail

from notifications.models import MailLanguage, Notification

LINK = re.compile(r"http://testserver(/\S*)")


def in_language(user, language):
    MailLanguage.objects.update_or_create(user=user, defaults={"language": language})


def only_mail_to(user):
    """The one e-mail sent, to ``user`` (fails on none or more)."""
    assert [m.to for m in mail.outbox] == [[user.email]], [m.to for m in mail.outbox]
    return mail.outbox[0]


def only_notification(user, kind):
    rows = list(Notification.objects.filter(recipient=user))
    assert [r.kind for r in rows] == [kind], [(r.recipient_id, r.kind) for r in rows]
    return rows[0]


def link_of(message):
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)

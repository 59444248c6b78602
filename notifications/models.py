"""Notifications: one row per recipient and event (or reminder), read in the portal and sent
by e-mail from the task queue; each user's choices per kind and their e-mail language."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .kinds import KIND_CHOICES, KINDS, Delivery


class MailState(models.TextChoices):
    PENDING = "pending", _("to be sent")
    DIGEST = "digest", _("in the next daily digest")
    SENT = "sent", _("sent")
    FAILED = "failed", _("could not be sent")
    NONE = "none", _("not sent by e-mail")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=KIND_CHOICES)
    # The values its sentence is made of (a code, the pupil's first name, a count, a date):
    # the text is made when shown, in the reader's language.
    params = models.JSONField(default=dict)
    # Shown in the portal only, never e-mailed (a returned plan's or claim's comment).
    comment = models.TextField(blank=True)
    url = models.CharField(max_length=300)
    # The pupil it names (by first name), if any: anonymising the pupil deletes it. A plain id,
    # as this app sits below the pupils' (privacy.retention does the deleting).
    pupil_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # What it is about ("plan:12"): a reminder is sent once per item, kind, recipient and day.
    item = models.CharField(max_length=64)
    day = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    mail_state = models.CharField(max_length=10, choices=MailState.choices)
    mail_attempts = models.PositiveSmallIntegerField(default=0)
    mail_next_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    # The digest run that took it (so a retried digest sends the same items, once).
    digest = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "kind", "day", "recipient"],
                condition=Q(day__isnull=False),
                name="notification_reminder_once_a_day",
            ),
        ]
        indexes = [
            # The bell: a user's unread notifications.
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_list"),
            models.Index(fields=["mail_state", "mail_next_at"], name="notification_mail"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id} ({self.item})"

    @property
    def text(self):
        return KINDS[self.kind].text(self.params)

    @property
    def link(self):
        """The absolute address of what it is about (an e-mail's link)."""
        return settings.IAP_BASE_URL.rstrip("/") + self.url

    @property
    def is_unread(self):
        return self.read_at is None


class Preference(models.Model):
    """How one user wants one kind delivered (without a row: at once)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=KIND_CHOICES)
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind}: {self.delivery}"


class MailLanguage(models.Model):
    """The language of a user's e-mails: the one they last chose in the portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_language"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)

    def __str__(self):
        return f"{self.user_id}: {self.language}"

"""The audit log: who did what to whose data, when, and from where. Append-only."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StatusChange(models.Model):
    """Who moved an object from which status to which, when, and why (append-only).

    A subclass adds the object (named by ``subject_field``), ``from_status`` and ``to_status``
    with its statuses' choices, and ``by``; ``iap_portal.actions.transition`` writes the rows."""

    subject_field = ""
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self):
        subject = getattr(self, self.subject_field)
        return f"{subject}: {self.from_status} → {self.to_status}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("This log is append-only.")

    def delete(self):
        raise PermissionError("This log is append-only.")


class ContentChange(models.Model):
    """Who changed a plan's or a claim's content, and when (append-only): the four-eyes rule
    reads it (``iap_portal.actions.touched_by``), the object's page shows it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )

    class What(models.TextChoices):
        PLAN = "plan", _("The plan's content")
        LINES = "lines", _("Expense lines")
        RECEIPTS = "receipts", _("Receipts")

    at = models.DateTimeField(_("when"), default=timezone.now)
    what = models.CharField(_("what"), max_length=20, choices=What.choices)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]
        verbose_name = _("content change")
        verbose_name_plural = _("content changes")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.by_id} {self.what}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Content changes are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Content changes are append-only.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("signed in")
        LOGIN_FAILED = "login_failed", _("failed sign-in")
        LOGOUT = "logout", _("signed out")
        VIEW_PUPIL = "view_pupil", _("viewed a pupil")
        VIEW_PLAN = "view_plan", _("viewed a plan")
        VIEW_CLAIM = "view_claim", _("viewed a claim")
        VIEW_LIST = "view_list", _("viewed a list of pupils")
        EXPORT = "export", _("exported a list")
        PDF = "pdf", _("downloaded a PDF")
        FILE = "file", _("downloaded a file")
        STATUS = "status", _("changed a status")
        TWO_FACTOR = "two_factor", _("confirmed the second factor")
        TWO_FACTOR_FAILED = "two_factor_failed", _("entered a wrong second-factor code")
        TWO_FACTOR_CHANGE = "two_factor_change", _("changed two-factor sign-in")
        STAFF_INVITED = "staff_invited", _("invited a staff member")
        STAFF_WITHDRAWN = "staff_withdrawn", _("withdrew an invitation")
        STAFF_JOINED = "staff_joined", _("accepted an invitation")
        STAFF_DECLINED = "staff_declined", _("declined an invitation")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    school = models.ForeignKey(
        "students.School", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whose data it was: the pupil a page, file or export of one pupil showed.
    student = models.ForeignKey(
        "students.Student",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pupil"),
    )
    # The pupils a list showed (their ids), in one row per request.
    students = models.JSONField(_("pupils"), default=list, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.CharField(_("details"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["school", "-at"]),
            models.Index(fields=["student", "-at"], name="auditevent_student_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")

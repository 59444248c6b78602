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


class AuditEventQuerySet(AppendOnlyQuerySet):
    def naming(self, student):
        """The events that name this pupil: a page, file or export of theirs, or a list that
        showed them."""
        return self.naming_any([getattr(student, "pk", student)])

    def naming_any(self, student_ids):
        """The events that name any of these pupils (ids, or a queryset of pupils)."""
        # EXISTS, probing the (pupil, event) index row by row: an IN (subquery) of every list
        # row of many pupils is too large for PostgreSQL to hash and was rescanned per event.
        listed = AuditEventStudent.objects.filter(
            event_id=models.OuterRef("pk"), student_id__in=student_ids
        )
        return self.filter(models.Q(student_id__in=student_ids) | models.Exists(listed))


class AppendOnlyAudit(models.Model):
    """Rows of the audit log are written once: saving an existing row or deleting one is
    refused (``iap_portal.audit`` declares the two exceptions to the database's guard)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(AppendOnlyAudit):
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
    # The pupils a list showed, in one row per request (the join table is what "who looked
    # at this pupil" searches, on SQLite as on PostgreSQL).
    students = models.ManyToManyField(
        "students.Student",
        through="AuditEventStudent",
        related_name="+",
        blank=True,
        verbose_name=_("pupils"),
    )
    # The pupils a list showed, as the application writes them with the event, in its one
    # INSERT: the database moves them into AuditEventStudent at once and empties this
    # (migration 0013's trigger), so it is empty at rest and never read.
    listed_ids = models.JSONField(null=True, blank=True, editable=False)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.CharField(_("details"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

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


class AuditEventStudent(AppendOnlyAudit):
    """A pupil a list showed: one row per pupil of an ``AuditEvent`` of a list, written by the
    database from the event's ``listed_ids`` as the event is inserted (migration 0013), so a
    list costs one INSERT. Append-only like the event; ``forget_students`` and the
    summarising of old events are the only deletes (``iap_portal.audit``)."""

    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, related_name="+")
    # Indexed by the unique (student, event) below, which "who looked at this pupil" reads.
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("pupil of an audit event")
        verbose_name_plural = _("pupils of audit events")
        constraints = [
            models.UniqueConstraint(fields=["student", "event"], name="auditeventstudent_unique")
        ]

    def __str__(self):
        return f"{self.event_id} {self.student_id}"


class AuditSummaryPeriod(models.Model):
    """A month whose events were folded into ``AuditSummary`` and then deleted, after
    ``IAP_AUDIT_RETENTION_DAYS`` (``manage.py summarise_audit``). The database's guard lets
    an event go only when its month has this row (PostgreSQL: the trigger of the audit log)."""

    month = models.DateField(_("month"), unique=True)
    since = models.DateTimeField()
    until = models.DateTimeField()
    events = models.PositiveBigIntegerField(_("events summarised"), default=0)
    summarised_at = models.DateTimeField(_("summarised at"), default=timezone.now)

    class Meta:
        ordering = ["month"]
        verbose_name = _("summarised month of the audit log")
        verbose_name_plural = _("summarised months of the audit log")

    def __str__(self):
        return f"{self.month:%Y-%m}"


class AuditSummary(models.Model):
    """How many events of one action a school's log held in a summarised month."""

    month = models.DateField(_("month"))
    school = models.ForeignKey(
        "students.School", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("what"), max_length=20, choices=AuditEvent.Action.choices)
    count = models.PositiveBigIntegerField(_("events"))

    class Meta:
        ordering = ["-month", "action"]
        verbose_name = _("audit log summary")
        verbose_name_plural = _("audit log summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "school", "action"],
                condition=models.Q(school__isnull=False),
                name="auditsummary_unique_per_school",
            ),
            # Events that no school's log showed (a failed sign-in of an unknown name).
            models.UniqueConstraint(
                fields=["month", "action"],
                condition=models.Q(school__isnull=True),
                name="auditsummary_unique_without_school",
            ),
        ]
        indexes = [models.Index(fields=["school", "month"], name="auditsummary_school_month")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.school_id} {self.action} {self.count}"

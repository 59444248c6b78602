"""Work done on the task queue for one person: semester bundles of plan PDFs, large exports."""

import errno
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iap_portal.storage import private_storage
from students.models import School, Semester


class QueuedJob(models.Model):
    """What a job on the task queue keeps: who asked, its status, and how it ended."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting in the queue")
        RUNNING = "running", pgettext_lazy("bundle", "Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The queue task that holds the job: the same task taken over after its worker died may go
    # on with it; a second task queued for the same job may not (``claim``).
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["-requested_at"]

    @property
    def is_finished(self):
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def out_of_space(self):
        """Whether it failed because the server's disk was full (the page says so)."""
        return f"[Errno {errno.ENOSPC}]" in self.error

    def claim(self, *, task_id, attempt: int) -> bool:
        """Take the job for this queue task (waiting, or left running by the same task's earlier
        attempt, whose worker died). False if another task has it or it has finished."""
        waiting = models.Q(status=self.Status.PENDING)
        taken_over = models.Q(status=self.Status.RUNNING, task_id=task_id)
        claimed = (
            type(self)
            .objects.filter(waiting | taken_over, pk=self.pk)
            .update(status=self.Status.RUNNING, task_id=task_id, attempts=attempt)
        )
        if claimed:
            self.status, self.task_id, self.attempts = self.Status.RUNNING, task_id, attempt
        return bool(claimed)


class PlanBundle(QueuedJob):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    pdf = models.FileField(storage=private_storage, blank=True, max_length=200)
    zip = models.FileField(storage=private_storage, blank=True, max_length=200)

    class Meta(QueuedJob.Meta):
        verbose_name = _("plan bundle")
        verbose_name_plural = _("plan bundles")

    def __str__(self):
        return f"{self.school} {self.semester}"

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else (100 if self.is_finished else 0)


class ExportJob(QueuedJob):
    """A large list export, built on the task queue for the user who asked for it."""

    kind = models.CharField(max_length=20)
    format = models.CharField(max_length=4)
    params = models.TextField(blank=True)  # the list's filters, as a query string
    rows = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=private_storage, blank=True, max_length=200)
    filename = models.CharField(max_length=100, blank=True)
    # When the file was written: the requester's roles ([role, school, municipality]) and the
    # schools whose rows it holds. Downloading needs those roles still (``reports.files``).
    rights = models.JSONField(default=list, blank=True)
    schools = models.JSONField(default=list, blank=True)

    class Meta(QueuedJob.Meta):
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self):
        return f"{self.kind}.{self.format}"


class TaskLease(models.Model):
    """The lease of a task a worker is running (``reports.worker``): the worker renews it while
    it works; one that ran out means the worker died, and another worker takes the task back."""

    task = models.OneToOneField(
        "django_tasks_database.DBTaskResult",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    worker_id = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.task_id} {self.worker_id}"

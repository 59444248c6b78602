"""Large list exports on the task queue: the job, the task that writes the file with the
requester's rights as they are when it runs, and the hook ``iap_portal.exports`` calls."""

import io
import logging
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils import timezone, translation
from django_tasks import task

from iap_portal.exports import EXPORTS, write_csv, write_xlsx

from .files import current_rights
from .models import ExportJob
from .worker import on_give_up, will_retry

logger = logging.getLogger(__name__)


def queue_export(request, kind, fmt):
    """Record the export job, start it once the request's transaction commits, and show its
    progress page (``iap_portal.exports.queue_export``, registered by ReportsConfig)."""
    params = request.GET.copy()
    params.pop("format", None)
    params.pop("page", None)
    # The file is written in the requester's language (the catalogue's names, the headings).
    params["language"] = translation.get_language() or settings.LANGUAGE_CODE
    job = ExportJob.objects.create(
        requested_by=request.user, kind=kind, format=fmt, params=params.urlencode()
    )
    transaction.on_commit(lambda: build_export.enqueue(job_id=str(job.public_id)))
    return redirect("export_detail", public_id=job.public_id)


@task(takes_context=True)
def build_export(context, job_id: str):
    job = ExportJob.objects.select_related("requested_by").get(public_id=job_id)
    if not job.claim(task_id=context.task_result.id, attempt=context.attempt):
        return  # another task has it, or it has finished
    params = QueryDict(job.params)
    language = params.get("language")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        _write_export(job, params, context)


def _write_export(job, params, context):
    try:
        # The user's access is checked again now, with their rights as they are now.
        spec = EXPORTS[job.kind](job.requested_by, params)
        counted = {"rows": 0}

        def rows():
            for number, row in enumerate(spec.rows()):
                counted["rows"] = number
                yield row

        with tempfile.TemporaryFile() as handle:
            if job.format == "csv":
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
                write_csv(rows(), text)
                text.flush()
                text.detach()
            else:
                write_xlsx([(spec.title, rows())], handle, constant_memory=True)
            handle.seek(0)
            job.file.save(f"exports/{job.public_id}.{job.format}", File(handle), save=False)
        job.filename = f"{spec.filename}.{job.format}"
        job.rows = counted["rows"]
        job.rights = current_rights(job.requested_by)
        job.schools = sorted(spec.schools)
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(
            update_fields=["file", "filename", "rows", "rights", "schools", "status", "finished_at"]
        )
    except Exception as exc:
        logger.exception("Export %s failed (attempt %s)", job.public_id, context.attempt)
        ended = {} if will_retry(context) else {"status": ExportJob.Status.FAILED}
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now() if ended else None,
            **ended,
        )
        raise


@on_give_up(build_export)
def export_given_up(kwargs, reason):
    ExportJob.objects.filter(
        public_id=kwargs["job_id"], status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.FAILED, error=reason, finished_at=timezone.now())

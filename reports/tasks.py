"""Background work: the semester bundle of plan PDFs (one PDF, and a ZIP of single PDFs)."""

import logging
import tempfile
import zipfile

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from iap_portal.users import display_name
from plans.models import SupportPlan
from reports import participation

from .documents import plan_documents, plan_pdf_name, render_plan_pdf
from .list_exports import build_export  # noqa: F401 - the old task path, see below
from .models import PlanBundle
from .pdfmerge import StreamingPdfMerger
from .snapshots import refresh_participation_report  # noqa: F401 - the old task path
from .worker import holds_lease, on_give_up, will_retry

logger = logging.getLogger(__name__)

# build_export and refresh_participation_report moved out of this module; tasks queued before
# the move are stored under reports.tasks.* (django-tasks-db imports a task by its path when it
# runs it), so the names stay until no queue holds such a task.


def bundle_plans(bundle):
    """The counted plans of the bundle's semester and school, in a stable order."""
    return (
        participation.counted_plans([bundle.school_id])
        .filter(semester=bundle.semester)
        .order_by("student__last_name", "student__first_name", "pk")
    )


@task(takes_context=True)
def build_bundle(context, bundle_id: str):
    bundle = PlanBundle.objects.select_related("requested_by", "school").get(public_id=bundle_id)
    if not bundle.claim(task_id=context.task_result.id, attempt=context.attempt):
        return  # another task has it, or it has finished
    try:
        ids = list(bundle_plans(bundle).values_list("pk", flat=True))
        PlanBundle.objects.filter(pk=bundle.pk).update(total=len(ids), done=0)
        write_bundle(
            bundle,
            ids,
            progress=lambda number: PlanBundle.objects.filter(pk=bundle.pk).update(done=number),
            still_ours=lambda: holds_lease(context),
        )
    except Exception as exc:  # the page must say it failed (or is tried again), not spin
        logger.exception("Plan bundle %s failed (attempt %s)", bundle_id, context.attempt)
        ended = {} if will_retry(context) else {"status": PlanBundle.Status.FAILED}
        PlanBundle.objects.filter(pk=bundle.pk, status=PlanBundle.Status.RUNNING).update(
            error=describe_error(exc), finished_at=timezone.now() if ended else None, **ended
        )
        raise


@on_give_up(build_bundle)
def bundle_given_up(kwargs, reason):
    PlanBundle.objects.filter(
        public_id=kwargs["bundle_id"],
        status__in=[PlanBundle.Status.PENDING, PlanBundle.Status.RUNNING],
    ).update(status=PlanBundle.Status.FAILED, error=reason, finished_at=timezone.now())


def describe_error(exc) -> str:
    """The error as the job keeps it (for the administrator; the page says it in words)."""
    return f"{type(exc).__name__}: {exc}"[:500]


def write_bundle(bundle, ids, *, progress=lambda number: None, still_ours=lambda: True):
    """Render the plans one by one into the bundle's ZIP and merged PDF, and mark it done."""
    who = display_name(bundle.requested_by)
    name = f"bundles/{bundle.public_id}"
    storage = PlanBundle._meta.get_field("zip").storage
    with tempfile.TemporaryFile() as zipped, tempfile.TemporaryFile() as merged:
        # Plan by plan, each written out at once, so memory stays flat and progress can show.
        joined = StreamingPdfMerger(merged)
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, plan in enumerate(
                plan_documents(SupportPlan.objects.filter(pk__in=ids)), start=1
            ):
                pdf = render_plan_pdf(plan, generated_by=who)
                archive.writestr(plan_pdf_name(plan), pdf)
                joined.append(pdf, title=f"{plan.code} {plan.student}")
                progress(number)
        joined.close()
        bundle.refresh_from_db()
        try:
            # Each file appears whole or not at all (iap_portal.storage.WholeFileStorage).
            zipped.seek(0)
            bundle.zip.save(f"{name}.zip", File(zipped), save=False)
            merged.seek(0)
            bundle.pdf.save(f"{name}.pdf", File(merged), save=False)
        except BaseException:
            if bundle.zip:
                storage.delete(bundle.zip.name)  # not one file of the two without the other
            raise
    with transaction.atomic():
        if not still_ours():
            # This worker stalled past its lease and another took the bundle over.
            logger.warning("Plan bundle %s: the task was taken over; dropping this copy", name)
            storage.delete(bundle.zip.name)
            storage.delete(bundle.pdf.name)
            return
        bundle.status = PlanBundle.Status.DONE
        bundle.error = ""
        bundle.finished_at = timezone.now()
        bundle.save(update_fields=["zip", "pdf", "status", "error", "finished_at"])

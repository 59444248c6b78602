"""Background work: the semester bundle of plan PDFs (one PDF, and a ZIP of single PDFs)."""

import logging
import tempfile
import zipfile

from django.core.files import File
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


@task()
def build_bundle(bundle_id: str):
    bundle = PlanBundle.objects.select_related("requested_by", "school").get(public_id=bundle_id)
    updated = PlanBundle.objects.filter(pk=bundle.pk, status=PlanBundle.Status.PENDING).update(
        status=PlanBundle.Status.RUNNING
    )
    if not updated:
        return  # another worker has it
    try:
        ids = list(bundle_plans(bundle).values_list("pk", flat=True))
        PlanBundle.objects.filter(pk=bundle.pk).update(total=len(ids))
        write_bundle(
            bundle,
            ids,
            progress=lambda number: PlanBundle.objects.filter(pk=bundle.pk).update(done=number),
        )
    except Exception as exc:  # the page must say it failed rather than spin forever
        logger.exception("Plan bundle %s failed", bundle_id)
        PlanBundle.objects.filter(pk=bundle.pk).update(
            status=PlanBundle.Status.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise


def write_bundle(bundle, ids, *, progress=lambda number: None):
    """Render the plans one by one into the bundle's ZIP and merged PDF, and mark it done."""
    who = display_name(bundle.requested_by)
    name = f"bundles/{bundle.public_id}"
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
        zipped.seek(0)
        bundle.zip.save(f"{name}.zip", File(zipped), save=False)
        merged.seek(0)
        bundle.pdf.save(f"{name}.pdf", File(merged), save=False)
    bundle.status = PlanBundle.Status.DONE
    bundle.finished_at = timezone.now()
    bundle.save(update_fields=["zip", "pdf", "status", "finished_at"])

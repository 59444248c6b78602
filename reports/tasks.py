"""Background work: the semester bundle of plan PDFs (one PDF, and a ZIP of single PDFs)."""

import io
import logging
import tempfile
import zipfile

from django.core.files import File
from django.utils import timezone
from django_tasks import task

from plans.models import SupportPlan
from reports import participation

from .documents import plan_documents, plan_pdf_name, render_plan_pdf
from .models import PlanBundle
from .pdfmerge import StreamingPdfMerger

logger = logging.getLogger(__name__)


def bundle_plans(bundle):
    """The counted plans of the bundle's semester and school, in a stable order."""
    return (
        participation.counted_plans([bundle.school_id])
        .filter(semester=bundle.semester)
        .order_by("student__last_name", "student__first_name", "pk")
    )


@task()
def refresh_participation_report(key: str, semester_id: int | None, language: str):
    """Recompute an aggregate report that has grown stale (reports.snapshots)."""
    from django.core.cache import caches

    from .snapshots import _cache_key, compute

    try:
        compute(key, semester_id, language)
    finally:
        caches["reports"].delete(f"{_cache_key(key, semester_id, language)}:refreshing")


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
    who = bundle.requested_by.get_full_name() or bundle.requested_by.username
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


# The modules that register list exports (a worker process may not have loaded the URLconf).
EXPORT_MODULES = ("students.views", "plans.views", "compensations.views")


@task()
def build_export(job_id: str):
    import importlib

    from django.http import QueryDict

    from iap_portal.exports import EXPORTS, write_csv, write_xlsx

    from .models import ExportJob

    for module in EXPORT_MODULES:
        importlib.import_module(module)
    job = ExportJob.objects.select_related("requested_by").get(public_id=job_id)
    if not ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING
    ):
        return
    try:
        # The user's access is checked again now, with their rights as they are now.
        spec = EXPORTS[job.kind](job.requested_by, QueryDict(job.params))
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
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "filename", "rows", "status", "finished_at"])
    except Exception as exc:
        logger.exception("Export %s failed", job_id)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter

from compensations.models import CompensationClaim
from compensations.services import create_claim
from plans.models import CompensationCategory, PlanRisk, PlanStatus, SupportMeasure
from plans.tests.factories import ready_plan


def png_bytes(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes():
    """A real one-page PDF (a receipt must parse and have a page)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def receipt(name="kvīts.png", content=None):
    return SimpleUploadedFile(name, png_bytes() if content is None else content)


def transport_measure(plan, planned="100.00", responsible=None):
    risk = plan.risks.first() or PlanRisk.objects.create(
        plan=plan, risk_factor_id=1, justification="x"
    )
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=CompensationCategory.TRANSPORT_TICKETS,
        planned_amount=Decimal(planned),
        approved_amount=Decimal(planned) if plan.first_approved_at else None,
        responsible=responsible or plan.preparer,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    )
    measure.risks.set([risk])
    return measure


def this_month():
    return timezone.localdate().replace(day=1)


def draft_claim(*, plan, by, amount="30.00", measure=None, receipts=None):
    measure = measure or plan.measures.filter(measure_type="compensation").first()
    measure = measure or transport_measure(plan)
    today = timezone.localdate()
    return create_claim(
        measure=measure,
        by=by,
        month=this_month(),
        lines=[{"date": today, "description": "Autobusa biļetes", "amount": Decimal(amount)}],
        receipts=[receipt()] if receipts is None else receipts,
    )


def submitted_claim(*, plan, by, amount="30.00", measure=None):
    from compensations.services import submit_claim

    claim = draft_claim(plan=plan, by=by, amount=amount, measure=measure)
    submit_claim(claim=claim, by=by)
    return claim


def at_status(claim, status):
    CompensationClaim.objects.filter(pk=claim.pk).update(status=status)
    claim.refresh_from_db()
    return claim


def claimable_plan(cast, planned="100.00"):
    """The cast's pupil's plan in progress, with a transport compensation of ``planned``."""
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan, planned=planned)
    return plan

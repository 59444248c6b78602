"""Everything held about one pupil, as one archive, for a data-subject request (GDPR art. 15):
``pupil.json`` with every record, the plans as PDFs, and the receipts as uploaded."""

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from compensations.models import CompensationClaim
from early_warning.models import Attendance, ConductNotes, Grade, Indicator
from plans.models import SupportPlan
from reports.documents import plan_documents, plan_pdf_name, render_plan_pdf


def _row(instance, exclude=()):
    """Every stored column of the row (also the ones no form edits)."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(instance, field.attname)
        data[field.attname] = value.name if hasattr(value, "storage") else value
    return data


def _early_warning(student):
    """The e-journal facts imported about the pupil and the levels computed from them."""

    def period_rows(model):
        return [
            {**_row(row, exclude=["student"]), "period": str(row.period)}
            for row in model.objects.filter(student=student).select_related("period")
        ]

    return {
        "attendance": period_rows(Attendance),
        "grades": period_rows(Grade),
        "conduct_notes": period_rows(ConductNotes),
        "indicators": period_rows(Indicator),
    }


def pupil_archive(student, *, generated_by):
    plans = (
        SupportPlan.objects.filter(student=student)
        .prefetch_related(
            "risks__risk_factor",
            "measures__consultations",
            "measures__risks",
            "status_changes",
        )
        .select_related("semester__school_year", "evaluation")
    )
    claims = CompensationClaim.objects.filter(plan__student=student).prefetch_related(
        "lines", "receipts", "status_changes"
    )
    record = {
        "generated_at": timezone.now(),
        "generated_by": generated_by,
        "pupil": _row(student),
        "guardians": [_row(g) for g in student.guardians.all()],
        "enrollments": [
            {"school_year": str(e.school_year), "class": e.class_group.label}
            for e in student.enrollments.select_related("class_group", "school_year")
        ],
        "history": [
            {"at": h.history_date, "type": h.history_type, "by": h.history_user_id}
            for h in student.history.all()
        ],
        "plans": [],
        "claims": [],
        "early_warning": _early_warning(student),
    }
    for plan in plans:
        record["plans"].append(
            {
                **_row(plan),
                "semester": str(plan.semester),
                "risks": [{**_row(r), "risk_factor": r.risk_factor.name} for r in plan.risks.all()],
                "measures": [
                    {
                        **_row(m, exclude=["risks"]),
                        "risks": [r.pk for r in m.risks.all()],
                        "consultations": [_row(c) for c in m.consultations.all()],
                    }
                    for m in plan.measures.all()
                ],
                "evaluation": _row(plan.evaluation) if hasattr(plan, "evaluation") else None,
                "status_changes": [_row(c) for c in plan.status_changes.all()],
            }
        )
    for claim in claims:
        record["claims"].append(
            {
                **_row(claim),
                "lines": [_row(line) for line in claim.lines.all()],
                "receipts": [
                    {**_row(r, exclude=["file"]), "file": f"receipts/{r.public_id}"}
                    for r in claim.receipts.all()
                ],
                "status_changes": [_row(c) for c in claim.status_changes.all()],
            }
        )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "pupil.json", json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for plan in plan_documents(SupportPlan.objects.filter(student=student)):
            pdf = render_plan_pdf(plan, generated_by=generated_by)
            archive.writestr(f"plans/{plan_pdf_name(plan)}", pdf)
        for claim in claims:
            for receipt in claim.receipts.all():
                try:
                    with receipt.file.open("rb") as handle:
                        archive.writestr(f"receipts/{receipt.public_id}", handle.read())
                except FileNotFoundError:
                    archive.writestr(f"receipts/{receipt.public_id}.missing", "")
    return buffer.getvalue()

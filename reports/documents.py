"""The data of plan documents (one plan, or a semester bundle) in a fixed number of queries."""

from django.db.models import F, FilteredRelation, Prefetch, Q
from django.utils import timezone

from compensations.services import measure_sums
from iap_portal.pdf import render_pdf
from plans.models import PlanRisk, SupportMeasure


def plan_documents(plans):
    """Plans (a queryset) with risks, measures, delivered hours, claim sums, evaluation and
    the pupil's class in the plan's school year."""
    plans = list(
        plans.select_related(
            "student",
            "school",
            "semester__school_year",
            "preparer",
            "approved_by",
            "evaluation__evaluated_by",
            "evaluation__early_allowed_by",
        )
        .annotate(
            year_class=FilteredRelation(
                "student__enrollments",
                condition=Q(student__enrollments__school_year_id=F("semester__school_year_id")),
            ),
            class_grade=F("year_class__class_group__grade"),
            class_letter=F("year_class__class_group__letter"),
        )
        .prefetch_related(
            Prefetch("risks", queryset=PlanRisk.objects.select_related("risk_factor__risk_type")),
            Prefetch(
                "measures",
                queryset=SupportMeasure.objects.select_related("specialist_type", "responsible")
                .prefetch_related("risks__risk_factor")
                .with_delivery()
                .order_by("pk"),
            ),
        )
    )
    compensation_ids = [
        m.pk
        for plan in plans
        for m in plan.measures.all()
        if m.measure_type == SupportMeasure.Type.COMPENSATION
    ]
    sums = measure_sums(compensation_ids) if compensation_ids else {}
    for plan in plans:
        plan.class_label = f"{plan.class_grade}.{plan.class_letter}" if plan.class_grade else ""
        for measure in plan.measures.all():
            measure.claim_sums = sums.get(measure.pk, {})
    return plans


def render_plan_pdf(plan, *, generated_by, request=None):
    """One plan (prepared by plan_documents) as a PDF, as the plan page, the semester bundle
    and the pupil's data archive all give it."""
    return render_pdf(
        "reports/plans_pdf.html",
        {"plans": [plan], "generated_by": generated_by, "generated_at": timezone.localtime()},
        request=request,
    )


def plan_pdf_name(plan):
    """The file name of a plan's PDF (plan codes contain slashes)."""
    return f"{plan.code.replace('/', '-')}.pdf"

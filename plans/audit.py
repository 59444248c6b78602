"""Views of a pupil's data in the plans' pages, for the audit log: each names the pupil."""

from iap_portal import audit
from iap_portal.models import AuditEvent


def record_plan_view(request, plan, detail=""):
    """A page that shows a plan (its risks' justifications, measures, evaluation) or acts on
    it is a view of the pupil's data: the audit log names the pupil and the plan."""
    audit.record_view(
        request,
        AuditEvent.Action.VIEW_PLAN,
        school=plan.school_id,
        obj=plan,
        detail=" ".join(filter(None, [plan.code, detail])),
        student=plan.student_id,
    )


def record_pupil_view(request, student, detail=""):
    audit.record_view(
        request,
        AuditEvent.Action.VIEW_PUPIL,
        school=student.school_id,
        obj=student,
        detail=detail,
        student=student,
    )


def record_plan_list(request, what, plans):
    """A list of plans (or of what hangs on them) names the pupils it showed, in one row."""
    plans = list(plans)
    audit.record_list(
        request,
        what,
        [plan.student_id for plan in plans],
        schools=[plan.school_id for plan in plans],
    )

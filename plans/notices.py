"""Who hears of what happens to a plan (notifications.services.notify, in the service's own
transaction; the e-mails go once it commits). Above the school a plan is shown by its code
only: no pupil's name reaches a municipality or the agency, in the portal or by e-mail."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from notifications.services import notify
from students.models import ApprovalLevel, Role


def approvers_at(plan, level):
    """The people who decide a plan at this level of its route (four eyes aside: whoever
    prepared or changed the plan is left out by the caller where it matters)."""
    users = get_user_model().objects.filter(is_active=True)
    if level == ApprovalLevel.SCHOOL:
        users = users.filter(memberships__role=Role.COORDINATOR, memberships__school=plan.school_id)
    elif level == ApprovalLevel.MUNICIPALITY:
        users = users.filter(
            memberships__role=Role.MUNICIPALITY,
            memberships__municipality=plan.school.municipality_id,
        )
    else:
        users = users.filter(memberships__role=Role.AGENCY)
    return list(users.distinct())


def plan_link(plan, level=ApprovalLevel.SCHOOL):
    if level == ApprovalLevel.SCHOOL:
        return reverse("plan_detail", args=[plan.pk])
    return reverse("approval_detail", args=[plan.pk])


def plan_waits(plan, *, by):
    """The plan waits at its (new) level: its approvers there hear of it."""
    level = plan.approval_level
    params = {"code": plan.code}
    if level == ApprovalLevel.SCHOOL:
        params["pupil"] = plan.student.first_name
    notify(
        recipients=[u for u in approvers_at(plan, level) if u.pk != plan.preparer_id],
        kind="plan_submitted",
        url=plan_link(plan, level),
        item=f"plan:{plan.pk}",
        params=params,
        exclude=by,
        pupil_id=plan.student_id,
    )


def _to_preparer(plan, kind, *, by, comment=""):
    notify(
        recipients=[plan.preparer],
        kind=kind,
        url=plan_link(plan),
        item=f"plan:{plan.pk}",
        params={"code": plan.code, "pupil": plan.student.first_name},
        comment=comment,
        exclude=by,
        pupil_id=plan.student_id,
    )


def plan_approved(plan, *, by):
    _to_preparer(plan, "plan_approved", by=by)


def plan_returned(plan, *, by, comment):
    _to_preparer(plan, "plan_returned", by=by, comment=comment)


def measures_assigned(plan, measures, *, by):
    """Each newly responsible person of a measure hears of it (not who assigned it)."""
    for measure in measures:
        notify(
            recipients=[measure.responsible],
            kind="measure_assigned",
            url=plan_link(plan),
            item=f"measure:{measure.pk}",
            params={"code": plan.code, "pupil": plan.student.first_name},
            exclude=by,
            pupil_id=plan.student_id,
        )

"""The plans' deadlines, from the calendar and the settings: a semester's plans are due
IAP_PLAN_DUE_WEEKS weeks after it starts, their evaluations at its end, and a plan may wait
at an approval level IAP_APPROVAL_LATE_DAYS_<LEVEL> working days. They give the daily
reminders (``manage.py send_reminders``) and the late items of a user's home page; the
queues mark late plans through ``approvals.mark_waiting``."""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from notifications.hooks import LateItem, Reminder
from students.access import get_access
from students.models import ApprovalLevel, Semester

from . import approvals, notices
from .access import waiting_for
from .models import PlanStatus, SupportPlan

# Evaluations are reminded of for this long after the semester ended (then the plan is for
# the coordinator to close: nobody is reminded of a year-old plan every day).
EVALUATION_REMINDER_DAYS = 90
EVALUATED_FROM = PlanStatus.RUNNING | {PlanStatus.SUSPENDED}


def plan_due_date(semester) -> date:
    return semester.start_date + timedelta(weeks=settings.IAP_PLAN_DUE_WEEKS)


def _semesters_due(today):
    """Semesters still running whose plans' due date has passed."""
    return [
        s
        for s in Semester.objects.filter(start_date__lte=today, end_date__gte=today)
        if plan_due_date(s) < today
    ]


def overdue_drafts(today, plans=None):
    """Drafts of a running semester past its plans' due date (never submitted)."""
    plans = SupportPlan.objects.all() if plans is None else plans
    semesters = {s.pk: s for s in _semesters_due(today)}
    return (
        plans.filter(status=PlanStatus.DRAFT, semester_id__in=list(semesters))
        .select_related("student", "preparer", "semester")
        .order_by("pk")
    )


def evaluations_due(today, plans=None):
    """Running plans of a semester that has ended (recently), not yet evaluated."""
    plans = SupportPlan.objects.all() if plans is None else plans
    return (
        plans.filter(
            status__in=EVALUATED_FROM,
            semester__end_date__lt=today,
            semester__end_date__gte=today - timedelta(days=EVALUATION_REMINDER_DAYS),
        )
        .select_related("student", "preparer", "semester")
        .order_by("pk")
    )


def late_waiting(today, plans=None):
    """Submitted plans waiting at their level longer than the level allows."""
    plans = SupportPlan.objects.all() if plans is None else plans
    waiting = list(
        plans.filter(status=PlanStatus.SUBMITTED)
        .annotate(waiting_from=Coalesce(F("level_since"), F("submitted_at")))
        .filter(waiting_from__isnull=False, waiting_from__date__lt=today)
        .select_related("student", "school__municipality")
        .order_by("pk")
    )
    return [plan for plan in approvals.mark_waiting(waiting, today) if plan.is_late]


def _pupil_params(plan, **extra):
    return {"code": plan.code, "pupil": plan.student.first_name, **extra}


def reminders(today):
    for plan in overdue_drafts(today):
        yield Reminder(
            kind="plan_due",
            item=f"plan:{plan.pk}",
            url=reverse("plan_detail", args=[plan.pk]),
            recipients=[plan.preparer],
            params=_pupil_params(plan, due=plan_due_date(plan.semester).isoformat()),
            pupil_id=plan.student_id,
        )
    for plan in evaluations_due(today):
        yield Reminder(
            kind="evaluation_due",
            item=f"plan:{plan.pk}",
            url=reverse("plan_detail", args=[plan.pk]),
            recipients=[plan.preparer],
            params=_pupil_params(plan, due=plan.semester.end_date.isoformat()),
            pupil_id=plan.student_id,
        )
    for plan in late_waiting(today):
        level = plan.approval_level
        yield Reminder(
            kind="plan_waiting",
            item=f"plan:{plan.pk}",
            url=notices.plan_link(plan, level),
            recipients=[u for u in notices.approvers_at(plan, level) if u.pk != plan.preparer_id],
            # Above the school the plan is known by its code only.
            params={"code": plan.code, "days": plan.waited},
        )


def late_items(user, today):
    """The late plans that wait for this user: their own drafts past due and evaluations
    due, and plans waiting too long for their approval (at the school or above)."""
    items = []
    mine = SupportPlan.objects.filter(preparer=user)
    for plan in overdue_drafts(today, mine):
        items.append(
            LateItem(
                "plan_due",
                plan.code,
                reverse("plan_detail", args=[plan.pk]),
                plan_due_date(plan.semester),
                {"pupil": plan.student.first_name, "due": plan_due_date(plan.semester).isoformat()},
            )
        )
    for plan in evaluations_due(today, mine):
        items.append(
            LateItem(
                "evaluation_due",
                plan.code,
                reverse("plan_detail", args=[plan.pk]),
                plan.semester.end_date,
                {"pupil": plan.student.first_name, "due": plan.semester.end_date.isoformat()},
            )
        )
    schools = get_access(user).coordinated_school_ids
    to_approve = waiting_for(user)
    if schools:
        to_approve = to_approve | SupportPlan.objects.filter(
            Q(school_id__in=schools, approval_level=ApprovalLevel.SCHOOL),
            status=PlanStatus.SUBMITTED,
        )
    for plan in late_waiting(today, to_approve.exclude(preparer=user)):
        level = plan.approval_level
        items.append(
            LateItem(
                "plan_waiting",
                plan.code,
                notices.plan_link(plan, level),
                plan.waiting_since.date(),
                {"days": plan.waited},
            )
        )
    return items

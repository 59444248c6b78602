"""A few notifications for the demo school's people (called by ``load_demo``, after the plans
and claims), so that the bell is not empty in ``make run``: what the events would have told
them, about the demo's own plans and claims, some read and some not. Shown in the portal only
(no e-mail goes). Idempotent: a person who has notifications is left alone."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from compensations.models import ClaimStatus, CompensationClaim
from notifications.models import MailState, Notification
from plans.models import PlanStatus, SupportMeasure, SupportPlan


def _row(user, kind, obj, url, *, pupil_id, hours_ago, read=False, comment="", **params):
    at = timezone.now() - timedelta(hours=hours_ago)
    return Notification(
        recipient=user,
        kind=kind,
        params=params,
        comment=comment,
        url=url,
        item=f"{'claim' if isinstance(obj, CompensationClaim) else 'plan'}:{obj.pk}",
        mail_state=MailState.NONE,
        read_at=at + timedelta(hours=1) if read else None,
        pupil_id=pupil_id,
    ), at


def create_demo_notifications(*, school, users, today):
    # This semester's: whom each is for sees them now.
    plans = SupportPlan.objects.filter(
        school=school, semester__start_date__lte=today, semester__end_date__gte=today
    ).order_by("pk")
    claims = CompensationClaim.objects.filter(plan__in=plans).order_by("-month", "pk")
    teacher, coordinator = users["audzinataja"], users["koordinators"]
    pedagogue, specialist = users["socpedagogs"], users["psihologs"]
    rows = []

    def plan_row(user, kind, plan, **fields):
        url = reverse("plan_detail", args=[plan.pk])
        rows.append(
            _row(
                user,
                kind,
                plan,
                url,
                code=plan.code,
                pupil=plan.student.first_name,
                pupil_id=plan.student_id,
                **fields,
            )
        )

    def claim_row(user, kind, claim, **fields):
        url = reverse("claim_detail", args=[claim.pk])
        pupil = claim.plan.student.first_name
        rows.append(
            _row(
                user,
                kind,
                claim,
                url,
                code=claim.code,
                pupil=pupil,
                pupil_id=claim.plan.student_id,
                **fields,
            )
        )

    mine = plans.filter(preparer=teacher).select_related("student")
    approved = mine.filter(status__in=PlanStatus.ACTIVE).first()
    returned = mine.filter(status=PlanStatus.DRAFT).first()
    if approved:
        plan_row(teacher, "plan_approved", approved, hours_ago=30, read=True)
    if returned:
        plan_row(
            teacher,
            "plan_returned",
            returned,
            hours_ago=5,
            comment="Lūdzu, papildiniet pamatojumu ar kavējumu skaitu oktobrī.",
        )
    decided = (
        claims.filter(submitted_by=teacher, status=ClaimStatus.APPROVED)
        .select_related("plan__student")
        .first()
    )
    if decided:
        claim_row(teacher, "claim_decided", decided, hours_ago=2, outcome="approved")
    waiting = plans.filter(status=PlanStatus.SUBMITTED).select_related("student")
    for hours, plan in enumerate(waiting[:2], start=1):
        plan_row(coordinator, "plan_submitted", plan, hours_ago=hours * 3)
    for hours, claim in enumerate(
        claims.filter(status=ClaimStatus.SUBMITTED).select_related("plan__student")[:2], start=1
    ):
        claim_row(pedagogue, "claim_submitted", claim, hours_ago=hours * 4)
    measure = (
        SupportMeasure.objects.filter(
            plan__in=plans.filter(status__in=PlanStatus.RUNNING), responsible=specialist
        )
        .select_related("plan__student")
        .first()
    )
    if measure:
        plan_row(specialist, "measure_assigned", measure.plan, hours_ago=20)

    fresh = [
        (row, at)
        for row, at in rows
        if not Notification.objects.filter(recipient=row.recipient).exists()
    ]
    made = Notification.objects.bulk_create([row for row, _at in fresh])
    # created_at is set on insert: put each at the time the event would have happened.
    for row, at in zip(made, [at for _row, at in fresh], strict=True):
        Notification.objects.filter(pk=row.pk).update(created_at=at)
    return len(made)

"""A submitted claim waits IAP_CLAIM_LATE_DAYS days for its decision at most: later it is late
(the claims queue marks it; its deciders are reminded daily; their home page lists it)."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.hooks import LateItem, Reminder
from students.access import get_access
from students.models import Role

from . import notices
from .access import can_decide_claim
from .models import ClaimStatus, CompensationClaim


def late_since(claim):
    """The day the submitted claim became late (None: it has not been submitted)."""
    if claim.submitted_at is None:
        return None
    return timezone.localdate(claim.submitted_at) + timedelta(days=settings.IAP_CLAIM_LATE_DAYS)


def mark_late(claims, today=None):
    """Set ``waited`` (days since submission) and ``is_late`` on each submitted claim."""
    today = today or timezone.localdate()
    for claim in claims:
        submitted = claim.submitted_at and timezone.localdate(claim.submitted_at)
        waiting = claim.status == ClaimStatus.SUBMITTED and submitted
        claim.waited = (today - submitted).days if waiting else 0
        claim.is_late = bool(waiting) and claim.waited > settings.IAP_CLAIM_LATE_DAYS
    return claims


def late_claims(today, claims=None):
    claims = CompensationClaim.objects.all() if claims is None else claims
    cutoff = today - timedelta(days=settings.IAP_CLAIM_LATE_DAYS)
    return list(
        mark_late(
            claims.filter(status=ClaimStatus.SUBMITTED, submitted_at__date__lt=cutoff)
            .select_related("school", "plan__student")
            .order_by("pk"),
            today,
        )
    )


def reminders(today):
    for claim in late_claims(today):
        yield Reminder(
            kind="claim_waiting",
            item=f"claim:{claim.pk}",
            url=reverse("claim_detail", args=[claim.pk]),
            recipients=notices.deciders(claim),
            params={"code": claim.code, "days": claim.waited},
        )


def late_items(user, today):
    """The late claims this user decides (never one they filed or changed themselves)."""
    schools = get_access(user).school_ids(Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR)
    if not schools:
        return []
    claims = CompensationClaim.objects.filter(school_id__in=schools)
    return [
        LateItem(
            "claim_waiting",
            claim.code,
            reverse("claim_detail", args=[claim.pk]),
            late_since(claim),
            {"days": claim.waited},
        )
        for claim in late_claims(today, claims)
        if can_decide_claim(user, claim)
    ]

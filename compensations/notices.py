"""Who hears of what happens to a compensation claim (notifications.services.notify, in the
service's own transaction; the e-mails go once it commits, naming the pupil by first name)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from notifications.services import notify
from students.models import Role

from .access import Decider, _touchers, who_decides


def deciders(claim):
    """Whoever may decide the claim now: the school's social pedagogues who did not touch it,
    or its coordinators where the school lets them decide instead."""
    decider = who_decides(claim)
    if decider == Decider.NOBODY:
        return []
    role = Role.SOCIAL_PEDAGOGUE if decider == Decider.SOCIAL_PEDAGOGUE else Role.COORDINATOR
    return list(
        get_user_model()
        .objects.filter(is_active=True, memberships__role=role, memberships__school=claim.school_id)
        .exclude(pk__in=_touchers(claim))
        .distinct()
    )


def _params(claim, **extra):
    return {"code": claim.code, "pupil": claim.plan.student.first_name, **extra}


def claim_submitted(claim, *, by):
    notify(
        recipients=deciders(claim),
        kind="claim_submitted",
        url=reverse("claim_detail", args=[claim.pk]),
        item=f"claim:{claim.pk}",
        params=_params(claim),
        exclude=by,
        pupil_id=claim.plan.student_id,
    )


def to_submitter(claim, kind, *, by, comment="", **params):
    """The claim's submitter hears of its decision or its payment."""
    notify(
        recipients=[claim.submitted_by],
        kind=kind,
        url=reverse("claim_detail", args=[claim.pk]),
        item=f"claim:{claim.pk}",
        params=_params(claim, **params),
        comment=comment,
        exclude=by,
        pupil_id=claim.plan.student_id,
    )

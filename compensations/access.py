"""Who sees which compensation claims, and who may file, decide and pay them (built on
``students.access`` and ``plans.access``)."""

from django.db.models import TextChoices
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from iap_portal.actions import touched_by
from plans.access import can_prepare_plan
from students.access import STAFF_ROLES, get_access, taught_student_ids
from students.models import Membership, Role

from .hooks import records_payment_of
from .models import ClaimStatus, CompensationClaim


def visible_claims(user):
    """Claims of the pupils one may see, for the roles that handle money (not specialists)."""
    access = get_access(user)
    query = CompensationClaim.objects.filter(school_id__in=access.school_ids(*STAFF_ROLES))
    if access.has_role(Role.CLASS_TEACHER):
        query = query | CompensationClaim.objects.filter(
            plan__student_id__in=taught_student_ids(user)
        )
    return query


def get_claim_or_404(user, pk):
    claim = (
        visible_claims(user)
        .filter(pk=pk)
        .select_related(
            "measure", "plan__student", "plan__semester__school_year", "school", "submitted_by"
        )
        .first()
    )
    if claim is None:
        raise Http404
    return claim


def can_file_claim(user, plan) -> bool:
    return can_prepare_plan(user, plan.student)


def touched_claim(user, claim) -> bool:
    """Whether the user filed the claim, ever submitted it, or changed its lines or receipts
    since it was last decided (then they may not decide on it or pay it: four eyes)."""
    return user.pk in _touchers(claim)


def _touchers(claim):
    return touched_by(claim, creator_id=claim.submitted_by_id, submitted=ClaimStatus.SUBMITTED)


class Decider(TextChoices):
    """Who decides a submitted claim."""

    SOCIAL_PEDAGOGUE = "social_pedagogue", _("a social pedagogue of the school")
    COORDINATOR = (
        "coordinator",
        _(
            "the coordinator, as every social pedagogue of the school filed, submitted or "
            "changed it"
        ),
    )
    NOBODY = (
        "nobody",
        _(
            "nobody yet: every social pedagogue of the school filed, submitted or changed it, and "
            "the school's settings do not let the coordinator decide it"
        ),
    )


def who_decides(claim) -> Decider:
    """A social pedagogue who did not touch the claim; failing one, the coordinator where the
    school's setting says so; else nobody (the claim page says why)."""
    cached = getattr(claim, "_decider", None)
    if cached is None:
        untouched = (
            Membership.objects.filter(
                school_id=claim.school_id, role=Role.SOCIAL_PEDAGOGUE, user__is_active=True
            )
            .exclude(user_id__in=_touchers(claim))
            .exists()
        )
        if untouched:
            cached = Decider.SOCIAL_PEDAGOGUE
        elif claim.school.claims_fall_back_to_coordinator:
            cached = Decider.COORDINATOR
        else:
            cached = Decider.NOBODY
        claim._decider = cached
    return cached


def decides_claims_of(user, claim) -> bool:
    """The role part of deciding: the school's social pedagogue, or its coordinator when every
    social pedagogue touched the claim and the school's setting lets the coordinator decide."""
    access = get_access(user)
    if claim.school_id in access.school_ids(Role.SOCIAL_PEDAGOGUE):
        return True
    return claim.school_id in access.coordinated_school_ids and (
        who_decides(claim) == Decider.COORDINATOR
    )


def can_decide_claim(user, claim) -> bool:
    """Whoever decides the school's claims (``decides_claims_of``), never on one they touched."""
    return decides_claims_of(user, claim) and not touched_claim(user, claim)


def can_pay_claim(user, claim) -> bool:
    """The payer of the claim's sent payment batch records its payment (payments tells who),
    never a person who filed, submitted, changed or approved the claim (four eyes)."""
    return (
        records_payment_of(user, claim)
        and claim.decided_by_id != user.pk
        and not touched_claim(user, claim)
    )

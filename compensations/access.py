"""Who sees which compensation claims, and who may file, decide and pay them (built on
``students.access`` and ``plans.access``)."""

from django.http import Http404

from iap_portal.actions import touched_by
from plans.access import can_prepare_plan
from students.access import STAFF_ROLES, can_manage_school, get_access, taught_student_ids
from students.models import Role

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
    return user.pk in touched_by(
        claim, creator_id=claim.submitted_by_id, submitted=ClaimStatus.SUBMITTED
    )


def can_decide_claim(user, claim) -> bool:
    """The school's social pedagogue decides, and never on a claim they touched."""
    return claim.school_id in get_access(user).school_ids(
        Role.SOCIAL_PEDAGOGUE
    ) and not touched_claim(user, claim)


def can_pay_claim(user, claim) -> bool:
    """The school's coordinator records the payment, and never of a claim they touched."""
    return can_manage_school(user, claim.school_id) and not touched_claim(user, claim)

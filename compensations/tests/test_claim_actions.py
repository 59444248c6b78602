"""The claim page offers exactly what the services accept: every status × every role."""

import pytest
from django.urls import reverse
from django.utils import timezone

from compensations import services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import at_status, draft_claim, transport_measure
from conftest import CAST_ROLES, accepted
from plans.models import PlanStatus
from plans.tests.factories import ready_plan

# The page's flag -> the service call it stands for.
CALLS = {
    "can_edit": lambda claim, user: services.update_claim(
        claim=claim, by=user, month=claim.month, lines=_lines(claim), receipts=[]
    ),
    "can_decide": lambda claim, user: services.approve_claim(claim=claim, by=user),
    # Paying is not on the claim page: it is recorded on a sent payment batch (payments).
}


def _lines(claim):
    return [
        {"date": line.date, "description": line.description, "amount": line.amount}
        for line in claim.lines.all()
    ]


def _accepted(claim_pk, user):
    """What the services accept from this user on the claim as it is (nothing kept)."""
    return {
        flag
        for flag, call in CALLS.items()
        if accepted(
            lambda call=call: call(CompensationClaim.objects.get(pk=claim_pk), user),
            services.ClaimError,
        )
    }


@pytest.mark.parametrize("role", CAST_ROLES)
@pytest.mark.parametrize("status", list(ClaimStatus))
def test_the_claim_page_offers_exactly_what_the_services_accept(cast, login, status, role):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    claim = draft_claim(plan=plan, by=cast.class_teacher, measure=transport_measure(plan))
    if status == ClaimStatus.PAID:  # a paid claim has its payment date (a constraint)
        CompensationClaim.objects.filter(pk=claim.pk).update(paid_on=timezone.localdate())
    claim = at_status(claim, status)
    user = cast.users[role]
    page = login(user).get(reverse("claim_detail", args=[claim.pk]))
    shown = {flag for flag in CALLS if page.context[flag]} if page.status_code == 200 else set()
    assert shown == _accepted(claim.pk, user)

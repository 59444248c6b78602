"""Two people acting on a claim at the same moment get one consistent outcome: approved with the
lines as they were when approved, or changed and not approved; never lines changed after
an approval, a submission of what was not checked, or more approved than the plan allows.

Each test reads the copies the two requests would hold first, then runs them overlapping on
two real connections (``conftest.overlapping``): PostgreSQL only."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from compensations import services
from compensations.models import ClaimStatus, ClaimStatusChange, CompensationClaim, Receipt
from compensations.tests.factories import (
    draft_claim,
    submitted_claim,
    this_month,
    transport_measure,
)
from conftest import overlapping
from plans.models import PlanStatus, SupportMeasure
from plans.tests.factories import ready_plan
from students.models import Role
from students.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def cast(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    return cast_tx


@pytest.fixture
def plan(cast):
    """A plan in progress with a transport compensation of 100,00 € approved."""
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan, planned="100.00")
    return plan


@pytest.fixture
def colleague(cast):
    """A second social pedagogue, who may decide what the first one touched."""
    user = UserFactory(username="second_social_pedagogue")
    MembershipFactory(user=user, school=cast.school, role=Role.SOCIAL_PEDAGOGUE)
    return user


def copy(claim):
    """The claim as a request reads it at its start."""
    return CompensationClaim.objects.select_related("measure", "plan__student", "school").get(
        pk=claim.pk
    )


def lines(amount):
    day = timezone.localdate()
    return [{"date": day, "description": "Autobusa biļetes", "amount": Decimal(amount)}]


def edit(claim, by, amount):
    return lambda: services.update_claim(
        claim=claim, by=by, month=this_month(), lines=lines(amount), receipts=[]
    )


def amounts(claim):
    return list(claim.lines.values_list("amount", flat=True))


def test_an_edit_over_the_remainder_and_a_submission_at_once_submit_only_what_was_checked(
    cast, plan
):
    """The teacher raises the claim to 150,00 € in one tab and submits it in another: the
    submission waits for the edit and then checks the new amount (refused), instead of
    submitting 150,00 € checked as 30,00 €."""
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="30.00")
    form, page = copy(claim), copy(claim)
    edited, submitted = overlapping(
        edit(form, cast.class_teacher, "150.00"),
        lambda: services.submit_claim(claim=page, by=cast.class_teacher),
        refused=services.ClaimError,
    )
    claim.refresh_from_db()
    assert not isinstance(edited, services.ClaimError)
    assert isinstance(submitted, services.ClaimError)
    assert (claim.status, claim.total) == (ClaimStatus.DRAFT, Decimal("150.00"))


def test_removing_the_only_receipt_while_the_claim_is_submitted_keeps_it(cast, plan):
    claim = draft_claim(plan=plan, by=cast.class_teacher)
    page = copy(claim)
    receipt = Receipt.objects.select_related("claim__plan__student", "claim__school").get()
    submitted, removed = overlapping(
        lambda: services.submit_claim(claim=page, by=cast.class_teacher),
        lambda: services.delete_receipt(receipt=receipt, by=cast.class_teacher),
        refused=services.ClaimError,
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED and not isinstance(submitted, Exception)
    assert isinstance(removed, services.ClaimError)
    assert claim.receipts.count() == 1


def test_an_approval_and_an_edit_from_an_older_form_give_one_outcome(cast, plan, colleague):
    """The teacher opened the returned claim's form; meanwhile it was submitted again and is
    being approved: the edit waits for the approval and is refused, the approved lines stay."""
    claim = submitted_claim(plan=plan, by=cast.class_teacher, amount="30.00")
    services.return_claim(claim=copy(claim), by=colleague, comment="Pievienot čeku")
    form = copy(claim)
    services.submit_claim(claim=copy(claim), by=cast.class_teacher)
    approving = copy(claim)
    approved, edited = overlapping(
        lambda: services.approve_claim(claim=approving, by=cast.social_pedagogue),
        edit(form, cast.class_teacher, "60.00"),
        refused=services.ClaimError,
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and not isinstance(approved, Exception)
    assert isinstance(edited, services.ClaimError)
    assert (claim.total, amounts(claim)) == (Decimal("30.00"), [Decimal("30.00")])


def test_an_approval_during_a_return_edit_and_resubmission_is_refused(cast, plan, colleague):
    """The social pedagogue approves the 30,00 € they looked at while a colleague returns the
    claim and the teacher raises it to 90,00 € and submits it again: the approval waits and is
    refused (look again), instead of approving 90,00 € nobody who approved has seen."""
    claim = submitted_claim(plan=plan, by=cast.class_teacher, amount="30.00")
    approving = copy(claim)

    def return_edit_and_resubmit():
        services.return_claim(claim=copy(claim), by=colleague, comment="Trūkst biļetes")
        edit(copy(claim), cast.class_teacher, "90.00")()
        services.submit_claim(claim=copy(claim), by=cast.class_teacher)

    _, approved = overlapping(
        return_edit_and_resubmit,
        lambda: services.approve_claim(claim=approving, by=cast.social_pedagogue),
        refused=services.ClaimError,
    )
    claim.refresh_from_db()
    assert isinstance(approved, services.ClaimChanged)
    assert (claim.status, claim.total) == (ClaimStatus.SUBMITTED, Decimal("90.00"))
    assert not ClaimStatusChange.objects.filter(claim=claim, to_status=ClaimStatus.APPROVED)


def test_two_approvals_on_one_measure_never_pass_its_approved_amount(cast, plan, colleague):
    """Two claims of 60,00 € submitted while 150,00 € was approved; the plan's revision then
    approved 100,00 €. Two social pedagogues approve one each at the same moment: one only."""
    measure = plan.measures.get(measure_type="compensation")
    SupportMeasure.objects.filter(pk=measure.pk).update(approved_amount=Decimal("150.00"))
    first = submitted_claim(plan=plan, by=cast.class_teacher, amount="60.00")
    second = submitted_claim(plan=plan, by=cast.class_teacher, amount="60.00")
    SupportMeasure.objects.filter(pk=measure.pk).update(approved_amount=Decimal("100.00"))
    one, other = copy(first), copy(second)
    overlapping(
        lambda: services.approve_claim(claim=one, by=cast.social_pedagogue),
        lambda: services.approve_claim(claim=other, by=colleague),
        refused=services.ClaimError,
    )
    granted = CompensationClaim.objects.filter(measure=measure, status__in=ClaimStatus.GRANTED)
    assert list(granted.values_list("pk", flat=True)) == [first.pk]

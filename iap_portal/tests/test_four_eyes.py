"""Four eyes, as a matrix: every decision × every way a person can have touched the object.

Whoever created the plan or claim, ever submitted it, or ever changed its content may not
decide on it (approve, return, reject, record its payment); a genuine other person in the same
role may. Whoever approved a claim, put it into a payment batch or sent the batch does not record
its payment either."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from compensations import services as claims
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import (
    claimable_plan,
    draft_claim,
    receipt,
    this_month,
)
from conftest import accepted
from iap_portal.models import AuditEvent
from iap_portal.users import display_name
from payments import services as payments
from payments.models import BatchLine
from payments.tests.batch_factories import debtor_account, guardian_payee, sent_batch
from plans import services as plans
from plans.models import PlanStatus, SupportPlan
from plans.tests.factories import ready_plan, semester_ends_in
from students.models import ApprovalLevel, ApprovalRoute, Role
from students.tests.factories import MembershipFactory, UserFactory


def colleague(cast, role):
    """A second person in the same role at the cast's school: the genuine other."""
    user = UserFactory(username=f"second_{role}")
    MembershipFactory(user=user, school=cast.school, role=role)
    return user


# --- Claims ---------------------------------------------------------------------------------


def _lines(amount):
    day = timezone.localdate()
    return [{"date": day, "description": "Autobusa biļetes", "amount": Decimal(amount)}]


def _edit(claim, by, *, amount="60.00", receipts=()):
    claims.update_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=by,
        month=this_month(),
        lines=_lines(amount),
        receipts=list(receipts),
    )


def claim_touched(cast, plan, how, toucher, other_decider):
    """A submitted claim that ``toucher`` touched in the way ``how``."""
    teacher = cast.class_teacher
    measure = plan.measures.get(measure_type="compensation")
    filer = toucher if how == "filed" else teacher
    claim = draft_claim(plan=plan, by=filer, measure=measure, amount="18.00")
    if how == "edited lines":
        _edit(claim, toucher)
    if how == "added a receipt":
        _edit(claim, toucher, amount="18.00", receipts=[receipt()])
    if how == "removed a receipt":
        _edit(claim, teacher, amount="18.00", receipts=[receipt()])
        claims.delete_receipt(receipt=claim.receipts.order_by("pk").last(), by=toucher)
    submitter = toucher if how == "submitted" else teacher
    claims.submit_claim(claim=claim, by=submitter)
    if how == "edited after a return":
        claims.return_claim(claim=claim, by=other_decider, comment="Pievienot čeku")
        _edit(claim, toucher, amount="20.00")
        claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=teacher)
    return CompensationClaim.objects.get(pk=claim.pk)


CLAIM_TOUCHES = [
    "filed",
    "submitted",
    "edited lines",
    "added a receipt",
    "removed a receipt",
    "edited after a return",
]
CLAIM_DECISIONS = {
    "approve": lambda claim, by: claims.approve_claim(claim=claim, by=by),
    "reject": lambda claim, by: claims.reject_claim(claim=claim, by=by, reason="Nav čeka"),
    "return": lambda claim, by: claims.return_claim(claim=claim, by=by, comment="Labot"),
}


@pytest.fixture
def plan(cast):
    return claimable_plan(cast)


@pytest.mark.parametrize("decision", sorted(CLAIM_DECISIONS))
@pytest.mark.parametrize("how", CLAIM_TOUCHES)
def test_nobody_decides_a_claim_they_touched(cast, plan, decision, how):
    toucher = cast.social_pedagogue
    other = colleague(cast, Role.SOCIAL_PEDAGOGUE)
    claim = claim_touched(cast, plan, how, toucher, other)
    decide = CLAIM_DECISIONS[decision]
    assert not accepted(lambda: decide(claim, toucher), claims.ClaimError)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED
    assert accepted(lambda: decide(claim, other), claims.ClaimError)


def accountant_who_also_works_at_the_school(cast, role, username="toucher_accountant"):
    """Someone who is the municipality's accountant and also holds a role at the school: the
    only way the person who records a payment can have touched the claim."""
    user = UserFactory(username=username)
    MembershipFactory(user=user, school=cast.school, role=role)
    MembershipFactory(
        user=user,
        school=None,
        municipality=cast.school.municipality,
        role=Role.MUNICIPAL_ACCOUNTANT,
    )
    return user


def _record_paid(claim, by):
    line = BatchLine.objects.get(claim=claim, outcome="pending")
    payments.record_paid(line=line, by=by, paid_on=timezone.localdate(), reference="MK-7")


def _record_refused(claim, by):
    line = BatchLine.objects.get(claim=claim, outcome="pending")
    payments.record_refused(line=line, by=by, reason="Nepareizs IBAN")


PAYMENT_DECISIONS = {"paid": _record_paid, "refused": _record_refused}


@pytest.mark.parametrize("decision", sorted(PAYMENT_DECISIONS))
@pytest.mark.parametrize("how", [*CLAIM_TOUCHES, "approved"])
def test_nobody_records_the_payment_of_a_claim_they_touched(cast, plan, how, decision):
    toucher = accountant_who_also_works_at_the_school(cast, Role.SOCIAL_PEDAGOGUE)
    decider = cast.social_pedagogue
    claim = claim_touched(cast, plan, how, toucher, decider)
    claims.approve_claim(claim=claim, by=toucher if how == "approved" else decider)
    sent_batch([CompensationClaim.objects.get(pk=claim.pk)], builder=cast.coordinator)
    record = PAYMENT_DECISIONS[decision]
    assert not accepted(lambda: record(claim, toucher), payments.BatchError)
    assert accepted(lambda: record(claim, cast.municipal_accountant), payments.BatchError)


@pytest.mark.parametrize("decision", sorted(PAYMENT_DECISIONS))
@pytest.mark.parametrize("how", ["put it into the batch", "sent the batch"])
def test_nobody_records_the_payment_of_a_batch_they_built(cast, plan, how, decision):
    """The school pays itself: its coordinators build the batch and pay it; whoever put the
    claim into the batch or sent it does not record its outcome, another coordinator does."""
    cast.school.payer = "school"
    cast.school.save(update_fields=["payer"])
    toucher, other = cast.coordinator, colleague(cast, Role.COORDINATOR)
    third = UserFactory(username="third_coordinator")
    MembershipFactory(user=third, school=cast.school, role=Role.COORDINATOR)
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    claims.submit_claim(claim=claim, by=cast.class_teacher)
    claims.approve_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.social_pedagogue)
    guardian_payee(cast.student, by=cast.coordinator)
    debtor_account(school=cast.school)
    adder, sender = (toucher, other) if how == "put it into the batch" else (other, toucher)
    batch = payments.create_batch(school=cast.school, month=this_month(), by=adder)
    payments.add_claims(batch=batch, claims=[CompensationClaim.objects.get(pk=claim.pk)], by=adder)
    payments.send_batch(batch=batch, by=sender)
    record = PAYMENT_DECISIONS[decision]
    assert not accepted(lambda: record(claim, toucher), payments.BatchError)
    assert accepted(lambda: record(claim, third), payments.BatchError)


def test_a_change_still_counts_after_another_decision_saw_it(cast, plan):
    """The social pedagogue raises the lines; a colleague returns the claim for a receipt; the
    teacher adds it and resubmits: the raised amount is still in what is decided now."""
    toucher, other = cast.social_pedagogue, colleague(cast, Role.SOCIAL_PEDAGOGUE)
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    _edit(claim, toucher, amount="60.00")
    claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    claims.return_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=other, comment="X")
    _edit(claim, cast.class_teacher, amount="60.00", receipts=[receipt()])
    claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    with pytest.raises(claims.ClaimError):
        claims.approve_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=toucher)


def test_the_rewritten_claim_loophole_is_closed(cast, plan):
    """The social pedagogue returns a teacher's claim, raises its lines (18,00 → 60,00 with
    the same receipt), has it resubmitted and approves it: refused now."""
    social_pedagogue = cast.social_pedagogue
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    claims.submit_claim(claim=claim, by=cast.class_teacher)
    claims.return_claim(claim=claim, by=social_pedagogue, comment="Labot")
    _edit(claim, social_pedagogue, amount="60.00")
    claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    with translation.override("en"), pytest.raises(claims.ClaimError, match="never by a person"):
        claims.approve_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=social_pedagogue)


def test_an_unchanged_save_is_not_a_change(cast, plan):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    _edit(claim, cast.social_pedagogue, amount="18.00")  # saved the form as it was
    claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    claims.approve_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.social_pedagogue)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED


# --- Plans ----------------------------------------------------------------------------------


def _save_content(plan, by):
    plans.save_plan_content(
        plan=SupportPlan.objects.get(pk=plan.pk),
        by=by,
        risks=[],
        removed_risks=[],
        measures=[],
        removed_measures=[],
    )


def plan_touched(cast, how, toucher, other_decider):
    teacher = cast.class_teacher
    preparer = toucher if how == "prepared" else teacher
    plan = ready_plan(student=cast.student, preparer=preparer, responsible=cast.specialist)
    if how == "edited":
        _save_content(plan, toucher)
    submitter = toucher if how == "submitted" else teacher
    plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=submitter)
    if how == "edited after a return":
        plans.return_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=other_decider, comment="X")
        _save_content(plan, toucher)
        plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=teacher)
    if how == "revised after approval":
        plans.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=other_decider)
        plans.revise_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=teacher)
        _save_content(plan, toucher)
        plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=teacher)
    return SupportPlan.objects.get(pk=plan.pk)


PLAN_TOUCHES = [
    "prepared",
    "submitted",
    "edited",
    "edited after a return",
    "revised after approval",
]
PLAN_DECISIONS = {
    "approve": lambda plan, by: plans.approve_plan(plan=plan, by=by),
    "return": lambda plan, by: plans.return_plan(plan=plan, by=by, comment="Papildināt"),
}


@pytest.mark.parametrize("decision", sorted(PLAN_DECISIONS))
@pytest.mark.parametrize("how", PLAN_TOUCHES)
def test_nobody_decides_a_plan_they_touched(cast, decision, how):
    toucher = cast.coordinator
    other = colleague(cast, Role.COORDINATOR)
    plan = plan_touched(cast, how, toucher, other)
    decide = PLAN_DECISIONS[decision]
    assert not accepted(lambda: decide(plan, toucher), plans.PlanActionError)
    assert SupportPlan.objects.get(pk=plan.pk).status == PlanStatus.SUBMITTED
    assert accepted(lambda: decide(plan, other), plans.PlanActionError)


@pytest.mark.parametrize("how", PLAN_TOUCHES)
def test_nobody_allows_the_early_evaluation_of_a_plan_they_touched(cast, how):
    """Allowing a plan's evaluation before the school's window opens is a decision too."""
    semester_ends_in(21)  # the window (14 days by default) is not open yet
    toucher = cast.coordinator
    other = colleague(cast, Role.COORDINATOR)
    plan = plan_touched(cast, how, toucher, other)
    plans.approve_plan(plan=plan, by=other)

    def allow(by):
        return plans.allow_early_evaluation(
            plan=SupportPlan.objects.get(pk=plan.pk), by=by, reason="Pāriet uz citu skolu"
        )

    assert not accepted(lambda: allow(toucher), plans.PlanActionError)
    assert accepted(lambda: allow(other), plans.PlanActionError)


def test_the_edited_and_submitted_plan_loophole_is_closed(cast):
    """A coordinator edits a teacher's plan, submits it and approves it: refused now."""
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    _save_content(plan, cast.coordinator)
    plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)
    with translation.override("en"), pytest.raises(plans.PlanActionError, match="never by"):
        plans.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)


def test_a_self_approval_where_the_school_allows_it_is_marked(cast):
    cast.school.allow_self_approval = True
    cast.school.save(update_fields=["allow_self_approval"])
    plan = ready_plan(student=cast.student, preparer=cast.coordinator, responsible=cast.specialist)
    plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)
    plans.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)
    approval = plan.status_changes.order_by("pk").last()
    assert approval.to_status == PlanStatus.IN_PROGRESS and approval.comment  # says so
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.STATUS, detail__endswith="(self-approval)"
    ).exists()


def test_self_approval_never_applies_to_money(cast, plan):
    cast.school.allow_self_approval = True
    cast.school.save(update_fields=["allow_self_approval"])
    claim = draft_claim(plan=plan, by=cast.social_pedagogue, amount="18.00")
    claims.submit_claim(claim=claim, by=cast.social_pedagogue)
    with pytest.raises(claims.ClaimError):
        claims.approve_claim(
            claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.social_pedagogue
        )


def test_the_claim_page_says_who_changed_its_lines_and_receipts(cast, plan, login):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    _edit(claim, cast.social_pedagogue, amount="60.00", receipts=[receipt()])
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    who = display_name(cast.social_pedagogue)
    assert f"{who} changed line “Autobusa biļetes”: amount €18.00 → €60.00" in page
    assert f"{who} attached receipt “{claim.code}-2.png”" in page


# --- Somebody can always decide -------------------------------------------------------------


def _own_claim(cast, plan):
    """The social pedagogue's own claim (they are the compensation's responsible person)."""
    claim = draft_claim(plan=plan, by=cast.social_pedagogue, amount="18.00")
    claims.submit_claim(claim=claim, by=cast.social_pedagogue)
    return CompensationClaim.objects.get(pk=claim.pk)


def test_the_coordinator_decides_a_claim_every_social_pedagogue_touched(cast, plan, login):
    claim = _own_claim(cast, plan)
    client = login(cast.social_pedagogue)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Decided by the coordinator" in page and "so you may not decide it" in page
    response = login(cast.coordinator).post(reverse("claim_approve", args=[claim.pk]))
    assert response.status_code == 302
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED


def test_with_an_untouched_social_pedagogue_the_coordinator_does_not_decide(cast, plan, login):
    colleague(cast, Role.SOCIAL_PEDAGOGUE)
    claim = _own_claim(cast, plan)
    assert (
        login(cast.coordinator).post(reverse("claim_approve", args=[claim.pk])).status_code == 403
    )
    with pytest.raises(claims.ClaimError):
        claims.approve_claim(claim=claim, by=cast.coordinator)


def test_without_the_fallback_the_claim_page_says_nobody_can_decide_yet(cast, plan, login):
    cast.school.claims_fall_back_to_coordinator = False
    cast.school.save(update_fields=["claims_fall_back_to_coordinator"])
    claim = _own_claim(cast, plan)
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Decided by nobody yet" in page
    assert client.post(reverse("claim_approve", args=[claim.pk])).status_code == 403


# --- Plans above the school -------------------------------------------------------------------


def upper_toucher(cast):
    """Someone who is the school's coordinator and also approves for its municipality and for
    IKVD: the only way a person above the school can have touched a plan."""
    user = UserFactory(username="toucher_above")
    MembershipFactory(user=user, school=cast.school, role=Role.COORDINATOR)
    MembershipFactory(
        user=user, school=None, municipality=cast.school.municipality, role=Role.MUNICIPALITY
    )
    MembershipFactory(user=user, school=None, role=Role.AGENCY)
    return user


UPPER_DECIDER = {ApprovalLevel.MUNICIPALITY: "municipality", ApprovalLevel.AGENCY: "agency"}


def plan_at_level(cast, how, toucher, level):
    """A plan waiting at ``level`` (route school → municipality → IKVD) that ``toucher``
    touched in the way ``how``: one of PLAN_TOUCHES, or approving it at the level below."""
    school_decider = colleague(cast, Role.COORDINATOR)
    if how == "approved below":
        plan = ready_plan(
            student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
        )
        plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.class_teacher)
    else:
        plan = plan_touched(cast, how, toucher, school_decider)
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY_AGENCY
    cast.school.save(update_fields=["approval_route"])
    below = {ApprovalLevel.MUNICIPALITY: ApprovalLevel.SCHOOL}.get(
        level, ApprovalLevel.MUNICIPALITY
    )
    deciders = {ApprovalLevel.SCHOOL: school_decider, ApprovalLevel.MUNICIPALITY: cast.municipality}
    while (plan := SupportPlan.objects.get(pk=plan.pk)).approval_level != level:
        current = plan.approval_level
        by = toucher if how == "approved below" and current == below else deciders[current]
        plans.approve_plan(plan=plan, by=by)
    return plan


@pytest.mark.parametrize("decision", sorted(PLAN_DECISIONS))
@pytest.mark.parametrize("how", [*PLAN_TOUCHES, "approved below"])
@pytest.mark.parametrize("level", [ApprovalLevel.MUNICIPALITY, ApprovalLevel.AGENCY])
def test_nobody_decides_a_plan_they_touched_at_any_level(cast, level, decision, how):
    toucher = upper_toucher(cast)
    plan = plan_at_level(cast, how, toucher, level)
    decide = PLAN_DECISIONS[decision]
    assert not accepted(lambda: decide(plan, toucher), plans.PlanActionError)
    assert SupportPlan.objects.get(pk=plan.pk).approval_level == level
    assert accepted(lambda: decide(plan, cast.users[UPPER_DECIDER[level]]), plans.PlanActionError)


def test_self_approval_of_the_school_does_not_reach_the_levels_above(cast):
    cast.school.allow_self_approval = True
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["allow_self_approval", "approval_route"])
    toucher = upper_toucher(cast)
    plan = ready_plan(student=cast.student, preparer=toucher, responsible=cast.specialist)
    plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=toucher)
    plans.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=toucher)  # marked
    plan = SupportPlan.objects.get(pk=plan.pk)
    assert plan.approval_level == ApprovalLevel.MUNICIPALITY
    assert "self-approval" in AuditEvent.objects.filter(action="status").first().detail
    with pytest.raises(plans.PlanActionError):
        plans.approve_plan(plan=plan, by=toucher)

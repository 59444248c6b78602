"""Approving a plan against the school's allocation warns at its edge (exactly what is not yet
planned: no warning; one cent more: warned), and an approval over budget is recorded; a claim
over the allocation is refused at its edge with the figures."""

from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import OverBudgetApproval
from budgets.tests.helpers import allocate, approved_plan, claim, compensation, pupil
from compensations import services as claims
from compensations.models import ClaimStatus
from compensations.tests.factories import submitted_claim
from iap_portal.models import AuditEvent
from plans import services
from plans.models import CompensationCategory, PlanStatus, PlanStatusChange, SupportPlan
from plans.tests.factories import ready_plan
from students.models import ApprovalLevel, ApprovalRoute, Role
from students.tests.factories import MembershipFactory, UserFactory

T = CompensationCategory.TRANSPORT_TICKETS


def fresh(plan):
    return SupportPlan.objects.select_related("school__municipality", "semester").get(pk=plan.pk)


@pytest.fixture
def semester(cast):
    return cast.year.semesters.get(number=1)


def submitted_plan(cast, semester, amount):
    """Prepared by the social pedagogue (a pupil of no class of the cast's teacher)."""
    plan = ready_plan(
        student=pupil(cast.school),
        preparer=cast.social_pedagogue,
        responsible=cast.specialist,
        semester=semester,
    )
    compensation(plan, T, amount, approved=False)
    return services.submit_plan(plan=fresh(plan), by=cast.social_pedagogue)


@pytest.fixture
def budget(cast, semester):
    """500,00 € allocated, 300,00 € planned in another approved plan: 200,00 € not planned."""
    allocate(cast.school, cast.year, "500.00", by=cast.agency)
    approved_plan(cast, semester=semester, compensations=[(T, "300.00")])


def test_a_plan_exactly_at_what_is_not_yet_planned_is_approved_without_a_warning(
    cast, semester, budget
):
    plan = submitted_plan(cast, semester, "200.00")
    approved = services.approve_plan(plan=fresh(plan), by=cast.coordinator)
    assert approved.status in PlanStatus.ACTIVE
    assert not OverBudgetApproval.objects.exists()
    event = AuditEvent.objects.filter(object_id=str(plan.pk)).latest("pk")
    assert "over budget" not in event.detail


def test_one_cent_over_is_refused_with_the_figures_until_the_approver_confirms(
    cast, semester, budget
):
    plan = submitted_plan(cast, semester, "200.01")
    with pytest.raises(services.OverBudget) as refused:
        services.approve_plan(plan=fresh(plan), by=cast.coordinator)
    message = refused.value.messages[0]
    for figure in ("200,01 €", "300,00 €", "500,01 €", "500,00 €", "0,01 €"):
        assert figure in message, figure
    assert fresh(plan).status == PlanStatus.SUBMITTED

    approved = services.approve_plan(plan=fresh(plan), by=cast.coordinator, over_budget_ok=True)
    assert approved.status in PlanStatus.ACTIVE
    record = OverBudgetApproval.objects.get()
    assert (record.plan, record.level, record.by, record.over_by) == (
        plan,
        ApprovalLevel.SCHOOL,
        cast.coordinator,
        Decimal("0.01"),
    )
    assert (record.allocated, record.planned_elsewhere, record.this_plan) == (
        Decimal("500.00"),
        Decimal("300.00"),
        Decimal("200.01"),
    )
    change = PlanStatusChange.objects.filter(plan=plan).latest("pk")
    assert "Pārsniegts budžets" in change.comment and "0,01 €" in change.comment
    event = AuditEvent.objects.filter(object_id=str(plan.pk)).latest("pk")
    assert "over budget by 0.01 EUR" in event.detail


def test_a_school_without_an_allocation_gets_no_warning(cast, semester):
    plan = submitted_plan(cast, semester, "2900.00")
    assert services.approve_plan(plan=fresh(plan), by=cast.coordinator).status in (
        PlanStatus.ACTIVE
    )
    assert not OverBudgetApproval.objects.exists()


def test_a_revision_replaces_its_own_earlier_figures(cast, semester, budget):
    """Approved with 150,00 € and revised to 200,00 €: its earlier 150 is not counted twice."""
    plan = approved_plan(cast, semester=semester, compensations=[(T, "150.00")])
    plan = services.revise_plan(plan=fresh(plan), by=cast.social_pedagogue)
    plan.measures.filter(compensation_category=T).update(planned_amount=Decimal("200.00"))
    plan = services.submit_plan(plan=fresh(plan), by=cast.social_pedagogue)
    assert services.approve_plan(plan=fresh(plan), by=cast.coordinator).status in (
        PlanStatus.ACTIVE
    )


def test_each_level_of_the_route_is_warned_and_recorded(cast, semester, budget):
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    plan = submitted_plan(cast, semester, "250.00")
    services.approve_plan(plan=fresh(plan), by=cast.coordinator, over_budget_ok=True)
    assert fresh(plan).approval_level == ApprovalLevel.MUNICIPALITY
    with pytest.raises(services.OverBudget):
        services.approve_plan(plan=fresh(plan), by=cast.municipality)
    services.approve_plan(plan=fresh(plan), by=cast.municipality, over_budget_ok=True)
    assert list(OverBudgetApproval.objects.order_by("pk").values_list("level", "by")) == [
        (ApprovalLevel.SCHOOL, cast.coordinator.pk),
        (ApprovalLevel.MUNICIPALITY, cast.municipality.pk),
    ]
    passed_on = PlanStatusChange.objects.filter(
        plan=plan, from_status="submitted", to_status="submitted"
    ).get()
    assert "Pārsniegts budžets" in passed_on.comment


def test_bulk_approval_reports_plans_over_budget_back_unless_confirmed(cast, semester, budget):
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    within = submitted_plan(cast, semester, "50.00")
    over = submitted_plan(cast, semester, "250.00")
    for plan in (within, over):
        services.approve_plan(plan=fresh(plan), by=cast.coordinator, over_budget_ok=True)
    seen = {p.pk: fresh(p).updated_at.isoformat() for p in (within, over)}
    approved, refused = services.approve_plans(seen=seen, by=cast.municipality)
    assert [p.pk for p in approved] == [within.pk]
    assert refused[0][0] == over.code and "Pārsniegts budžets" in refused[0][1][0]
    seen = {over.pk: fresh(over).updated_at.isoformat()}
    approved, refused = services.approve_plans(seen=seen, by=cast.municipality, over_budget_ok=True)
    assert [p.pk for p in approved] == [over.pk] and not refused


# --- Claims ---------------------------------------------------------------------------------


@pytest.fixture
def colleague(cast):
    user = UserFactory(username="second_social_pedagogue")
    MembershipFactory(user=user, school=cast.school, role=Role.SOCIAL_PEDAGOGUE)
    return user


@pytest.fixture
def claimable(cast, semester):
    """100,00 € allocated; 60,00 € approved in claims on another plan; a plan with 500,00 €."""
    allocate(cast.school, cast.year, "100.00", by=cast.agency)
    other = approved_plan(cast, semester=cast.year.semesters.get(number=2), compensations=[])
    claim(compensation(other, T, "60.00"), "60.00", by=cast.class_teacher)
    return approved_plan(
        cast,
        semester=semester,
        compensations=[(T, "500.00")],
        student=cast.student,
    )


def test_a_claim_up_to_the_allocation_is_approved(cast, claimable):
    pending = submitted_claim(plan=claimable, by=cast.class_teacher, amount="40.00")
    claims.approve_claim(claim=pending, by=cast.social_pedagogue)
    pending.refresh_from_db()
    assert pending.status == ClaimStatus.APPROVED


def test_a_claim_one_cent_over_the_allocation_is_refused_with_the_figures(cast, claimable):
    pending = submitted_claim(plan=claimable, by=cast.class_teacher, amount="40.01")
    with pytest.raises(claims.ClaimError) as refused:
        claims.approve_claim(claim=pending, by=cast.social_pedagogue)
    message = refused.value.messages[0]
    for figure in ("100,00 €", "60,00 €", "40,01 €", "0,01 €"):
        assert figure in message, figure
    pending.refresh_from_db()
    assert pending.status == ClaimStatus.SUBMITTED


def test_paid_claims_count_and_other_years_do_not(cast, claimable):
    last_year = approved_plan(
        cast, semester=cast.last_year.semesters.get(number=1), compensations=[]
    )
    claim(compensation(last_year, T, "90.00"), "90.00", ClaimStatus.PAID, by=cast.class_teacher)
    pending = submitted_claim(plan=claimable, by=cast.class_teacher, amount="40.00")
    claims.approve_claim(claim=pending, by=cast.social_pedagogue)
    paid = submitted_claim(plan=claimable, by=cast.class_teacher, amount="0.01")
    with pytest.raises(claims.ClaimError):
        claims.approve_claim(claim=paid, by=cast.social_pedagogue)


def test_a_claim_of_a_school_without_an_allocation_is_not_limited(cast, semester):
    plan = approved_plan(
        cast, semester=semester, compensations=[(T, "500.00")], student=cast.student
    )
    pending = submitted_claim(plan=plan, by=cast.class_teacher, amount="450.00")
    claims.approve_claim(claim=pending, by=cast.social_pedagogue)
    pending.refresh_from_db()
    assert pending.status == ClaimStatus.APPROVED


def test_the_claim_page_shows_the_refusal(cast, claimable, login):
    pending = submitted_claim(plan=claimable, by=cast.class_teacher, amount="40.01")
    response = login(cast.social_pedagogue).post(
        reverse("claim_approve", args=[pending.pk]), follow=True
    )
    assert "pārsniegts skolas piešķīrums" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == ClaimStatus.SUBMITTED

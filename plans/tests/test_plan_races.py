"""Approving, submitting and editing a plan at the same moment give one consistent outcome:
approved with the measures as they were when approved, or changed and not approved.

As in ``compensations/tests/test_claim_races.py``: the copies the requests would hold are read
first, then the two run overlapping on two real connections (PostgreSQL only)."""

from decimal import Decimal

import pytest
from django.db import connection

from conftest import overlapping
from plans import services
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import ready_plan
from students.models import Role
from students.tests.factories import MembershipFactory, StudentFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def cast(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    return cast_tx


@pytest.fixture
def plan(cast):
    """A draft with one consultation measure of 6 hours."""
    return ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )


def copy(plan):
    """The plan as a request reads it at its start."""
    return SupportPlan.objects.select_related("student", "school", "semester").get(pk=plan.pk)


def save_measure_hours(plan, by, hours):
    """What the edit page saves: the plan's header and its measure with new planned hours."""
    measure = SupportMeasure.objects.get(plan=plan)
    factors = [risk.risk_factor for risk in measure.risks.all()]
    measure.planned_hours = Decimal(hours)
    return lambda: services.save_plan_content(
        plan=plan,
        by=by,
        risks=[],
        removed_risks=[],
        measures=[(measure, factors)],
        removed_measures=[],
    )


def hours(plan):
    return SupportMeasure.objects.values_list("planned_hours", "approved_hours").get(plan=plan)


def test_an_approval_and_an_edit_from_an_older_form_give_one_outcome(cast, plan):
    """The teacher opened the draft's edit page; meanwhile it was submitted and is being
    approved: the edit waits for the approval and is refused, the approved hours stay."""
    form = copy(plan)
    edit = save_measure_hours(form, cast.class_teacher, "20")
    services.submit_plan(plan=copy(plan), by=cast.class_teacher)
    approving = copy(plan)
    approved, edited = overlapping(
        lambda: services.approve_plan(plan=approving, by=cast.coordinator),
        edit,
        refused=services.PlanActionError,
    )
    assert not isinstance(approved, Exception)
    assert isinstance(edited, services.PlanActionError)
    assert SupportPlan.objects.get(pk=plan.pk).status in PlanStatus.ACTIVE
    assert hours(plan) == (Decimal("6"), Decimal("6"))


def test_an_approval_during_a_return_edit_and_resubmission_is_refused(cast, plan):
    """The coordinator approves the 6 hours they looked at while a colleague returns the plan
    and the teacher raises them to 20 and submits it again: the approval waits and is refused
    (look again), instead of approving 20 hours the approver has not seen."""
    colleague = UserFactory(username="second_coordinator")
    MembershipFactory(user=colleague, school=cast.school, role=Role.COORDINATOR)
    services.submit_plan(plan=copy(plan), by=cast.class_teacher)
    approving = copy(plan)

    def return_edit_and_resubmit():
        services.return_plan(plan=copy(plan), by=colleague, comment="Vairāk stundu")
        save_measure_hours(copy(plan), cast.class_teacher, "20")()
        services.submit_plan(plan=copy(plan), by=cast.class_teacher)

    _, approved = overlapping(
        return_edit_and_resubmit,
        lambda: services.approve_plan(plan=approving, by=cast.coordinator),
        refused=services.PlanActionError,
    )
    assert isinstance(approved, services.StatusChanged)
    assert SupportPlan.objects.get(pk=plan.pk).status == PlanStatus.SUBMITTED
    assert hours(plan) == (Decimal("20"), None)


def test_removing_the_only_measure_while_the_plan_is_submitted_refuses_the_submission(cast, plan):
    """The submission waits for the edit and checks what it left: no measure, not submitted."""
    form = copy(plan)
    measure = SupportMeasure.objects.get(plan=plan)
    page = copy(plan)
    edited, submitted = overlapping(
        lambda: services.save_plan_content(
            plan=form,
            by=cast.class_teacher,
            risks=[],
            removed_risks=[],
            measures=[],
            removed_measures=[measure],
        ),
        lambda: services.submit_plan(plan=page, by=cast.class_teacher),
        refused=services.PlanActionError,
    )
    assert not isinstance(edited, Exception)
    assert isinstance(submitted, services.PlanActionError)
    assert SupportPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


# --- Above the school: a bulk approval and a return at the same moment ------------------------


def waiting_at_municipality(cast, plan):
    from students.models import ApprovalRoute

    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    services.submit_plan(plan=copy(plan), by=cast.class_teacher)
    services.approve_plan(plan=copy(plan), by=cast.coordinator)
    return copy(plan)


def second_municipal_coordinator(cast):
    user = UserFactory(username="second_municipality")
    MembershipFactory(
        user=user, school=None, municipality=cast.school.municipality, role=Role.MUNICIPALITY
    )
    return user


@pytest.mark.parametrize("first", ["bulk", "return"])
def test_a_bulk_approval_and_a_return_give_one_outcome(cast, plan, first):
    """Two municipal coordinators: one approves the queue as they read it, the other returns
    one of its plans at the same moment. The plan is either approved or returned, never both;
    a bulk approval that lost is told so, not approved."""
    plan = waiting_at_municipality(cast, plan)
    seen = {plan.pk: plan.updated_at.isoformat()}
    returning = copy(plan)
    colleague = second_municipal_coordinator(cast)

    def bulk():
        return services.approve_plans(seen=seen, by=cast.municipality)

    def give_back():
        return services.return_plan(plan=returning, by=colleague, comment="Par daudz stundu")

    calls = (bulk, give_back) if first == "bulk" else (give_back, bulk)
    results = dict(
        zip(
            [c.__name__ for c in calls],
            overlapping(*calls, refused=services.PlanActionError),
            strict=True,
        )
    )
    plan = SupportPlan.objects.get(pk=plan.pk)
    approved, refused = results["bulk"]
    if first == "bulk":
        assert len(approved) == 1 and not refused
        assert isinstance(results["give_back"], services.PlanActionError)
        assert plan.status == PlanStatus.IN_PROGRESS
    else:
        assert not approved and [code for code, _m in refused] == [plan.code]
        assert plan.status == PlanStatus.DRAFT
    assert plan.status_changes.filter(by__in=[cast.municipality, colleague]).count() == 1


@pytest.mark.parametrize("first", ["bulk", "return"])
def test_a_bulk_approval_approves_the_others_when_one_is_returned_at_the_same_moment(
    cast, plan, first
):
    """Two plans in the queue; while the municipality approves both as it read them, a
    colleague returns one. Each plan is its own decision: the other one is approved either
    way, and the returned one is either approved (the bulk was first) or reported back."""
    from students.models import ApprovalRoute

    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    other_pupil = StudentFactory(school=cast.school)
    enrol(other_pupil, cast.class_group)
    other = ready_plan(
        student=other_pupil, preparer=cast.class_teacher, responsible=cast.specialist
    )
    for each in (plan, other):
        services.submit_plan(plan=copy(each), by=cast.class_teacher)
        services.approve_plan(plan=copy(each), by=cast.coordinator)
    seen = {p.pk: copy(p).updated_at.isoformat() for p in (plan, other)}
    returning = copy(other)
    colleague = second_municipal_coordinator(cast)

    def bulk():
        return services.approve_plans(seen=seen, by=cast.municipality)

    def give_back():
        return services.return_plan(plan=returning, by=colleague, comment="Trūkst datu")

    calls = (bulk, give_back) if first == "bulk" else (give_back, bulk)
    results = dict(
        zip(
            [c.__name__ for c in calls],
            overlapping(*calls, refused=services.PlanActionError),
            strict=True,
        )
    )
    approved, refused = results["bulk"]
    assert SupportPlan.objects.get(pk=plan.pk).status == PlanStatus.IN_PROGRESS
    returned = SupportPlan.objects.get(pk=other.pk)
    if first == "bulk":
        assert {p.pk for p in approved} == {plan.pk, other.pk} and not refused
        assert returned.status == PlanStatus.IN_PROGRESS
    else:
        assert [p.pk for p in approved] == [plan.pk]
        assert [code for code, _m in refused] == [other.code]
        assert returned.status == PlanStatus.DRAFT
    # One decision of the municipality's per plan approved, each in the plan's own history.
    for each in approved:
        assert each.status_changes.filter(by=cast.municipality).count() == 1

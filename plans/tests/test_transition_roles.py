"""Every transition × every role of the cast: who may, and that the refused leave no trace."""

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import CAST_ROLES, accepted
from plans import services
from plans.models import PlanEvaluation, PlanStatus, PlanStatusChange, SupportPlan
from plans.tests.factories import ready_plan, semester_ends_in

ROLES = CAST_ROLES
PREPARERS = {"class_teacher", "social_pedagogue", "coordinator"}


def _evaluate(plan, by):
    return services.evaluate_plan(
        plan=plan,
        by=by,
        evaluation=PlanEvaluation(overall_outcome="promoted", narrative="Kavējumi samazinājās."),
        risk_outcomes={risk.pk: "reduced" for risk in plan.risks.all()},
        measure_notes={},
    )


# The days from today to the semester's end: inside the school's evaluation window (14 days by
# default), and before it opens.
WINDOW_OPEN, WINDOW_CLOSED = 7, 21

# action -> (status the plan is in, the call, who may, status afterwards)
TRANSITIONS = {
    "submit": (
        PlanStatus.DRAFT,
        lambda p, u: services.submit_plan(plan=p, by=u),
        PREPARERS,
        PlanStatus.SUBMITTED,
    ),
    "approve": (
        PlanStatus.SUBMITTED,
        lambda p, u: services.approve_plan(plan=p, by=u),
        {"coordinator"},
        PlanStatus.IN_PROGRESS,
    ),
    "return": (
        PlanStatus.SUBMITTED,
        lambda p, u: services.return_plan(plan=p, by=u, comment="Papildināt"),
        {"coordinator"},
        PlanStatus.DRAFT,
    ),
    "revise": (
        PlanStatus.IN_PROGRESS,
        lambda p, u: services.revise_plan(plan=p, by=u),
        PREPARERS,
        PlanStatus.REVISION,
    ),
    "suspend": (
        PlanStatus.IN_PROGRESS,
        lambda p, u: services.suspend_plan(plan=p, by=u, reason="Prombūtne"),
        PREPARERS,
        PlanStatus.SUSPENDED,
    ),
    "resume": (
        PlanStatus.SUSPENDED,
        lambda p, u: services.resume_plan(plan=p, by=u),
        PREPARERS,
        PlanStatus.IN_PROGRESS,
    ),
    "delete": (
        PlanStatus.DRAFT,
        lambda p, u: services.delete_plan(plan=p, by=u),
        PREPARERS,
        PlanStatus.INACTIVE,
    ),
    "evaluate": (PlanStatus.IN_PROGRESS, _evaluate, PREPARERS, PlanStatus.EVALUATED),
    # Not a status change, but a decision kept in the status history (in progress → in progress).
    "allow_early_evaluation": (
        PlanStatus.IN_PROGRESS,
        lambda p, u: services.allow_early_evaluation(plan=p, by=u, reason="Pāriet uz citu skolu"),
        {"coordinator"},
        PlanStatus.IN_PROGRESS,
    ),
}
# Each transition's matrix runs on the side of the evaluation window where it can happen.
WINDOW = {"allow_early_evaluation": WINDOW_CLOSED}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_transition_is_allowed_only_to_its_roles(cast, action, role):
    start, call, allowed, end = TRANSITIONS[action]
    semester_ends_in(WINDOW.get(action, WINDOW_OPEN))
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=start,
        first_approved_at=(
            timezone.now() if start in {PlanStatus.IN_PROGRESS, PlanStatus.SUSPENDED} else None
        ),
        status_before_suspension=PlanStatus.IN_PROGRESS if start == PlanStatus.SUSPENDED else "",
    )
    if role in allowed:
        call(plan, cast.users[role])
        assert SupportPlan.objects.get(pk=plan.pk).status == end
        assert PlanStatusChange.objects.filter(plan=plan, to_status=end).count() == 1
    else:
        with pytest.raises(services.PlanActionError):
            call(plan, cast.users[role])
        assert SupportPlan.objects.get(pk=plan.pk).status == start
        assert not PlanStatusChange.objects.filter(plan=plan).exists()


# The statuses each transition starts from; from any other it is refused.
VALID_FROM = {
    "submit": {PlanStatus.DRAFT, PlanStatus.REVISION},
    "approve": {PlanStatus.SUBMITTED},
    "return": {PlanStatus.SUBMITTED},
    "revise": {PlanStatus.APPROVED, PlanStatus.IN_PROGRESS},
    "suspend": {PlanStatus.APPROVED, PlanStatus.IN_PROGRESS},
    "resume": {PlanStatus.SUSPENDED},
    "delete": set(PlanStatus) - {PlanStatus.EVALUATED, PlanStatus.INACTIVE},
    "evaluate": {PlanStatus.IN_PROGRESS, PlanStatus.SUSPENDED},
    "allow_early_evaluation": {PlanStatus.IN_PROGRESS, PlanStatus.SUSPENDED},
}
WRONG_STATUS_CASES = [
    (action, status)
    for action in sorted(TRANSITIONS)
    for status in PlanStatus
    if status not in VALID_FROM[action]
]


@pytest.mark.parametrize(("action", "status"), WRONG_STATUS_CASES)
def test_each_transition_is_refused_from_the_wrong_status(cast, action, status):
    _start, call, _allowed, _end = TRANSITIONS[action]
    semester_ends_in(WINDOW.get(action, WINDOW_OPEN))
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=status,
    )
    with pytest.raises(services.PlanActionError):
        call(plan, cast.coordinator)
    assert SupportPlan.objects.get(pk=plan.pk).status == status


def _accepted(plan_pk, user):
    """The transitions the services accept from this user on the plan as it is (none kept)."""
    return {
        action
        for action, (_start, call, _allowed, _end) in TRANSITIONS.items()
        if accepted(
            lambda call=call: call(SupportPlan.objects.get(pk=plan_pk), user),
            services.PlanActionError,
        )
    }


@pytest.mark.parametrize("window", [WINDOW_OPEN, WINDOW_CLOSED])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(PlanStatus))
def test_the_plan_page_offers_exactly_the_transitions_the_services_accept(
    cast, login, status, role, window
):
    semester_ends_in(window)
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=status,
        first_approved_at=timezone.now() if status != PlanStatus.DRAFT else None,
        status_before_suspension=PlanStatus.IN_PROGRESS if status == PlanStatus.SUSPENDED else "",
    )
    user = cast.users[role]
    page = login(user).get(reverse("plan_detail", args=[plan.pk]))
    shown = set(page.context["actions"]) if page.status_code == 200 else set()
    assert shown == _accepted(plan.pk, user)

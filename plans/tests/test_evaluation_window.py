"""Evaluation at the right time: from the school's window before the semester ends (14 days by
default), earlier only once a coordinator allowed it, who is then named in the plan's history,
the audit log and on the evaluation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from conftest import CAST_ROLES
from iap_portal.models import AuditEvent
from iap_portal.users import display_name
from plans import services
from plans.models import PlanEvaluation, PlanStatus, SupportPlan
from plans.tests.factories import ready_plan, semester_ends_in
from students.models import Role, Semester
from students.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def plan(cast):
    return running_plan(cast)


def running_plan(cast, preparer=None, **fields):
    return ready_plan(
        student=cast.student,
        preparer=preparer or cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now() - timedelta(days=30),
        **fields,
    )


def fresh(plan):
    return SupportPlan.objects.select_related("school", "semester").get(pk=plan.pk)


def evaluate(plan, by):
    plan = fresh(plan)
    return services.evaluate_plan(
        plan=plan,
        by=by,
        evaluation=PlanEvaluation(overall_outcome="promoted", narrative="Kavējumi samazinājās."),
        risk_outcomes={risk.pk: "reduced" for risk in plan.risks.all()},
        measure_notes={},
    )


def allow(plan, by, reason="Skolēns pāriet uz citu skolu."):
    return services.allow_early_evaluation(plan=fresh(plan), by=by, reason=reason)


def evaluation_data(plan):
    return {
        "overall_outcome": "promoted",
        "narrative": "Kavējumi samazinājās.",
        **{f"risk_{risk.pk}": "reduced" for risk in plan.risks.all()},
    }


def day(value):
    return f"{value.day}.{value:%m.%Y}"


def english(client):
    client.cookies["django_language"] = "en"
    return client


def colleague_coordinator(cast):
    user = UserFactory(username="second_coordinator")
    MembershipFactory(user=user, school=cast.school, role=Role.COORDINATOR)
    return user


# --- The window -----------------------------------------------------------------------------


def test_it_refuses_the_preparers_evaluation_three_weeks_before_the_semester_ends(cast, plan):
    semester = semester_ends_in(21)
    opens = semester.end_date - timedelta(days=14)
    with translation.override("en"), pytest.raises(services.PlanActionError) as refusal:
        evaluate(plan, cast.class_teacher)
    assert f"evaluated from {day(opens)}" in str(refusal.value.messages[0])
    assert f"ends on {day(semester.end_date)}" in str(refusal.value.messages[0])
    assert fresh(plan).status == PlanStatus.IN_PROGRESS
    assert not PlanEvaluation.objects.filter(plan=plan).exists()


def test_the_evaluation_page_refuses_it_too_and_names_the_date(cast, plan, login):
    semester = semester_ends_in(21)
    opens = day(semester.end_date - timedelta(days=14))
    client = english(login(cast.class_teacher))
    page = client.get(reverse("plan_evaluate", args=[plan.pk]), follow=True)
    assert page.redirect_chain == [(reverse("plan_detail", args=[plan.pk]), 302)]
    assert f"The plan can be evaluated from {opens}" in page.content.decode()
    response = client.post(reverse("plan_evaluate", args=[plan.pk]), evaluation_data(plan))
    assert response.status_code == 302
    assert fresh(plan).status == PlanStatus.IN_PROGRESS
    assert not PlanEvaluation.objects.filter(plan=plan).exists()


def test_the_plan_page_says_when_evaluation_opens_instead_of_offering_it(cast, plan, login):
    semester = semester_ends_in(21)
    page = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    assert "evaluate" not in page.context["actions"]
    assert page.context["evaluation_opens_on"] == semester.end_date - timedelta(days=14)
    text = page.content.decode()
    assert day(semester.end_date - timedelta(days=14)) in text  # in Latvian, by default
    assert reverse("plan_evaluate", args=[plan.pk]) not in text


@pytest.mark.parametrize("days_left", [14, 7, 1])
def test_the_preparer_evaluates_within_14_days_of_the_end(cast, plan, login, days_left):
    semester_ends_in(days_left)
    client = login(cast.class_teacher)
    assert "evaluate" in client.get(reverse("plan_detail", args=[plan.pk])).context["actions"]
    response = client.post(reverse("plan_evaluate", args=[plan.pk]), evaluation_data(plan))
    assert response.status_code == 302
    assert fresh(plan).status == PlanStatus.EVALUATED
    evaluation = PlanEvaluation.objects.get(plan=plan)
    assert evaluation.evaluated_by == cast.class_teacher and evaluation.early_allowed_by is None


def test_the_preparer_evaluates_after_the_semester_ended(cast):
    ended = cast.last_year.semesters.get(number=Semester.Number.SECOND)
    assert ended.end_date < timezone.localdate()
    plan = running_plan(cast, semester=ended)
    evaluate(plan, cast.class_teacher)
    assert fresh(plan).status == PlanStatus.EVALUATED


@pytest.mark.parametrize(
    ("window", "days_left", "open_"),
    [(30, 21, True), (21, 21, True), (20, 21, False), (7, 7, True), (7, 8, False), (0, 1, False)],
)
def test_the_schools_setting_changes_the_window(cast, plan, window, days_left, open_):
    cast.school.evaluation_window_days = window
    cast.school.save(update_fields=["evaluation_window_days"])
    semester_ends_in(days_left)
    if open_:
        evaluate(plan, cast.class_teacher)
        assert fresh(plan).status == PlanStatus.EVALUATED
    else:
        with pytest.raises(services.PlanActionError):
            evaluate(plan, cast.class_teacher)
        assert fresh(plan).status == PlanStatus.IN_PROGRESS


def test_a_window_of_no_days_opens_on_the_semesters_last_day(cast, plan):
    cast.school.evaluation_window_days = 0
    cast.school.save(update_fields=["evaluation_window_days"])
    semester = Semester.objects.current()
    if semester.start_date >= timezone.localdate():
        pytest.skip("a semester cannot end on the day it starts")
    semester_ends_in(0, semester)
    evaluate(plan, cast.class_teacher)
    assert fresh(plan).status == PlanStatus.EVALUATED


def test_the_window_cannot_be_set_beyond_60_days(cast):
    from django.core.exceptions import ValidationError

    cast.school.evaluation_window_days = 61
    with pytest.raises(ValidationError):
        cast.school.full_clean()


# --- Early, with the coordinator's permission ----------------------------------------------


def test_the_coordinator_allows_early_evaluation_and_it_is_recorded(cast, plan, login):
    semester_ends_in(21)
    coordinator = english(login(cast.coordinator))
    page = coordinator.get(reverse("plan_detail", args=[plan.pk]))
    assert "allow_early_evaluation" in page.context["actions"]
    # GET asks for the reason first (the confirmation), POST allows.
    url = reverse("plan_allow_early_evaluation", args=[plan.pk])
    confirm = coordinator.get(url)
    assert confirm.status_code == 200 and "comment" in confirm.context["form"].fields
    response = coordinator.post(url, {"comment": "Skolēns 15. decembrī pāriet uz citu skolu."})
    assert response.status_code == 302
    allowed = fresh(plan)
    assert allowed.status == PlanStatus.IN_PROGRESS
    assert allowed.early_evaluation_allowed_by == cast.coordinator
    assert allowed.early_evaluation_allowed_at is not None
    assert allowed.early_evaluation_reason == "Skolēns 15. decembrī pāriet uz citu skolu."
    change = allowed.status_changes.order_by("pk").last()
    assert change.by == cast.coordinator and "pāriet uz citu skolu" in change.comment
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.STATUS,
        user=cast.coordinator,
        object_id=str(plan.pk),
        detail__endswith="(early evaluation allowed)",
    ).exists()

    # The preparer sees who allowed it, and now may evaluate.
    client = english(login(cast.class_teacher))
    page = client.get(reverse("plan_detail", args=[plan.pk]))
    assert "evaluate" in page.context["actions"]
    assert f"Early evaluation was allowed by {display_name(cast.coordinator)}" in (
        page.content.decode()
    )
    form = client.get(reverse("plan_evaluate", args=[plan.pk]))
    assert form.status_code == 200 and "early evaluation was allowed by" in form.content.decode()
    response = client.post(reverse("plan_evaluate", args=[plan.pk]), evaluation_data(plan))
    assert response.status_code == 302
    evaluated = fresh(plan)
    assert evaluated.status == PlanStatus.EVALUATED
    evaluation = PlanEvaluation.objects.get(plan=plan)
    assert evaluation.evaluated_by == cast.class_teacher
    assert evaluation.early_allowed_by == cast.coordinator
    assert evaluation.early_allowed_at == allowed.early_evaluation_allowed_at
    evaluation_change = evaluated.status_changes.get(to_status=PlanStatus.EVALUATED)
    assert display_name(cast.coordinator) in evaluation_change.comment
    assert AuditEvent.objects.filter(
        detail__endswith=f"(early, allowed by {cast.coordinator.username})"
    ).exists()
    # Who allowed it, and when, stays on the evaluation (the plan page and its PDF).
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert f"Evaluated early: allowed by {display_name(cast.coordinator)}" in page
    assert client.get(reverse("plan_pdf", args=[evaluated.public_id])).status_code == 200


@pytest.mark.parametrize("reason", ["", "   "])
def test_early_evaluation_needs_a_reason(cast, plan, login, reason):
    semester_ends_in(21)
    url = reverse("plan_allow_early_evaluation", args=[plan.pk])
    response = login(cast.coordinator).post(url, {"comment": reason})
    assert response.status_code == 200  # the form again, with its error
    with pytest.raises(services.PlanActionError):
        allow(plan, cast.coordinator, reason=reason)
    assert fresh(plan).early_evaluation_allowed_at is None


@pytest.mark.parametrize("role", sorted(set(CAST_ROLES) - {"coordinator"}))
def test_only_the_schools_coordinator_allows_early_evaluation(cast, plan, login, role):
    semester_ends_in(21)
    user = cast.users[role]
    with pytest.raises(services.PlanActionError):
        allow(plan, user)
    url = reverse("plan_allow_early_evaluation", args=[plan.pk])
    response = login(user).post(url, {"comment": "Pāriet uz citu skolu."})
    assert response.status_code in (403, 404)
    assert fresh(plan).early_evaluation_allowed_at is None
    assert not plan.status_changes.exists()


def test_a_coordinator_who_prepared_the_plan_does_not_allow_its_early_evaluation(cast):
    semester_ends_in(21)
    plan = running_plan(cast, preparer=cast.coordinator)
    with pytest.raises(services.PlanActionError):
        allow(plan, cast.coordinator)
    allow(plan, colleague_coordinator(cast))
    assert fresh(plan).early_evaluation_allowed_at is not None


def test_the_coordinator_who_allowed_it_does_not_evaluate_early_themself(cast, plan):
    semester_ends_in(21)
    allow(plan, cast.coordinator)
    with translation.override("en"), pytest.raises(services.PlanActionError, match="four eyes"):
        evaluate(plan, cast.coordinator)
    evaluate(plan, colleague_coordinator(cast))
    assert fresh(plan).status == PlanStatus.EVALUATED


def test_where_the_school_allows_self_approval_the_coordinator_does_both_and_it_is_marked(cast):
    cast.school.allow_self_approval = True
    cast.school.save(update_fields=["allow_self_approval"])
    semester_ends_in(21)
    plan = running_plan(cast, preparer=cast.coordinator)
    allow(plan, cast.coordinator)
    evaluate(plan, cast.coordinator)
    plan = fresh(plan)
    assert plan.status == PlanStatus.EVALUATED
    allowed, evaluated = plan.status_changes.order_by("pk")
    assert allowed.comment.endswith(translation.gettext("Self-approval: the school allows it."))
    assert evaluated.comment.endswith(translation.gettext("Self-approval: the school allows it."))
    assert AuditEvent.objects.filter(detail__endswith="; self-approval)").count() == 2


def test_early_evaluation_is_not_allowed_when_the_window_is_open_or_twice(cast, plan, login):
    semester_ends_in(7)
    with pytest.raises(services.PlanActionError):
        allow(plan, cast.coordinator)
    page = login(cast.coordinator).get(reverse("plan_allow_early_evaluation", args=[plan.pk]))
    assert page.status_code == 302  # back to the plan, with the reason
    semester_ends_in(21)
    allow(plan, cast.coordinator)
    with pytest.raises(services.PlanActionError):
        allow(plan, colleague_coordinator(cast))
    assert plan.status_changes.count() == 1


def test_early_evaluation_is_not_allowed_on_a_plan_not_yet_started(cast, login):
    semester_ends_in(21)
    plan = running_plan(cast)
    SupportPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUBMITTED)
    with pytest.raises(services.PlanActionError):
        allow(plan, cast.coordinator)
    response = login(cast.coordinator).get(reverse("plan_allow_early_evaluation", args=[plan.pk]))
    assert response.status_code == 302
    assert fresh(plan).early_evaluation_allowed_at is None


def test_the_allow_page_answers_get_with_a_confirmation_and_nothing_changes(cast, plan, login):
    semester_ends_in(21)
    response = login(cast.coordinator).get(reverse("plan_allow_early_evaluation", args=[plan.pk]))
    assert response.status_code == 200
    assert fresh(plan).early_evaluation_allowed_at is None

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import CAST_ROLES
from plans import services
from plans.models import (
    Consultation,
    PlanStatus,
    PlanStatusChange,
    SupportPlan,
)
from plans.tests.factories import (
    add_consultation_measure,
    add_risk,
    make_plan,
    ready_plan,
    semester_ends_in,
)
from students.models import Role
from students.tests.factories import MembershipFactory, UserFactory

ALL_ROLES = CAST_ROLES
PREPARERS = {"class_teacher", "social_pedagogue", "coordinator"}


@pytest.fixture
def draft(cast):
    return ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )


def at_status(plan, status, **fields):
    SupportPlan.objects.filter(pk=plan.pk).update(status=status, **fields)
    plan.refresh_from_db()
    return plan


# --- Who may do which transition ------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_submit_is_for_those_who_prepare_the_pupils_plans(cast, draft, role):
    user = cast.users[role]
    if role in PREPARERS:
        services.submit_plan(plan=draft, by=user)
        assert draft.status == PlanStatus.SUBMITTED
        assert draft.submitted_at is not None
    else:
        with pytest.raises(services.PlanActionError):
            services.submit_plan(plan=draft, by=user)
        draft.refresh_from_db()
        assert draft.status == PlanStatus.DRAFT


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_schools_coordinator_approves(cast, draft, role):
    at_status(draft, PlanStatus.SUBMITTED)
    user = cast.users[role]
    if role == "coordinator":
        services.approve_plan(plan=draft, by=user)
        # The factory semester has begun, so the plan goes straight to "in progress".
        assert draft.status == PlanStatus.IN_PROGRESS
        assert draft.first_approved_at and draft.approved_by == user
    else:
        with pytest.raises(services.PlanActionError):
            services.approve_plan(plan=draft, by=user)
        assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.SUBMITTED


def test_a_plan_for_a_semester_not_yet_begun_is_approved_not_in_progress(cast):
    from students.tests.factories import SchoolYearFactory

    next_year = SchoolYearFactory(start_year=cast.year.start_year + 1)
    plan = make_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        semester=next_year.semesters.get(number=1),
        status=PlanStatus.SUBMITTED,
    )
    services.approve_plan(plan=plan, by=cast.coordinator)
    assert plan.status == PlanStatus.APPROVED


def test_the_preparer_cannot_approve_their_own_plan_unless_the_school_allows(cast):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.coordinator,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
    )
    with pytest.raises(services.PlanActionError):
        services.approve_plan(plan=plan, by=cast.coordinator)
    cast.school.allow_self_approval = True
    cast.school.save()
    plan.refresh_from_db()
    services.approve_plan(plan=plan, by=cast.coordinator)
    assert plan.status == PlanStatus.IN_PROGRESS


def test_returning_needs_a_comment_and_goes_back_to_draft(cast, draft):
    at_status(draft, PlanStatus.SUBMITTED)
    with pytest.raises(services.PlanActionError):
        services.return_plan(plan=draft, by=cast.coordinator, comment="  ")
    with pytest.raises(services.PlanActionError):
        services.return_plan(plan=draft, by=cast.class_teacher, comment="Nē")
    services.return_plan(plan=draft, by=cast.coordinator, comment="Precizējiet pamatojumu.")
    assert draft.status == PlanStatus.DRAFT
    assert draft.status_comment == "Precizējiet pamatojumu."
    change = draft.status_changes.last()
    assert (change.from_status, change.to_status, change.by) == (
        PlanStatus.SUBMITTED,
        PlanStatus.DRAFT,
        cast.coordinator,
    )


def test_submitting_lists_everything_that_is_missing(cast):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher, ready=False)
    with pytest.raises(services.PlanActionError) as excinfo:
        services.submit_plan(plan=plan, by=cast.class_teacher)
    assert len(excinfo.value.messages) == 3  # no risk, no measure, no parent's application
    risk = add_risk(plan)
    measure = add_consultation_measure(plan, responsible=cast.specialist, risks=[])
    plan.parent_application_date = timezone.localdate()
    plan.save()
    with pytest.raises(services.PlanActionError) as excinfo:
        services.submit_plan(plan=plan, by=cast.class_teacher)
    assert len(excinfo.value.messages) == 1  # the measure addresses no risk
    measure.risks.set([risk])
    services.submit_plan(plan=plan, by=cast.class_teacher)
    assert plan.status == PlanStatus.SUBMITTED


def test_revision_must_be_approved_again(cast, draft):
    at_status(draft, PlanStatus.IN_PROGRESS, first_approved_at=timezone.now())
    services.revise_plan(plan=draft, by=cast.class_teacher)
    assert draft.status == PlanStatus.REVISION and not draft.is_locked
    services.submit_plan(plan=draft, by=cast.class_teacher)
    # A returned revision stays a revision: the plan was approved before.
    services.return_plan(plan=draft, by=cast.coordinator, comment="Vēl ne.")
    assert draft.status == PlanStatus.REVISION
    services.submit_plan(plan=draft, by=cast.class_teacher)
    services.approve_plan(plan=draft, by=cast.coordinator)
    assert draft.status == PlanStatus.IN_PROGRESS


def test_suspension_needs_a_reason_and_resumes_within_the_semester(cast, draft):
    at_status(draft, PlanStatus.IN_PROGRESS, first_approved_at=timezone.now())
    with pytest.raises(services.PlanActionError):
        services.suspend_plan(plan=draft, by=cast.class_teacher, reason="")
    services.suspend_plan(plan=draft, by=cast.class_teacher, reason="Ilgstoša slimība")
    assert draft.status == PlanStatus.SUSPENDED
    services.resume_plan(plan=draft, by=cast.class_teacher)
    assert draft.status == PlanStatus.IN_PROGRESS


def test_a_plan_of_an_ended_semester_cannot_be_resumed(cast):
    from students.tests.factories import SchoolYearFactory

    old_year = SchoolYearFactory(start_year=cast.year.start_year - 3)
    old_semester = old_year.semesters.get(number=1)
    plan = make_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        semester=old_semester,
        status=PlanStatus.SUSPENDED,
        status_before_suspension=PlanStatus.IN_PROGRESS,
    )
    with pytest.raises(services.PlanActionError):
        services.resume_plan(plan=plan, by=cast.class_teacher)


def test_deleting_is_refused_once_a_consultation_was_delivered(cast, draft):
    at_status(draft, PlanStatus.IN_PROGRESS, first_approved_at=timezone.now())
    measure = draft.measures.get()
    Consultation.objects.create(
        measure=measure,
        date=timezone.localdate(),
        minutes=45,
        topic="Motivācija",
        provider=cast.specialist,
    )
    with pytest.raises(services.PlanActionError):
        services.delete_plan(plan=draft, by=cast.class_teacher)
    assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.IN_PROGRESS


def test_deleting_makes_the_plan_inactive_and_frees_the_slot(cast, draft):
    services.delete_plan(plan=draft, by=cast.class_teacher)
    assert draft.status == PlanStatus.INACTIVE
    again = services.create_plan(
        student=cast.student, semester=draft.semester, kind=draft.kind, by=cast.class_teacher
    )
    assert again.status == PlanStatus.DRAFT and again.code != draft.code


def test_only_one_live_plan_per_pupil_semester_and_kind(cast, draft):
    with pytest.raises(services.PlanActionError):
        services.create_plan(
            student=cast.student, semester=draft.semester, kind=draft.kind, by=cast.class_teacher
        )
    holiday = services.create_plan(
        student=cast.student, semester=draft.semester, kind="holiday", by=cast.class_teacher
    )
    assert holiday.kind == "holiday"


def test_plans_get_readable_sequential_codes(cast, draft):
    other = services.create_plan(
        student=cast.other_student,
        semester=draft.semester,
        kind="regular",
        by=cast.coordinator,
    )
    year = draft.semester.school_year.start_year
    assert other.code == f"IAP-{cast.school.pk}-{year}/{(year + 1) % 100:02d}-I-002"


def test_the_cron_command_starts_approved_plans_of_begun_semesters(cast, draft):
    from django.core.management import call_command

    at_status(draft, PlanStatus.APPROVED, first_approved_at=timezone.now())
    call_command("start_plans", stdout=None)
    draft.refresh_from_db()
    assert draft.status == PlanStatus.IN_PROGRESS
    assert draft.status_changes.last().by is None


def test_the_first_consultation_starts_an_approved_plan(cast, draft):
    from plans.forms import ConsultationForm

    at_status(draft, PlanStatus.APPROVED, first_approved_at=timezone.now())
    measure = draft.measures.get()
    form = ConsultationForm(
        {
            "date": timezone.localdate().isoformat(),
            "minutes": 45,
            "topic": "Kavējumi",
            "mode": "in_person",
            "confirmation": "signed",
        },
        measure=measure,
    )
    assert form.is_valid(), form.errors
    services.log_consultation(
        measure=measure, by=cast.specialist, consultation=form.save(commit=False)
    )
    draft.refresh_from_db()
    assert draft.status == PlanStatus.IN_PROGRESS


def test_copy_takes_risks_and_measures_into_the_new_semester(cast):
    from students.models import Semester

    first = Semester.objects.get(school_year=cast.year, number=1)
    second = Semester.objects.get(school_year=cast.year, number=2)
    source = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        semester=first,
        status=PlanStatus.EVALUATED,
        goals="Mērķis",
    )
    assert services.previous_plan(cast.student, second) == source
    copy = services.copy_plan(source=source, semester=second, by=cast.class_teacher)
    assert copy.status == PlanStatus.DRAFT and copy.semester == second and copy.goals == "Mērķis"
    risk = copy.risks.get()
    measure = copy.measures.get()
    assert risk.justification == source.risks.get().justification
    assert list(measure.risks.all()) == [risk]
    assert second.start_date <= measure.start_date <= measure.end_date <= second.end_date
    assert measure.start_date == second.start_date


def test_every_transition_is_recorded_with_who_and_when(cast, draft):
    services.submit_plan(plan=draft, by=cast.class_teacher)
    services.approve_plan(plan=draft, by=cast.coordinator)
    steps = list(
        PlanStatusChange.objects.filter(plan=draft).values_list("to_status", "by__username")
    )
    assert steps == [
        (PlanStatus.SUBMITTED, "class_teacher"),
        (PlanStatus.IN_PROGRESS, "coordinator"),
    ]


def test_a_stale_copy_of_the_plan_loses_the_race(cast, draft):
    stale = SupportPlan.objects.get(pk=draft.pk)
    services.submit_plan(plan=draft, by=cast.class_teacher)
    with pytest.raises(services.StatusChanged):
        services.delete_plan(plan=stale, by=cast.class_teacher)
    assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.SUBMITTED


@pytest.mark.parametrize("decision", ["approve", "return"])
def test_a_decision_on_a_plan_changed_since_it_was_read_is_refused(cast, draft, decision):
    """Read while submitted; returned, changed and submitted again before the decision
    arrives: refused (look again), not taken on what the coordinator has not seen."""
    colleague = UserFactory(username="second_coordinator")
    MembershipFactory(user=colleague, school=cast.school, role=Role.COORDINATOR)
    services.submit_plan(plan=draft, by=cast.class_teacher)
    seen = SupportPlan.objects.get(pk=draft.pk)
    services.return_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=colleague, comment="X")
    changed = SupportPlan.objects.get(pk=draft.pk)
    changed.goals = "Apmeklēt visas stundas"
    services.save_plan_content(
        plan=changed,
        by=cast.class_teacher,
        risks=[],
        removed_risks=[],
        measures=[],
        removed_measures=[],
    )
    services.submit_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=cast.class_teacher)
    decide = {
        "approve": lambda: services.approve_plan(plan=seen, by=cast.coordinator),
        "return": lambda: services.return_plan(plan=seen, by=cast.coordinator, comment="Y"),
    }[decision]
    with pytest.raises(services.StatusChanged):
        decide()
    assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.SUBMITTED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_approvals_at_the_same_moment_give_one_transition(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    cast = cast_tx
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
    )
    barrier = threading.Barrier(2)
    results = []

    def approve():
        from django.db import connections

        try:
            copy = SupportPlan.objects.select_related("school", "semester").get(pk=plan.pk)
            barrier.wait(timeout=5)
            services.approve_plan(plan=copy, by=cast.coordinator)
            results.append("ok")
        except services.PlanActionError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert PlanStatusChange.objects.filter(plan=plan).count() == 1


def test_evaluation_locks_the_plan(cast, draft, login):
    semester_ends_in(7)
    at_status(draft, PlanStatus.IN_PROGRESS, first_approved_at=timezone.now())
    risk = draft.risks.get()
    measure = draft.measures.get()
    client = login(cast.class_teacher)
    from django.urls import reverse

    response = client.post(
        reverse("plan_evaluate", args=[draft.pk]),
        {
            "overall_outcome": "promoted",
            "narrative": "Kavējumi samazinājās.",
            f"risk_{risk.pk}": "reduced",
            f"measure_{measure.pk}": "Notika 5 konsultācijas.",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlanStatus.EVALUATED and draft.is_locked
    assert draft.evaluation.overall_outcome == "promoted"
    assert draft.risks.get().outcome == "reduced"
    # Locked: the edit page sends the user back, a submit is refused.
    response = client.get(reverse("plan_update", args=[draft.pk]))
    assert response.status_code == 302
    with pytest.raises(services.PlanActionError):
        services.submit_plan(plan=draft, by=cast.class_teacher)
    with pytest.raises(services.PlanActionError):
        services.delete_plan(plan=draft, by=cast.class_teacher)


def test_evaluation_needs_an_outcome_for_every_risk(cast, draft, login):
    semester_ends_in(7)
    at_status(draft, PlanStatus.IN_PROGRESS, first_approved_at=timezone.now())
    from django.urls import reverse

    response = login(cast.class_teacher).post(
        reverse("plan_evaluate", args=[draft.pk]),
        {"overall_outcome": "promoted", "narrative": "x"},
    )
    assert response.status_code == 200
    assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.IN_PROGRESS


def test_a_plan_cannot_be_made_for_an_ended_semester(cast):
    from students.tests.factories import SchoolYearFactory

    old = SchoolYearFactory(start_year=cast.year.start_year - 2).semesters.get(number=2)
    assert old.end_date < timezone.localdate() - timedelta(days=1)
    with pytest.raises(services.PlanActionError):
        services.create_plan(
            student=cast.student, semester=old, kind="regular", by=cast.coordinator
        )

"""The approval route: every route × every level approves or returns; a plan is approved only
at its route's last level, and counted in the participation report only then; the levels
above the school approve in bulk, and never a plan changed since their queue was read."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from iap_portal.models import AuditEvent
from plans import approvals, services
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import ready_plan
from reports.participation import counted_plans
from students.models import (
    ROUTE_LEVELS,
    ApprovalLevel,
    ApprovalRoute,
    Role,
    next_level,
)
from students.tests.factories import (
    MembershipFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    enrol,
)

DECIDER = {
    ApprovalLevel.SCHOOL: "coordinator",
    ApprovalLevel.MUNICIPALITY: "municipality",
    ApprovalLevel.AGENCY: "agency",
}
ROUTE_AND_LEVEL = [(route, level) for route in ApprovalRoute for level in ROUTE_LEVELS[route]]


def set_route(cast, route, *, own=False):
    """The route of the cast's school: its municipality's, or the school's own."""
    if own:
        cast.school.approval_route = route
        cast.school.save(update_fields=["approval_route"])
    else:
        municipality = cast.school.municipality
        municipality.approval_route = route
        municipality.save(update_fields=["approval_route"])


def fresh(plan):
    return SupportPlan.objects.select_related("school__municipality").get(pk=plan.pk)


def submitted_plan(cast, student=None):
    plan = ready_plan(
        student=student or cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    return services.submit_plan(plan=fresh(plan), by=cast.class_teacher)


def approve_up_to(cast, plan, level):
    """Approve the plan at every level of its route below ``level``."""
    while plan.approval_level != level:
        plan = services.approve_plan(plan=fresh(plan), by=cast.users[DECIDER[plan.approval_level]])
        assert plan.status == PlanStatus.SUBMITTED
    return fresh(plan)


def test_next_level_follows_the_route():
    assert next_level(ApprovalRoute.SCHOOL, ApprovalLevel.SCHOOL) is None
    assert next_level(ApprovalRoute.AGENCY, ApprovalLevel.SCHOOL) == ApprovalLevel.AGENCY
    assert (
        next_level(ApprovalRoute.MUNICIPALITY_AGENCY, ApprovalLevel.MUNICIPALITY)
        == ApprovalLevel.AGENCY
    )
    # A plan waiting at a level the route no longer has goes on to the route's next one.
    assert next_level(ApprovalRoute.SCHOOL, ApprovalLevel.MUNICIPALITY) is None
    assert next_level(ApprovalRoute.AGENCY, ApprovalLevel.MUNICIPALITY) == ApprovalLevel.AGENCY


@pytest.mark.parametrize("own", [False, True], ids=["municipality's", "school's own"])
@pytest.mark.parametrize(("route", "level"), ROUTE_AND_LEVEL)
def test_each_level_of_each_route_approves(cast, route, level, own):
    set_route(cast, route, own=own)
    plan = approve_up_to(cast, submitted_plan(cast), level)
    assert plan.first_approved_at is None
    decider = cast.users[DECIDER[level]]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).count()
    history = plan.status_changes.count()

    plan = services.approve_plan(plan=plan, by=decider)

    following = next_level(route, level)
    measure = plan.measures.get()
    if following is None:
        assert plan.status == PlanStatus.IN_PROGRESS
        assert plan.first_approved_at is not None and plan.approved_by == decider
        assert measure.approved_hours == measure.planned_hours
    else:
        assert plan.status == PlanStatus.SUBMITTED and plan.approval_level == following
        assert plan.first_approved_at is None and plan.approved_by is None
        assert measure.approved_hours is None  # nothing is approved to pay yet
        assert plan.level_since is not None
    if level == ApprovalLevel.SCHOOL:
        assert plan.school_approved_by == decider
    if level == ApprovalLevel.MUNICIPALITY:
        assert plan.municipality_approved_by == decider
    change = plan.status_changes.order_by("pk").last()
    assert plan.status_changes.count() == history + 1 and change.by == decider
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).count() == events + 1


@pytest.mark.parametrize(("route", "level"), ROUTE_AND_LEVEL)
def test_each_level_of_each_route_returns_with_a_comment(cast, route, level):
    set_route(cast, route)
    plan = approve_up_to(cast, submitted_plan(cast), level)
    decider = cast.users[DECIDER[level]]
    with pytest.raises(services.PlanActionError):
        services.return_plan(plan=plan, by=decider, comment="  ")

    plan = services.return_plan(plan=fresh(plan), by=decider, comment="Precizēt stundas")

    assert plan.status == PlanStatus.DRAFT
    assert plan.approval_level == ApprovalLevel.SCHOOL
    assert plan.school_approved_by is None and plan.municipality_approved_by is None
    assert plan.first_approved_at is None
    change = plan.status_changes.order_by("pk").last()
    assert (change.from_status, change.to_status, change.by) == (
        PlanStatus.SUBMITTED,
        PlanStatus.DRAFT,
        decider,
    )
    assert change.comment == "Precizēt stundas"
    # Submitted again, it starts at the school once more.
    plan = services.submit_plan(plan=plan, by=cast.class_teacher)
    assert plan.approval_level == ApprovalLevel.SCHOOL


def test_a_plan_waits_where_its_status_says(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY_AGENCY)
    plan = approve_up_to(cast, submitted_plan(cast), ApprovalLevel.MUNICIPALITY)
    assert plan.status_label == "Saskaņošanā: pašvaldībā"
    with translation.override("en"):
        assert plan.status_label == "Awaiting approval: at the municipality"
    page = login(cast.coordinator).get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "Saskaņošanā: pašvaldībā" in page
    # The school has decided: no approve button for the coordinator, no plan in their queue.
    assert reverse("plan_approve", args=[plan.pk]) not in page
    assert plan.code not in login(cast.coordinator).get(reverse("plan_queue")).content.decode()
    with pytest.raises(services.PlanActionError):
        services.approve_plan(plan=plan, by=cast.coordinator)


def test_a_revision_goes_through_the_whole_route_again(cast):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    plan = approve_up_to(cast, submitted_plan(cast), ApprovalLevel.MUNICIPALITY)
    plan = services.approve_plan(plan=plan, by=cast.municipality)
    first = plan.first_approved_at
    plan = services.revise_plan(plan=plan, by=cast.class_teacher)
    SupportMeasure.objects.filter(plan=plan).update(planned_hours=Decimal("9"))
    plan = services.submit_plan(plan=fresh(plan), by=cast.class_teacher)
    assert plan.approval_level == ApprovalLevel.SCHOOL and plan.school_approved_by is None
    plan = services.approve_plan(plan=fresh(plan), by=cast.coordinator)
    assert plan.status == PlanStatus.SUBMITTED
    # Until the municipality approves, claims are still checked against the old hours.
    assert plan.measures.get().approved_hours == Decimal("6")
    plan = services.approve_plan(plan=fresh(plan), by=cast.municipality)
    assert plan.measures.get().approved_hours == Decimal("9")
    assert plan.first_approved_at == first


@pytest.mark.parametrize("route", list(ApprovalRoute))
def test_participation_counts_a_plan_once_its_last_level_approved(cast, route):
    set_route(cast, route)
    plan = submitted_plan(cast)
    levels = ROUTE_LEVELS[route]
    for level in levels:
        assert not counted_plans([cast.school]).filter(pk=plan.pk).exists(), level
        plan = services.approve_plan(plan=fresh(plan), by=cast.users[DECIDER[level]])
    assert counted_plans([cast.school]).filter(pk=plan.pk).exists()


def test_a_municipal_coordinator_decides_only_their_municipality(cast):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    plan = approve_up_to(cast, submitted_plan(cast), ApprovalLevel.MUNICIPALITY)
    elsewhere = UserFactory(username="elsewhere")
    MembershipFactory(
        user=elsewhere,
        school=None,
        municipality=cast.other_school.municipality,
        role=Role.MUNICIPALITY,
    )
    with pytest.raises(services.PlanActionError):
        services.approve_plan(plan=plan, by=elsewhere)
    with pytest.raises(services.PlanActionError):
        services.approve_plan(plan=plan, by=cast.agency)  # not IKVD's level on this route


# --- Bulk approval --------------------------------------------------------------------------


def waiting_plans(cast, count, level=ApprovalLevel.MUNICIPALITY):
    plans = []
    for i in range(count):
        student = StudentFactory(school=cast.school, first_name="Rinda", last_name=f"Gaida{i:02d}")
        enrol(student, cast.class_group)
        plans.append(approve_up_to(cast, submitted_plan(cast, student), level))
    return plans


def queue_values(page):
    return re.findall(r'name="plan" value="([^"]+)"', page)


def test_the_municipality_approves_in_bulk_and_hears_of_a_plan_changed_meanwhile(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    first, changed, third = waiting_plans(cast, 3)
    client = login(cast.municipality)
    values = queue_values(client.get(reverse("approval_queue")).content.decode())
    assert len(values) == 3
    # Meanwhile another municipal coordinator returns one; the school corrects it, submits it
    # again and approves it: it waits at the municipality again, but not as it was seen.
    colleague = UserFactory(username="second_municipality")
    MembershipFactory(
        user=colleague, school=None, municipality=cast.school.municipality, role=Role.MUNICIPALITY
    )
    services.return_plan(plan=fresh(changed), by=colleague, comment="Par daudz stundu")
    SupportMeasure.objects.filter(plan=changed).update(planned_hours=Decimal("4"))
    services.submit_plan(plan=fresh(changed), by=cast.class_teacher)
    services.approve_plan(plan=fresh(changed), by=cast.coordinator)
    assert fresh(changed).approval_level == ApprovalLevel.MUNICIPALITY

    response = client.post(reverse("approval_approve"), {"plan": values}, follow=True)

    page = response.content.decode()
    assert fresh(first).status == PlanStatus.IN_PROGRESS
    assert fresh(third).status == PlanStatus.IN_PROGRESS
    assert fresh(changed).status == PlanStatus.SUBMITTED
    assert f"{changed.code} netika apstiprināts" in page
    assert "Apstiprināti 2 plāni." in page
    # Each plan is its own decision: its own history row and audit event.
    for plan in (first, third):
        assert plan.status_changes.filter(by=cast.municipality).count() == 1
        assert AuditEvent.objects.filter(object_id=str(plan.pk), user=cast.municipality).exists()


def test_bulk_approval_refuses_the_plans_the_approver_touched(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    (plan,) = waiting_plans(cast, 1)
    # The municipal coordinator is also the school's coordinator and approved it there.
    MembershipFactory(user=cast.municipality, school=cast.school, role=Role.COORDINATOR)
    SupportPlan.objects.filter(pk=plan.pk).update(school_approved_by=cast.municipality)
    client = login(cast.municipality)
    values = queue_values(client.get(reverse("approval_queue")).content.decode())
    page = client.post(reverse("approval_approve"), {"plan": values}, follow=True)
    assert fresh(plan).status == PlanStatus.SUBMITTED
    assert f"{plan.code} netika apstiprināts" in page.content.decode()


@pytest.mark.parametrize(
    "values", [[], ["abc|x"], ["99999999999999999999|2026"], ["1|" + "x" * 80], ["|"]]
)
def test_bulk_approval_with_bad_input_approves_nothing(cast, login, values):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    (plan,) = waiting_plans(cast, 1)
    response = login(cast.municipality).post(reverse("approval_approve"), {"plan": values})
    assert response.status_code == 302
    assert fresh(plan).status == PlanStatus.SUBMITTED


def test_the_queue_filters_by_school_and_amount(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    small, large = waiting_plans(cast, 2)
    for plan, amount in ((small, "40.00"), (large, "400.00")):
        SupportMeasure.objects.create(
            plan=plan,
            measure_type=SupportMeasure.Type.COMPENSATION,
            compensation_category="meals",
            responsible=cast.class_teacher,
            planned_amount=Decimal(amount),
            start_date=plan.semester.start_date,
            end_date=plan.semester.end_date,
        )
    client = login(cast.municipality)

    def codes(**query):
        page = client.get(reverse("approval_queue"), query).content.decode()
        return {p.code for p in (small, large) if p.code in page}

    assert codes() == {small.code, large.code}
    assert codes(min_amount="100") == {large.code}
    assert codes(max_amount="100,00") == {small.code}
    assert codes(school=cast.school.pk) == {small.code, large.code}
    other = SchoolFactory(municipality=cast.school.municipality)
    assert codes(school=other.pk) == set()
    assert codes(min_amount="abc") == {small.code, large.code}  # refused filter, not a 500


# --- Waiting time ---------------------------------------------------------------------------


def test_working_days_skip_weekends():
    friday = date(2026, 11, 27)
    assert approvals.working_days_between(friday, friday) == 0
    assert approvals.working_days_between(friday, friday + timedelta(days=3)) == 1  # Monday
    assert approvals.working_days_between(friday, friday + timedelta(days=7)) == 5
    assert approvals.working_days_between(friday, friday + timedelta(days=10)) == 6


def test_a_plan_waiting_too_long_is_late(cast, login, settings):
    settings.IAP_APPROVAL_LATE_DAYS = {"school": 5, "municipality": 2, "agency": 5}
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    on_time, late = waiting_plans(cast, 2)
    SupportPlan.objects.filter(pk=late.pk).update(level_since=timezone.now() - timedelta(days=14))
    client = login(cast.municipality)
    plans = {
        p.pk: p for p in approvals.mark_waiting(list(approvals.upper_queue(cast.municipality)))
    }
    assert plans[late.pk].waited == 10 and plans[late.pk].is_late
    assert not plans[on_time.pk].is_late
    page = client.get(reverse("approval_queue")).content.decode()
    assert page.count("nokavēts") == 1
    overview = login(cast.agency).get(reverse("approval_overview"))
    rows = dict(overview.context["rows"])
    figures = dict(rows[cast.school.municipality])
    waiting = figures[ApprovalLevel.MUNICIPALITY]
    assert (waiting.count, waiting.median, waiting.longest, waiting.late) == (2, 5, 10, 1)
    assert dict(rows[cast.other_school.municipality])[ApprovalLevel.SCHOOL].count == 0


def test_the_municipality_sees_only_its_own_figures(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    waiting_plans(cast, 1)
    rows = login(cast.municipality).get(reverse("approval_overview")).context["rows"]
    assert [m for m, _figures in rows] == [cast.school.municipality]


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [1, 8])
def test_the_upper_queue_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    waiting_plans(cast, extra)
    client = login(cast.municipality)
    # session, user, memberships, the school filter's schools, count, the page of plans with
    # their school, semester, school approver, grade and sums
    with django_assert_num_queries(6):
        response = client.get(reverse("approval_queue"))
    assert len(response.context["page"].object_list) == extra


@pytest.mark.parametrize("extra", [1, 8])
def test_the_waiting_overview_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    set_route(cast, ApprovalRoute.MUNICIPALITY_AGENCY)
    plans = waiting_plans(cast, extra)
    services.approve_plan(plan=fresh(plans[0]), by=cast.municipality)
    client = login(cast.agency)
    # session, user, memberships, the waiting plans, the municipalities
    with django_assert_num_queries(5):
        client.get(reverse("approval_overview"))


def test_the_home_page_says_how_many_plans_wait_for_the_municipality(cast, login):
    set_route(cast, ApprovalRoute.MUNICIPALITY)
    waiting_plans(cast, 2)
    page = login(cast.municipality).get(reverse("home")).content.decode()
    assert "2 plāni gaida jūsu apstiprinājumu." in page and reverse("approval_queue") in page
    assert (
        "gaida jūsu apstiprinājumu" not in login(cast.agency).get(reverse("home")).content.decode()
    )

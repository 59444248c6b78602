"""A revision of an approved plan goes through the whole route again; a municipality may let
one that only lowers what was approved (no hours or amount rose, nothing added) be approved
by the school alone. The plan's history says which applied."""

from decimal import Decimal

import pytest
from django.urls import reverse

from iap_portal.models import AuditEvent
from plans import approvals, services
from plans.models import CompensationCategory, PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import add_consultation_measure, add_risk, ready_plan
from students.models import ApprovalLevel, ApprovalRoute, Municipality, SpecialistType

# The history's comments, in Latvian (the decider's language here).
SCHOOL_ALONE = "pietiek ar skolas apstiprinājumu"
WHOLE_ROUTE = "visu saskaņošanas ceļu"


def fresh(plan):
    return SupportPlan.objects.select_related("school__municipality").get(pk=plan.pk)


def set_up(cast, *, school_only=True, route=ApprovalRoute.MUNICIPALITY):
    municipality = cast.school.municipality
    municipality.approval_route = route
    municipality.revision_lowering_school_only = school_only
    municipality.save(update_fields=["approval_route", "revision_lowering_school_only"])


def approved_plan(cast):
    """A plan approved by the school and the municipality: 6 hours of a psychologist and a
    30 EUR meals compensation; then reopened for revision by its class teacher."""
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=CompensationCategory.MEALS,
        responsible=cast.specialist,
        planned_amount=Decimal("30.00"),
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    ).risks.set(plan.risks.all())
    plan = services.submit_plan(plan=fresh(plan), by=cast.class_teacher)
    plan = services.approve_plan(plan=fresh(plan), by=cast.coordinator)
    plan = services.approve_plan(plan=fresh(plan), by=cast.municipality)
    assert plan.status == PlanStatus.IN_PROGRESS
    return services.revise_plan(plan=fresh(plan), by=cast.class_teacher)


def measure(plan, measure_type):
    return plan.measures.get(measure_type=measure_type)


def edit(cast, plan, *, hours=None, amount=None, removed=(), **changes):
    """What the edit page saves: the consultation's hours and the compensation's amount."""
    measures = []
    for kind, figure, value in (
        (SupportMeasure.Type.CONSULTATION, "planned_hours", hours),
        (SupportMeasure.Type.COMPENSATION, "planned_amount", amount),
    ):
        if value is None or kind in removed:
            continue
        changed = measure(plan, kind)
        setattr(changed, figure, Decimal(value))
        for name, new in changes.get(kind, {}).items():
            setattr(changed, name, new)
        measures.append((changed, [r.risk_factor for r in changed.risks.all()]))
    services.save_plan_content(
        plan=plan,
        by=cast.class_teacher,
        risks=[],
        removed_risks=[],
        measures=measures,
        removed_measures=[measure(plan, kind) for kind in removed],
    )


def resubmit_and_approve_at_school(cast, plan):
    plan = services.submit_plan(plan=fresh(plan), by=cast.class_teacher)
    assert plan.approval_level == ApprovalLevel.SCHOOL
    return services.approve_plan(plan=fresh(plan), by=cast.coordinator)


def last_comment(plan):
    return plan.status_changes.order_by("pk").last().comment


@pytest.mark.parametrize(
    ("hours", "amount", "removed"),
    [
        ("4", "30.00", ()),  # fewer hours
        ("6", "25.50", ()),  # a lower amount
        ("6", "30.00", ()),  # the edge: the same figures (a date or a text changed)
        ("6", None, (SupportMeasure.Type.COMPENSATION,)),  # a measure removed
    ],
    ids=["fewer hours", "lower amount", "equal", "measure removed"],
)
def test_a_revision_that_only_lowers_is_approved_by_the_school_alone(cast, hours, amount, removed):
    set_up(cast)
    plan = approved_plan(cast)
    edit(cast, plan, hours=hours, amount=amount, removed=removed)
    events = AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).count()

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.status == PlanStatus.IN_PROGRESS
    assert plan.approved_by == cast.coordinator and plan.level_since is None
    assert measure(plan, SupportMeasure.Type.CONSULTATION).approved_hours == Decimal(hours)
    assert SCHOOL_ALONE in last_comment(plan)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).order_by("pk").last()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).count() == events + 2
    assert "school level alone" in event.detail
    assert not approvals.upper_queue(cast.municipality).filter(pk=plan.pk).exists()


@pytest.mark.parametrize(
    ("hours", "amount", "changes"),
    [
        ("8", "30.00", {}),  # more hours
        ("4", "35.00", {}),  # one lower, another higher
        ("6", "30.01", {}),  # a cent more
        (
            "6",
            "30.00",
            {SupportMeasure.Type.COMPENSATION: {"compensation_category": "transport_tickets"}},
        ),  # the same money for another kind of support
    ],
    ids=["more hours", "lower and higher", "a cent more", "another category"],
)
def test_a_revision_that_raises_anything_goes_through_the_whole_route(cast, hours, amount, changes):
    set_up(cast)
    plan = approved_plan(cast)
    edit(cast, plan, hours=hours, amount=amount, **changes)

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.status == PlanStatus.SUBMITTED
    assert plan.approval_level == ApprovalLevel.MUNICIPALITY
    assert WHOLE_ROUTE in last_comment(plan)
    # Claims are still checked against what the municipality approved.
    assert measure(plan, SupportMeasure.Type.CONSULTATION).approved_hours == Decimal("6")
    plan = services.approve_plan(plan=fresh(plan), by=cast.municipality)
    assert plan.status == PlanStatus.IN_PROGRESS


@pytest.mark.parametrize("added", ["measure", "risk"])
def test_a_revision_that_adds_goes_through_the_whole_route(cast, added):
    set_up(cast)
    plan = approved_plan(cast)
    edit(cast, plan, hours="2", amount="10.00")  # lower, but something new besides
    if added == "measure":
        add_consultation_measure(
            plan, responsible=cast.specialist, risks=list(plan.risks.all()), hours="1"
        )
    else:
        add_risk(plan, code="biezi-kavejumi")

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.approval_level == ApprovalLevel.MUNICIPALITY


def test_without_the_setting_a_lowered_revision_goes_through_the_whole_route(cast):
    set_up(cast, school_only=False)
    plan = approved_plan(cast)
    edit(cast, plan, hours="4", amount="20.00")

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.status == PlanStatus.SUBMITTED
    assert plan.approval_level == ApprovalLevel.MUNICIPALITY
    assert WHOLE_ROUTE not in last_comment(plan)  # nothing to explain


def test_the_setting_holds_for_a_school_with_a_route_of_its_own(cast):
    """A state vocational school's route goes to IKVD; its municipality's setting holds."""
    set_up(cast, route=ApprovalRoute.SCHOOL)
    cast.school.approval_route = ApprovalRoute.AGENCY
    cast.school.save(update_fields=["approval_route"])
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    plan = services.submit_plan(plan=fresh(plan), by=cast.class_teacher)
    # A first submission is no revision: the whole route.
    plan = services.approve_plan(plan=fresh(plan), by=cast.coordinator)
    assert plan.approval_level == ApprovalLevel.AGENCY
    plan = services.approve_plan(plan=fresh(plan), by=cast.agency)
    plan = services.revise_plan(plan=fresh(plan), by=cast.class_teacher)
    edit(cast, plan, hours="5")

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.status == PlanStatus.IN_PROGRESS


def test_a_plan_without_its_history_goes_through_the_whole_route(cast):
    """Plans loaded in bulk have no change history to compare with: never taken to lower."""
    set_up(cast)
    plan = approved_plan(cast)
    SupportMeasure.history.filter(plan_id=plan.pk).delete()
    edit(cast, plan, hours="4", amount="20.00")
    SupportMeasure.history.filter(plan_id=plan.pk).delete()

    plan = resubmit_and_approve_at_school(cast, plan)

    assert plan.approval_level == ApprovalLevel.MUNICIPALITY


def test_ikvd_sets_the_lowered_revision_rule_where_it_sets_routes(cast, login):
    municipality = cast.school.municipality
    client = login(cast.agency)
    url = reverse("approval_route_edit", args=[municipality.pk])
    page = client.get(url).content.decode()
    assert 'name="revision_lowering_school_only"' in page
    response = client.post(
        url,
        {
            "route": ApprovalRoute.MUNICIPALITY,
            "revision_lowering_school_only": "on",
            f"school_{cast.school.pk}": "",
        },
    )
    assert response.status_code == 302
    assert Municipality.objects.get(pk=municipality.pk).revision_lowering_school_only
    assert AuditEvent.objects.filter(
        user=cast.agency, detail__contains="school level alone"
    ).exists()
    listing = client.get(reverse("approval_routes")).content.decode()
    assert "tikai skola" in listing
    # Unticked, it is off again.
    client.post(url, {"route": ApprovalRoute.MUNICIPALITY, f"school_{cast.school.pk}": ""})
    assert not Municipality.objects.get(pk=municipality.pk).revision_lowering_school_only


def test_the_psychologist_replaced_by_a_speech_therapist_is_another_measure(cast):
    set_up(cast)
    plan = approved_plan(cast)
    other = SpecialistType.objects.exclude(name="psihologs").first()
    edit(
        cast,
        plan,
        hours="6",
        **{SupportMeasure.Type.CONSULTATION: {"specialist_type": other}},
    )
    assert not approvals.lowers_only(fresh(plan))

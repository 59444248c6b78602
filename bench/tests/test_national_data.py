"""The benchmark's data generator, at a tiny size, so it cannot rot unnoticed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q, Sum

from bench import national_data
from bench.generate_national_data import Command
from compensations.models import ClaimLine, CompensationClaim
from plans import approvals
from plans.models import (
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    SupportMeasure,
    SupportPlan,
)
from reports import participation
from students.models import (
    ApprovalLevel,
    ApprovalRoute,
    ClassGroup,
    Enrollment,
    Membership,
    Municipality,
    Role,
    School,
    Student,
)

TINY = national_data.SIZES["tiny"]


@pytest.fixture
def generated(db):
    out = StringIO()
    call_command(Command(), "--tiny", stdout=out)
    return out.getvalue()


def test_it_builds_the_requested_numbers_of_rows(generated):
    schools = School.objects.filter(registration_number__startswith=national_data.MARKER)
    assert schools.count() == TINY.schools
    assert Student.objects.filter(school__in=schools).count() == TINY.pupils
    assert Student.objects.filter(school=schools.get(name__endswith="001")).count() == (
        TINY.largest_school
    )
    # One class per grade, school and year; every pupil in a class each year until they left.
    assert ClassGroup.objects.filter(school__in=schools).count() == TINY.schools * 12 * TINY.years
    learning = Student.objects.filter(school__in=schools, status=Student.Status.ACTIVE)
    assert Enrollment.objects.filter(student__in=learning).count() == learning.count() * TINY.years
    assert Membership.objects.filter(role=Role.AGENCY, user__username="bench-ikvd").exists()
    assert SupportPlan.objects.count() > 0
    assert "The tiny data set was built" in generated


def test_every_plan_is_consistent(generated):
    plans = SupportPlan.objects.annotate(
        risk_count=Count("risks", distinct=True), measure_count=Count("measures", distinct=True)
    )
    assert not plans.exclude(risk_count=2, measure_count=2).exists()
    assert not SupportPlan.objects.exclude(school_id=F("student__school_id")).exists()
    # The pupil is in a class of the plan's school year.
    assert not SupportPlan.objects.exclude(
        student__enrollments__school_year=F("semester__school_year")
    ).exists()
    # Plan codes and sequences follow the app's own scheme (unique constraints hold them).
    plan = SupportPlan.objects.select_related("semester__school_year").first()
    assert plan.code.startswith(f"IAP-{plan.school_id}-{plan.semester.school_year.start_year}/")
    # Only approved plans have consultations, claims and evaluations.
    never_approved = SupportPlan.objects.filter(first_approved_at__isnull=True)
    assert not Consultation.objects.filter(measure__plan__in=never_approved).exists()
    assert not CompensationClaim.objects.filter(plan__in=never_approved).exists()
    assert PlanEvaluation.objects.count() == (
        SupportPlan.objects.filter(status=PlanStatus.EVALUATED).count()
    )
    assert not SupportMeasure.objects.annotate(links=Count("risks")).filter(links=0).exists()
    assert PlanRisk.objects.count() == 2 * SupportPlan.objects.count()


def test_claims_add_up_and_draw_on_the_plans_measure(generated):
    assert CompensationClaim.objects.count() > 0
    assert not CompensationClaim.objects.filter(
        ~Q(measure__plan=F("plan")) | ~Q(school=F("plan__school"))
    ).exists()
    assert not CompensationClaim.objects.exclude(
        measure__measure_type=SupportMeasure.Type.COMPENSATION
    ).exists()
    lines = ClaimLine.objects.aggregate(total=Sum("amount"))["total"]
    assert lines == CompensationClaim.objects.aggregate(total=Sum("total"))["total"]


def test_the_report_counts_the_generated_pupils(generated):
    table = participation.participation_by_semester(School.objects.all())
    counted = participation.counted_plans(School.objects.all())
    assert sum(c.value for _year, *cells in table.rows for c in cells) == (
        counted.values("student_id", "semester_id").distinct().count()
    )


def test_a_second_run_leaves_the_data_alone(generated):
    plans = SupportPlan.objects.count()
    out = StringIO()
    call_command(Command(), "--tiny", stdout=out)
    assert "already there" in out.getvalue()
    assert SupportPlan.objects.count() == plans
    with pytest.raises(CommandError, match="fresh database"):
        call_command(Command(), "--small", stdout=StringIO())


def test_it_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command(Command(), "--tiny", stdout=StringIO())
    assert not School.objects.exists()


def test_schools_get_routes_and_the_city_a_backlog_at_its_level(generated):
    """Most approve at the school; the city (municipality 02) has school → municipality and
    plans waiting for it; state vocational schools go to IKVD; school 001 approves alone."""
    city = Municipality.objects.get(name__endswith=f"{national_data.BACKLOG_MUNICIPALITY:02d}")
    assert city.approval_route == ApprovalRoute.MUNICIPALITY
    assert School.objects.get(name__endswith="001").route == ApprovalRoute.SCHOOL
    waiting = SupportPlan.objects.filter(
        status=PlanStatus.SUBMITTED, approval_level=ApprovalLevel.MUNICIPALITY
    )
    assert waiting.exists() and not waiting.exclude(school__municipality=city).exists()
    # Waiting at the municipality: the school approved it, nobody above yet.
    assert not waiting.filter(
        Q(school_approved_by__isnull=True) | Q(level_since__isnull=True)
    ).exists()
    assert not waiting.filter(first_approved_at__isnull=False).exists()
    municipal_user = Membership.objects.get(role=Role.MUNICIPALITY, municipality=city).user
    assert approvals.upper_queue(municipal_user).count() == waiting.count()
    # Approved plans of the city were approved last by its municipal coordinator.
    approved = SupportPlan.objects.filter(
        school__municipality=city, first_approved_at__isnull=False
    )
    assert approved.exists()
    assert not approved.exclude(approved_by=municipal_user).exists()


def test_the_routes_follow_the_rules_at_every_size():
    assert national_data.municipality_number(1, 40) == 1
    assert national_data.municipality_number(2, 40) == national_data.BACKLOG_MUNICIPALITY
    city = [n for n in range(1, 601) if national_data.municipality_number(n, 40) == 2]
    assert len(city) == 150  # a quarter of the schools
    routes = [national_data.municipality_route(n) for n in range(1, 41)]
    assert routes.count(ApprovalRoute.MUNICIPALITY) == 8
    vocational = [n for n in range(1, 601) if national_data.school_route(n)]
    assert len(vocational) == 50 and 1 not in vocational
    # No state vocational school is in the city (its route would skip the municipality).
    assert not [n for n in vocational if national_data.municipality_number(n, 40) == 2]

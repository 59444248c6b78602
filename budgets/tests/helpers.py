"""Small known budgets: allocations, approved plans with compensation measures, and claims in
a given status (written directly: the figures are what is tested, not the claims' journey)."""

from decimal import Decimal

from django.utils import timezone

from budgets.models import Allocation
from compensations.models import ClaimStatus, CompensationClaim
from plans.models import PlanStatus, SupportMeasure
from plans.tests.factories import add_risk, make_plan, ready_plan
from students.tests.factories import StudentFactory


def allocate(school, year, amount, *, by, hours=None):
    return Allocation.objects.create(
        school=school,
        school_year=year,
        compensations=Decimal(amount),
        consultation_hours=None if hours is None else Decimal(hours),
        set_by=by,
    )


def pupil(school):
    return StudentFactory(school=school)


def compensation(plan, category, planned, *, approved=True):
    risk = plan.risks.first() or add_risk(plan)
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=category,
        planned_amount=Decimal(planned),
        approved_amount=Decimal(planned) if approved else None,
        responsible=plan.preparer,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
        # Above the school's ceiling a plan needs a reason (plans.ceilings): budgets test more.
        ceiling_justification="Tāls ceļš uz skolu.",
    )
    measure.risks.set([risk])
    return measure


def approved_plan(cast, *, semester, compensations=(), student=None, status=None, **fields):
    """An approved plan (in progress) of a new pupil of the cast's school, with a 6-hour
    consultation and the given compensations ((category, amount), …) approved."""
    plan = ready_plan(
        student=student or pupil(cast.school),
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        semester=semester,
        status=status or PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
        **fields,
    )
    for category, amount in compensations:
        compensation(plan, category, amount)
    return plan


def draft_plan(cast, *, semester, compensations=(), student=None):
    plan = make_plan(
        student=student or pupil(cast.school), preparer=cast.class_teacher, semester=semester
    )
    for category, amount in compensations:
        compensation(plan, category, amount, approved=False)
    return plan


_sequence = iter(range(1, 10**6))


def claim(measure, total, status=ClaimStatus.APPROVED, *, by):
    plan = measure.plan
    number = next(_sequence)
    return CompensationClaim.objects.create(
        measure=measure,
        plan=plan,
        school=plan.school,
        sequence=number,
        code=f"K-T-{plan.school_id}-{number:05d}",
        month=plan.semester.start_date.replace(day=1),
        status=status,
        total=Decimal(total),
        submitted_by=by,
        paid_on=plan.semester.start_date if status == ClaimStatus.PAID else None,
    )

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from plans.models import NgoProject, PlanRisk, PlanStatus, RiskFactor, SupportMeasure, SupportPlan
from plans.services import plan_code
from students.models import Semester, SpecialistType


def make_plan(*, student, preparer, semester=None, status=PlanStatus.DRAFT, ready=True, **fields):
    """A plan; ``ready`` gives it a risk, a consultation measure and the parent's application."""
    semester = semester or Semester.objects.current()
    sequence = SupportPlan.objects.filter(school=student.school, semester=semester).count() + 1
    plan = SupportPlan.objects.create(
        student=student,
        school=student.school,
        semester=semester,
        preparer=preparer,
        status=status,
        sequence=sequence,
        code=plan_code(student.school, semester, sequence),
        parent_application_date=timezone.localdate() if ready else None,
        **fields,
    )
    return plan


def national_factor(code):
    """The national risk factor in use with this code (codes: plans migration 0006)."""
    return RiskFactor.objects.national().get(code=code, is_active=True)


def add_risk(plan, code="neattaisnoti-kavejumi"):
    return PlanRisk.objects.create(
        plan=plan,
        risk_factor=national_factor(code),
        justification="14 neattaisnotas stundas oktobrī.",
    )


def add_consultation_measure(plan, *, responsible, risks, hours="6"):
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.CONSULTATION,
        specialist_type=SpecialistType.objects.get(name="psihologs"),
        responsible=responsible,
        planned_hours=Decimal(hours),
        approved_hours=Decimal(hours) if plan.first_approved_at else None,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    )
    measure.risks.set(risks)
    return measure


def ready_plan(*, student, preparer, responsible, status=PlanStatus.DRAFT, **fields):
    plan = make_plan(student=student, preparer=preparer, status=status, **fields)
    risk = add_risk(plan)
    add_consultation_measure(plan, responsible=responsible, risks=[risk])
    return plan


def semester_ends_in(days, semester=None):
    """Move the end of the semester (the current one) to ``days`` from today. A plan may be
    evaluated from its school's window (14 days by default) before the end, so a test picks
    the side of the window it needs whatever the date it runs on."""
    semester = semester or Semester.objects.current()
    semester.end_date = timezone.localdate() + timedelta(days=days)
    semester.save(update_fields=["end_date"])
    return semester


def ngo_project(*, municipality, status=NgoProject.Status.RUNNING, semester=None, **fields):
    """A youth NGO project of the municipality, by default running through the current
    semester."""
    semester = semester or Semester.objects.current()
    values = {
        "title": "Jauniešu iniciatīvu centrs",
        "ngo_name": "Biedrība “Jaunatne”",
        "ngo_registration_number": "40003032949",
        "contest_round": "2026/1",
        "start_date": semester.start_date,
        "end_date": semester.end_date,
        "budget": Decimal("4600.00"),
        "status": status,
        "report": "Paveikts." if status == NgoProject.Status.FINISHED else "",
        **fields,
    }
    return NgoProject.objects.create(municipality=municipality, **values)

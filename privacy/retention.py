"""Retention: pupils who left the school more than N years ago are anonymised.

What identifies the child goes (names, code, birth date beyond the year, guardians, free text,
receipts, the change history that still holds them, the imported e-journal details); the rows
that reports count stay, so the participation figures are the same before and after.
"""

from datetime import date

from django.db import transaction

from compensations.models import ClaimLine, CompensationClaim, Receipt
from early_warning.models import Attendance, ConductNotes, Grade, Indicator
from iap_portal.audit import forget_students
from plans.models import (
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatusChange,
    SupportMeasure,
    SupportPlan,
)
from reports.files import delete_files_naming
from students.models import Guardian, Student

ANONYMOUS = "—"


def due_for_anonymisation(*, years, today=None):
    today = today or date.today()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    return Student.objects.filter(status=Student.Status.LEFT, left_on__lt=cutoff).exclude(
        first_name=ANONYMOUS
    )


@transaction.atomic
def anonymise(students):
    ids = list(students.values_list("pk", flat=True))
    if not ids:
        return 0
    # Bundles and exports that may hold their names go first.
    delete_files_naming(Student.objects.filter(pk__in=ids))
    forget_students(ids)  # the audit log keeps its counts by action, not who they were
    plans = SupportPlan.objects.filter(student_id__in=ids)
    claims = CompensationClaim.objects.filter(plan__in=plans)
    receipts = list(Receipt.objects.filter(claim__in=claims))
    for receipt in receipts:
        name = receipt.file.name
        transaction.on_commit(lambda name=name, storage=receipt.file.storage: storage.delete(name))
    Receipt.objects.filter(pk__in=[r.pk for r in receipts]).delete()
    ClaimLine.objects.filter(claim__in=claims).update(description=ANONYMOUS)
    claims.update(decision_comment="")
    Consultation.objects.filter(measure__plan__in=plans).update(topic=ANONYMOUS)
    SupportMeasure.objects.filter(plan__in=plans).update(description="", evaluation_note="")
    PlanRisk.objects.filter(plan__in=plans).update(justification=ANONYMOUS)
    PlanEvaluation.objects.filter(plan__in=plans).update(narrative=ANONYMOUS)
    PlanStatusChange.objects.filter(plan__in=plans).update(comment="")
    plans.update(goals="", status_comment="", early_evaluation_reason="")
    # The change history holds the old values: it goes for these rows.
    SupportPlan.history.filter(id__in=plans.values("pk")).delete()
    PlanRisk.history.filter(plan_id__in=plans.values("pk")).delete()
    SupportMeasure.history.filter(plan_id__in=plans.values("pk")).delete()
    Student.history.filter(id__in=ids).delete()
    CompensationClaim.history.filter(id__in=claims.values("pk")).delete()
    ClaimLine.history.filter(claim_id__in=claims.values("pk")).delete()
    Receipt.history.filter(claim_id__in=claims.values("pk")).delete()

    Guardian.objects.filter(student_id__in=ids).delete()
    # The e-journal details go; the levels stay, so the report's flagged share is unchanged.

    for model in (Attendance, Grade, ConductNotes):
        model.objects.filter(student_id__in=ids).delete()
    Indicator.objects.filter(student_id__in=ids).update(
        triggers=[], attendance_rate=None, average=None
    )
    for student in Student.objects.filter(pk__in=ids):
        student.first_name = ANONYMOUS
        student.last_name = ANONYMOUS
        student.personas_kods = ""
        if student.birth_date:
            student.birth_date = student.birth_date.replace(month=1, day=1)
        student.save_without_historical_record()
    return len(ids)

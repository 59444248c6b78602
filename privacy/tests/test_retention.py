import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from compensations import services
from compensations.models import ClaimLine, CompensationClaim, Receipt
from compensations.tests.factories import claimable_plan, draft_claim, receipt, this_month
from plans.models import PlanRisk, PlanStatus, SupportPlan
from plans.tests.factories import ready_plan
from reports import participation
from students.models import Role, School, Semester, Student
from students.tests.factories import MembershipFactory, SchoolYearFactory, UserFactory


def report(school):
    schools = School.objects.filter(pk=school.pk)
    main = participation.participation_by_semester(schools)
    rows = [[str(c) for c in row] for row in main.rows]
    semester = Semester.objects.get(school_year__start_year=2019, number=1)
    for table in participation.semester_breakdowns(schools, semester):
        rows += [[str(c) for c in row] for row in table.rows]
    return rows


def test_pupils_who_left_long_ago_are_anonymised_and_the_figures_stay(cast):
    semester = SchoolYearFactory(start_year=2019).semesters.get(number=1)
    cast.student.personas_kods = "32867300679"
    cast.student.status = Student.Status.LEFT
    cast.student.left_on = date(2020, 6, 1)
    cast.student.save()
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.EVALUATED,
        semester=semester,
        first_approved_at=timezone.now(),
        goals="Ģimenes situācija: tēvs ārzemēs",
        early_evaluation_reason="Ģimene pārceļas uz ārzemēm",
    )
    recent = ready_plan(
        student=cast.other_student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.EVALUATED,
        semester=semester,
        first_approved_at=timezone.now(),
    )
    before = report(cast.school)

    out = io.StringIO()
    call_command("anonymise_pupils", "--dry-run", stdout=out)
    assert "1 pupil(s) would be anonymised" in out.getvalue()
    assert Student.objects.get(pk=cast.student.pk).last_name == "Bērziņa"

    call_command("anonymise_pupils", stdout=io.StringIO())
    student = Student.objects.get(pk=cast.student.pk)
    assert (student.first_name, student.last_name, student.personas_kods) == ("—", "—", "")
    assert not student.guardians.exists()
    assert not Student.history.filter(id=student.pk, last_name="Bērziņa").exists()
    plan.refresh_from_db()
    assert plan.goals == "" and PlanRisk.objects.get(plan=plan).justification == "—"
    assert plan.early_evaluation_reason == ""
    assert not SupportPlan.history.filter(id=plan.pk, goals__contains="tēvs").exists()
    # The pupil still learning is untouched, and every figure is the same.
    assert Student.objects.get(pk=cast.other_student.pk).last_name == "Ozols"
    assert recent.risks.get().justification != "—"
    assert report(cast.school) == before


def test_anonymising_removes_what_the_claims_history_still_says(cast):
    """The claim, its lines and its receipts keep old values in their history (a line's old
    description, a receipt's file name, a return's comment): it goes with the rest."""
    plan = claimable_plan(cast)
    other = UserFactory(username="second_social_pedagogue")
    MembershipFactory(user=other, school=cast.school, role=Role.SOCIAL_PEDAGOGUE)
    claim = draft_claim(plan=plan, by=cast.class_teacher, receipts=[receipt("Elza_Berzina.png")])
    services.submit_claim(claim=claim, by=cast.class_teacher)
    services.return_claim(claim=claim, by=other, comment="Elzas tēvs atnesīs čeku")
    line = {"date": timezone.localdate(), "description": "Biļetes Elzai", "amount": Decimal(9)}
    services.update_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=cast.class_teacher,
        month=this_month(),
        lines=[line],
        receipts=[],
    )
    assert ClaimLine.history.filter(claim_id=claim.pk, description="Biļetes Elzai").exists()
    Student.objects.filter(pk=cast.student.pk).update(
        status=Student.Status.LEFT, left_on=date(2015, 6, 1)
    )

    call_command("anonymise_pupils", stdout=io.StringIO())

    assert not ClaimLine.history.filter(claim_id=claim.pk).exclude(description="—").exists()
    assert not Receipt.history.filter(claim_id=claim.pk).exists()
    assert not CompensationClaim.history.filter(id=claim.pk).exclude(decision_comment="").exists()


def test_an_erasure_request_anonymises_one_pupil_now(cast):
    """``--pupil`` takes a pupil whatever the date they left (here: still learning)."""
    out, pupil = io.StringIO(), str(cast.student.public_id)
    call_command("anonymise_pupils", "--pupil", pupil, "--dry-run", stdout=out)
    assert "1 pupil(s) would be anonymised" in out.getvalue()
    assert Student.objects.get(pk=cast.student.pk).last_name == "Bērziņa"

    call_command("anonymise_pupils", "--pupil", pupil, stdout=io.StringIO())
    assert Student.objects.get(pk=cast.student.pk).last_name == "—"
    assert Student.objects.get(pk=cast.other_student.pk).last_name == "Ozols"
    # Again, or an id of nobody: nothing more happens, and the command says so.
    err = io.StringIO()
    call_command("anonymise_pupils", "--pupil", pupil, stdout=io.StringIO(), stderr=err)
    assert "1 id(s) name no pupil" in err.getvalue()


def test_a_malformed_pupil_id_is_refused(cast):
    with pytest.raises(CommandError, match="Not a pupil's id"):
        call_command("anonymise_pupils", "--pupil", "abc", stdout=io.StringIO())
    assert Student.objects.get(pk=cast.student.pk).last_name == "Bērziņa"

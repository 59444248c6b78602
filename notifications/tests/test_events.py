"""Each event: exactly one notification in the portal and one e-mail, in the recipient's
language, with a link that opens for the recipient, naming the pupil by first name only."""

from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from compensations import services as claim_services
from compensations.tests.factories import claimable_plan, submitted_claim
from early_warning.models import ImportKind
from early_warning.services import import_facts
from early_warning.tests.helpers import current_semester
from notifications.models import Notification
from payments import services as payment_services
from payments.tests.batch_factories import sent_batch
from plans import services as plan_services
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import ready_plan
from students.models import ApprovalLevel, ApprovalRoute, Student

from .helpers import in_language, link_of, only_mail_to, only_notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def coded_pupil(cast):
    cast.student.personas_kods = "12031012345"
    cast.student.save(update_fields=["personas_kods"])


def opens_for(client, user, message):
    client.force_login(user)
    response = client.get(link_of(message))
    assert response.status_code == 200, (link_of(message), response.status_code)
    return response


def keeps_the_pupil_private(cast, message):
    """Only the first name: no surname, no personal code, in the subject or the body."""
    text = message.subject + message.body
    assert cast.student.first_name in text
    assert cast.student.last_name not in text
    assert cast.student.personas_kods not in text
    assert cast.student.personas_kods[:6] not in text


@pytest.fixture
def draft(cast):
    return ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )


def submit(draft, by, capture):
    with capture(execute=True):
        return plan_services.submit_plan(plan=draft, by=by)


def test_a_submitted_plan_reaches_the_schools_approver_in_their_language(
    cast, draft, client, django_capture_on_commit_callbacks
):
    in_language(cast.coordinator, "en")
    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    notification = only_notification(cast.coordinator, "plan_submitted")
    assert notification.item == f"plan:{draft.pk}"
    message = only_mail_to(cast.coordinator)
    assert "waits for your approval" in message.subject
    assert draft.code in message.subject
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.coordinator, message)


def test_the_mail_is_in_latvian_by_default(cast, draft, django_capture_on_commit_callbacks):
    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    message = only_mail_to(cast.coordinator)
    assert "gaida jūsu apstiprinājumu" in message.subject, message.subject


def test_a_plan_passed_on_reaches_the_next_level_by_its_code_only(
    cast, draft, client, django_capture_on_commit_callbacks
):
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.approve_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=cast.coordinator)
    assert SupportPlan.objects.get(pk=draft.pk).approval_level == ApprovalLevel.MUNICIPALITY
    notification = only_notification(cast.municipality, "plan_submitted")
    assert "pupil" not in notification.params
    message = only_mail_to(cast.municipality)
    assert cast.student.first_name not in message.body
    assert cast.student.last_name not in message.body
    opens_for(client, cast.municipality, message)


def test_a_returned_plan_reaches_its_preparer_with_the_comment_in_the_portal_only(
    cast, draft, client, django_capture_on_commit_callbacks
):
    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.return_plan(
            plan=SupportPlan.objects.get(pk=draft.pk),
            by=cast.coordinator,
            comment="Pamatojumā trūkst stundu skaita.",
        )
    notification = only_notification(cast.class_teacher, "plan_returned")
    assert notification.comment == "Pamatojumā trūkst stundu skaita."
    message = only_mail_to(cast.class_teacher)
    assert "stundu skaita" not in message.body
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.class_teacher, message)
    page = client.get("/notifications/")
    assert "Pamatojumā trūkst stundu skaita." in page.content.decode()


def test_an_approved_plan_reaches_its_preparer(
    cast, draft, client, django_capture_on_commit_callbacks
):
    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    Notification.objects.all().delete()
    mail.outbox.clear()
    in_language(cast.class_teacher, "en")
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.approve_plan(plan=SupportPlan.objects.get(pk=draft.pk), by=cast.coordinator)
    only_notification(cast.class_teacher, "plan_approved")
    message = only_mail_to(cast.class_teacher)
    assert "was approved" in message.subject
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.class_teacher, message)


def test_a_submitted_claim_reaches_the_social_pedagogue(
    cast, client, django_capture_on_commit_callbacks
):
    plan = claimable_plan(cast)
    with django_capture_on_commit_callbacks(execute=True):
        claim = submitted_claim(plan=plan, by=cast.class_teacher)
    only_notification(cast.social_pedagogue, "claim_submitted")
    message = only_mail_to(cast.social_pedagogue)
    assert claim.code in message.subject
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.social_pedagogue, message)


@pytest.fixture
def claim(cast):
    return submitted_claim(plan=claimable_plan(cast), by=cast.class_teacher)


def test_a_decided_claim_reaches_its_submitter_without_the_pupils_surname(
    cast, claim, client, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    notification = only_notification(cast.class_teacher, "claim_decided")
    assert notification.params["outcome"] == "approved"
    message = only_mail_to(cast.class_teacher)
    assert claim.code in message.subject
    assert "apstiprināts" in message.subject
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.class_teacher, message)


def test_a_returned_claim_reaches_its_submitter(
    cast, claim, client, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    in_language(cast.class_teacher, "en")
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.return_claim(claim=claim, by=cast.social_pedagogue, comment="Trūkst kvīts.")
    notification = only_notification(cast.class_teacher, "claim_returned")
    assert notification.comment == "Trūkst kvīts."
    message = only_mail_to(cast.class_teacher)
    assert "returned to you for correction" in message.subject
    assert "Trūkst kvīts." not in message.body
    opens_for(client, cast.class_teacher, message)


@pytest.fixture
def sent_line(cast, claim):
    claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    batch = sent_batch([claim], builder=cast.coordinator)
    Notification.objects.all().delete()
    mail.outbox.clear()
    return batch.lines.get(claim=claim)


@pytest.mark.parametrize("outcome", ["paid", "refused"])
def test_a_payment_recorded_or_refused_reaches_the_claims_submitter(
    cast, sent_line, outcome, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        if outcome == "paid":
            payment_services.record_paid(
                line=sent_line,
                by=cast.municipal_accountant,
                paid_on=timezone.localdate(),
                reference="MK-1",
            )
        else:
            payment_services.record_refused(
                line=sent_line, by=cast.municipal_accountant, reason="Nederīgs IBAN LV00"
            )
    notification = only_notification(cast.class_teacher, "payment")
    assert notification.params["outcome"] == outcome
    message = only_mail_to(cast.class_teacher)
    assert "IBAN" not in message.body
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.class_teacher, message)


def test_a_measure_assigned_reaches_the_specialist(
    cast, client, django_capture_on_commit_callbacks
):
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.social_pedagogue
    )
    measure = SupportMeasure.objects.get(plan=plan)
    risk = plan.risks.get()
    measure.responsible = cast.specialist
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.save_plan_content(
            plan=plan,
            by=cast.class_teacher,
            risks=[],
            removed_risks=[],
            measures=[(measure, [risk.risk_factor])],
            removed_measures=[],
        )
    only_notification(cast.specialist, "measure_assigned")
    message = only_mail_to(cast.specialist)
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.specialist, message)
    # Saved again unchanged, nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.save_plan_content(
            plan=SupportPlan.objects.get(pk=plan.pk),
            by=cast.class_teacher,
            risks=[],
            removed_risks=[],
            measures=[(SupportMeasure.objects.get(pk=measure.pk), [risk.risk_factor])],
            removed_measures=[],
        )
    assert Notification.objects.filter(recipient=cast.specialist).count() == 1


def absences(*pairs):
    rows = [
        SimpleNamespace(
            student_id=student.pk,
            data={"lessons_held": 200, "excused": 0, "unexcused": unexcused},
        )
        for student, unexcused in pairs
    ]
    return SimpleNamespace(is_valid=True, kind=ImportKind.ABSENCES, rows=rows)


def test_an_import_that_flags_new_pupils_tells_their_class_teacher(
    cast, client, django_capture_on_commit_callbacks
):
    semester = current_semester()
    period = (semester.start_date, min(semester.end_date, timezone.localdate()))
    with django_capture_on_commit_callbacks(execute=True):
        import_facts(
            check=absences((cast.student, 40), (cast.other_student, 0)),
            school=cast.school,
            period_dates=period,
            semester=semester,
            file_name="kavejumi.csv",
            by=cast.coordinator,
        )
    notification = only_notification(cast.class_teacher, "pupils_flagged")
    assert notification.params["count"] == 1
    assert not Notification.objects.filter(recipient=cast.other_teacher).exists()
    message = only_mail_to(cast.class_teacher)
    keeps_the_pupil_private(cast, message)
    opens_for(client, cast.class_teacher, message)
    # The same file again flags nobody new.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        import_facts(
            check=absences((cast.student, 40)),
            school=cast.school,
            period_dates=period,
            semester=semester,
            file_name="kavejumi.csv",
            by=cast.coordinator,
        )
    assert mail.outbox == []
    assert Notification.objects.count() == 1


def test_the_person_who_acted_hears_nothing_of_it(cast, django_capture_on_commit_callbacks):
    """A coordinator who prepares and submits a plan is not told it waits for them."""
    plan = ready_plan(student=cast.student, preparer=cast.coordinator, responsible=cast.specialist)
    submit(plan, cast.coordinator, django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(recipient=cast.coordinator).exists()
    assert mail.outbox == []


def test_nothing_is_sent_for_an_event_rolled_back(cast, draft, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        plan_services.submit_plan(plan=draft, by=cast.class_teacher)
        raise RuntimeError
    assert mail.outbox == []
    assert not Notification.objects.exists()
    assert SupportPlan.objects.get(pk=draft.pk).status == PlanStatus.DRAFT


def test_anonymising_the_pupil_deletes_the_notifications_naming_them(
    cast, draft, django_capture_on_commit_callbacks
):
    from privacy.retention import anonymise

    submit(draft, cast.class_teacher, django_capture_on_commit_callbacks)
    other = ready_plan(
        student=cast.other_student, preparer=cast.other_teacher, responsible=cast.specialist
    )
    submit(other, cast.other_teacher, django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 2
    anonymise(Student.objects.filter(pk=cast.student.pk))
    assert list(Notification.objects.values_list("pupil_id", flat=True)) == [cast.other_student.pk]

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from compensations import services as claims
from compensations.tests.factories import pdf_bytes, receipt, submitted_claim, transport_measure
from payments.tests.batch_factories import pay_through_batch
from plans.models import PlanStatus
from plans.tests.factories import ready_plan
from privacy.subject_export import views_by_role
from students.models import Guardian


def _pupil_with_a_paid_claim(cast):
    cast.student.personas_kods = "32867300679"
    cast.student.save()
    Guardian.objects.create(student=cast.student, name="Inese Bērziņa", phone="+371 20000000")
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan, planned="1234.50")
    claim = claims.create_claim(
        measure=plan.measures.get(measure_type="compensation"),
        by=cast.class_teacher,
        month=timezone.localdate().replace(day=1),
        lines=[{"date": timezone.localdate(), "description": "Biļetes", "amount": Decimal("12.5")}],
        receipts=[receipt("kvīts.png"), receipt("rēķins.pdf", content=pdf_bytes())],
    )
    claims.submit_claim(claim=claim, by=cast.class_teacher)
    claims.approve_claim(claim=claim, by=cast.social_pedagogue)
    pay_through_batch(claim, reference="MK-7")
    claim.refresh_from_db()
    return plan, claim


def _download(client, cast):
    response = client.get(reverse("student_data_export", args=[cast.student.public_id]))
    assert response.status_code == 200
    # The file is named by its kind and day, never by an internal number or the pupil.
    disposition = response["Content-Disposition"]
    assert str(cast.student.pk) not in disposition.replace(timezone.localdate().isoformat(), "")
    assert cast.student.last_name not in disposition
    assert disposition.endswith(f'-dati-{timezone.localdate():%Y-%m-%d}.zip"') or (
        disposition.endswith(f'pupil-data-{timezone.localdate():%Y-%m-%d}.zip"')
    )
    return zipfile.ZipFile(io.BytesIO(response.content))


def _text(archive, name):
    text = "\n".join(page.extract_text() for page in PdfReader(archive.open(name)).pages)
    return text.replace("\xa0", " ")  # the thousands separator


def test_the_archive_holds_everything_about_the_pupil(cast, login):
    plan, claim = _pupil_with_a_paid_claim(cast)
    archive = _download(login(cast.coordinator), cast)
    names = archive.namelist()
    record = json.loads(archive.read("pupil.json"))
    assert record["pupil"]["personas_kods"] == "32867300679"  # the subject gets it unmasked
    assert [p["code"] for p in record["plans"]] == [plan.code]
    assert record["plans"][0]["risks"][0]["justification"]
    assert [c["code"] for c in record["claims"]] == [claim.code]
    assert record["claims"][0]["total"] == "12.50"  # plain for machines
    # Every file the JSON names is in the archive.
    assert {r["file"] for r in record["claims"][0]["receipts"]} | {
        record["plans"][0]["file"]
    } <= set(names)
    # Another pupil's plan is not in it.
    assert cast.other_student.last_name not in archive.read("pupil.json").decode()


def test_a_parent_can_read_the_archive_in_latvian(cast, login):
    plan, claim = _pupil_with_a_paid_claim(cast)
    client = login(cast.coordinator)
    client.get(reverse("plan_detail", args=[plan.pk]))  # a class teacher and a coordinator
    login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    archive = _download(login(cast.coordinator), cast)

    code = claim.code.replace("/", "-")
    assert archive.namelist()[0] == "1-kopsavilkums.pdf"  # the summary on top
    assert sorted(archive.namelist()) == sorted(
        [
            "1-kopsavilkums.pdf",
            "2-visi-dati.pdf",
            f"plani/{plan.code.replace('/', '-')}.pdf",
            f"kvitis/{code}-1.png",
            f"kvitis/{code}-2.pdf",
            "pupil.json",
        ]
    )
    assert archive.read(f"kvitis/{code}-1.png").startswith(b"\x89PNG")
    assert archive.read(f"kvitis/{code}-2.pdf").startswith(b"%PDF")

    summary = PdfReader(archive.open("1-kopsavilkums.pdf"))
    assert len(summary.pages) == 1
    text = _text(archive, "1-kopsavilkums.pdf")
    assert "Elza Bērziņa" in text and "32867300679" in text and "Inese Bērziņa" in text
    assert "Atbalsta plāni" in text and plan.code in text
    assert "1 234,50 €" in text  # the planned amount, as people write it
    assert "12,50 €" in text and "Izmaksāts" in text
    assert timezone.localdate().strftime("%-d.%m.%Y") in text  # the day it was paid
    assert "Kas skolā skatīja datus" in text
    assert "klases audzinātājs" in text and "koordinators" in text
    details = _text(archive, "2-visi-dati.pdf")
    assert "Biļetes" in details and "MK-7" in details and "Inese Bērziņa" in details
    assert f"kvitis/{code}-1.png" in details


def test_the_archive_speaks_english_to_an_english_user(cast, login):
    plan, claim = _pupil_with_a_paid_claim(cast)
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    archive = _download(client, cast)
    assert archive.namelist()[0] == "1-summary.pdf"
    code = claim.code.replace("/", "-")
    assert f"receipts/{code}-1.png" in archive.namelist()
    text = _text(archive, "1-summary.pdf")
    assert "Support plans" in text and "€12.50" in text and "Paid" in text


def test_the_roles_that_saw_the_pupil_come_from_the_audit_log(cast, login):
    plan, _claim = _pupil_with_a_paid_claim(cast)
    login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    login(cast.class_teacher).get(reverse("student_list"))  # a list showing the pupil
    login(cast.coordinator).get(reverse("student_detail", args=[cast.student.pk]))
    login(cast.other_teacher).get(reverse("student_list"))  # shows only their own class
    with translation.override("en"):
        rows = {r["role"]: r for r in views_by_role(cast.student)}
    assert set(rows) == {"class teacher", "coordinator"}
    assert (rows["class teacher"]["people"], rows["class teacher"]["pages"]) == (1, 1)
    assert rows["class teacher"]["lists"] == 1
    assert rows["coordinator"]["pages"] == 1


@pytest.mark.parametrize("plans", [9])
def test_the_summary_stays_on_one_page(cast, login, plans):
    """Many plans and claims: the summary lists the first and sends to the full document."""
    from plans.tests.factories import make_plan
    from students.tests.factories import SchoolYearFactory

    for number in range(plans):
        year = SchoolYearFactory(start_year=2010 + number)
        make_plan(
            student=cast.student,
            preparer=cast.class_teacher,
            semester=year.semesters.get(number=1),
            goals="Mērķis",
        )
    for _ in range(9):
        submitted_claim(plan=claimable_plan_once(cast), by=cast.class_teacher, amount="5.00")
    archive = _download(login(cast.coordinator), cast)
    assert len(PdfReader(archive.open("1-kopsavilkums.pdf")).pages) == 1
    text = _text(archive, "1-kopsavilkums.pdf")
    assert f"Kopā {plans + 1} plāni" in text and "Kopā 9 pieteikumi" in text


def claimable_plan_once(cast):
    from compensations.tests.factories import claimable_plan
    from plans.models import SupportPlan

    plan = SupportPlan.objects.filter(student=cast.student, status=PlanStatus.IN_PROGRESS).first()
    return plan or claimable_plan(cast)


def test_the_archive_holds_the_payees_and_the_payments_with_the_iban_masked(cast, login):
    from payments.models import Payee, PaymentBatch
    from payments.tests.test_payees import IBAN, guardian_payee, sent_batch

    _plan, claim = _pupil_with_a_paid_claim(cast)
    # The claim was paid through a batch of the test's own (with a payee of its own); the
    # batch below, to the payee below, takes its place.
    PaymentBatch.objects.filter(school=cast.school).delete()
    Payee.objects.filter(student=cast.student).delete()
    payee = guardian_payee(cast)
    payee_of_another = guardian_payee(cast, cast.other_student, iban="LV00HABA0012345678910")
    batch, _line = sent_batch(cast, claim, payee, outcome="paid")
    archive = _download(login(cast.coordinator), cast)
    record = json.loads(archive.read("pupil.json"))
    (shown,) = record["payees"]
    assert (shown["id"], shown["name"], shown["kind"]) == (payee.pk, "Inese Bērziņa", "guardian")
    assert shown["iban"] == "LV** **** **** **** *5001" and shown["history"]
    (payment,) = record["claims"][0]["payments"]
    assert (payment["batch"], payment["amount"], payment["outcome"]) == (
        batch.code,
        "12.50",
        "paid",
    )
    assert payment["iban"] == "LV** **** **** **** *5001"
    details = _text(archive, "2-visi-dati.pdf")
    assert "LV** **** **** **** *5001" in details and batch.code in details
    # Whole nowhere in the archive, and another pupil's payee not at all.
    for name in archive.namelist():
        content = archive.read(name)
        text = _text(archive, name) if name.endswith(".pdf") else content.decode("utf-8", "ignore")
        assert IBAN not in text and "BANK0000" not in text, name
        assert payee_of_another.name not in text or name.startswith("plani"), name

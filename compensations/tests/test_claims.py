import csv
import io
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from PIL import Image

from compensations import services
from compensations.models import ClaimStatus, ClaimStatusChange, CompensationClaim, Receipt
from compensations.tests.factories import (
    at_status,
    claimable_plan,
    draft_claim,
    pdf_bytes,
    png_bytes,
    receipt,
    submitted_claim,
    this_month,
    transport_measure,
)
from conftest import CAST_ROLES
from payments.models import PaymentBatch
from payments.tests.batch_factories import pay_through_batch
from plans import services as plan_services
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import ready_plan
from students.models import Role
from students.tests.factories import MembershipFactory, StudentFactory, UserFactory, enrol

ROLES = CAST_ROLES


@pytest.fixture
def plan(cast):
    return claimable_plan(cast)


def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- Filing ---------------------------------------------------------------------------------


def test_teacher_files_and_submits_a_claim_through_the_page(cast, plan, login):
    measure = plan.measures.get(measure_type="compensation")
    client = login(cast.class_teacher)
    today = timezone.localdate()
    response = client.post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": today.strftime("%Y-%m"),
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50",
            "lines-0-date": today.isoformat(),
            "lines-0-description": "Biļetes",
            "lines-0-amount": "12.50",
            "lines-1-date": "",
            "lines-1-description": "",
            "lines-1-amount": "",
            "receipts": [
                SimpleUploadedFile("a.png", png_bytes()),
                SimpleUploadedFile("b.pdf", pdf_bytes()),
            ],
            "submit": "1",
        },
    )
    claim = CompensationClaim.objects.get()
    assert response.status_code == 302, response.context["form"].errors
    assert claim.status == ClaimStatus.SUBMITTED and claim.total == Decimal("12.50")
    assert sorted(r.content_type for r in claim.receipts.all()) == ["application/pdf", "image/png"]
    stored = claim.receipts.first().file.name
    assert stored.startswith("receipts/") and "a.png" not in stored and "b.pdf" not in stored


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("kvits.pdf", b"MZ\x90\x00\x03 this is a windows program", "not a PDF, JPEG or PNG"),
        ("kvits.png", b"", "is empty"),
        ("kvits.jpg", b"\xff\xd8\xff broken jpeg", "damaged"),
    ],
)
def test_bad_receipts_are_refused_and_nothing_is_stored(
    cast, plan, login, private_media, name, content, message
):
    measure = plan.measures.get(measure_type="compensation")
    today = timezone.localdate()
    response = english(login(cast.class_teacher)).post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": today.strftime("%Y-%m"),
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50",
            "lines-0-date": today.isoformat(),
            "lines-0-description": "Biļetes",
            "lines-0-amount": "12.50",
            "receipts": [SimpleUploadedFile(name, content)],
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CompensationClaim.objects.exists() and not Receipt.objects.exists()
    assert not (private_media / "receipts").exists()


def test_a_receipt_over_the_size_limit_is_refused(cast, plan, settings):
    settings.IAP_RECEIPT_MAX_BYTES = 100
    with pytest.raises(Exception) as excinfo:
        draft_claim(
            plan=plan, by=cast.class_teacher, receipts=[receipt(content=png_bytes((64, 64)))]
        )
    assert "MB" in str(excinfo.value)
    assert not CompensationClaim.objects.exists()


def test_at_most_ten_receipts_per_claim(cast, plan):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        draft_claim(plan=plan, by=cast.class_teacher, receipts=[receipt() for _ in range(11)])


def test_the_month_must_lie_in_the_measure_period(cast, plan):
    measure = plan.measures.get(measure_type="compensation")
    old_month = plan.semester.start_date.replace(year=plan.semester.start_date.year - 2, day=1)
    with pytest.raises(services.ClaimError):
        services.create_claim(
            measure=measure,
            by=cast.class_teacher,
            month=old_month,
            lines=[{"date": old_month, "description": "x", "amount": Decimal(1)}],
            receipts=[receipt()],
        )


def test_a_line_date_outside_the_month_is_refused(cast, plan):
    measure = plan.measures.get(measure_type="compensation")
    with pytest.raises(services.ClaimError):
        services.create_claim(
            measure=measure,
            by=cast.class_teacher,
            month=this_month(),
            lines=[
                {
                    "date": this_month().replace(year=this_month().year - 1),
                    "description": "x",
                    "amount": Decimal(1),
                }
            ],
            receipts=[receipt()],
        )


def test_submitting_needs_a_receipt(cast, plan):
    claim = draft_claim(plan=plan, by=cast.class_teacher, receipts=[])
    with pytest.raises(services.ClaimError):
        services.submit_claim(claim=claim, by=cast.class_teacher)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.DRAFT


def test_claims_need_an_approved_plan(cast):
    draft_plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    with pytest.raises(services.ClaimError):
        draft_claim(plan=draft_plan, by=cast.class_teacher)


# --- Deciding -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_social_pedagogue_decides(cast, plan, role):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    user = cast.users[role]
    if role == "social_pedagogue":
        services.approve_claim(claim=claim, by=user)
        assert claim.status == ClaimStatus.APPROVED and claim.decided_by == user
    else:
        with pytest.raises(services.ClaimError):
            services.approve_claim(claim=claim, by=user)
        with pytest.raises(services.ClaimError):
            services.reject_claim(claim=claim, by=user, reason="Nē")
        assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_the_submitter_never_decides_even_as_social_pedagogue(cast, plan):
    claim = submitted_claim(plan=plan, by=cast.social_pedagogue)
    with pytest.raises(services.ClaimError):
        services.approve_claim(claim=claim, by=cast.social_pedagogue)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_rejecting_and_returning_need_a_reason(cast, plan):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    with pytest.raises(services.ClaimError):
        services.reject_claim(claim=claim, by=cast.social_pedagogue, reason=" ")
    with pytest.raises(services.ClaimError):
        services.return_claim(claim=claim, by=cast.social_pedagogue, comment="")
    services.return_claim(claim=claim, by=cast.social_pedagogue, comment="Trūkst čeka")
    assert claim.status == ClaimStatus.RETURNED and claim.is_editable
    # The submitter corrects and submits again.
    services.submit_claim(claim=claim, by=cast.class_teacher)
    services.reject_claim(claim=claim, by=cast.social_pedagogue, reason="Nav attiecināms")
    assert claim.status == ClaimStatus.REJECTED
    assert claim.decision_comment == "Nav attiecināms"


def test_a_claim_over_what_remains_cannot_be_submitted_and_says_by_how_much(cast, plan):
    first = submitted_claim(plan=plan, by=cast.class_teacher, amount="80.00")
    services.approve_claim(claim=first, by=cast.social_pedagogue)
    second = draft_claim(plan=plan, by=cast.class_teacher, amount="30.50")  # saved as a draft
    with translation.override("en"), pytest.raises(services.ClaimError) as excinfo:
        services.submit_claim(claim=second, by=cast.class_teacher)
    message = excinfo.value.messages[0]
    assert "10.50" in message and "20.00" in message and "draft" in message
    assert CompensationClaim.objects.get(pk=second.pk).status == ClaimStatus.DRAFT


def test_approving_over_the_approved_amount_says_by_how_much(cast, plan):
    """Two claims within the amount when submitted; the plan's approved amount then fell (a
    revision approved with less): approving the second now would go over."""
    first = submitted_claim(plan=plan, by=cast.class_teacher, amount="60.00")
    second = submitted_claim(plan=plan, by=cast.class_teacher, amount="30.50")
    services.approve_claim(claim=first, by=cast.social_pedagogue)
    SupportMeasure.objects.filter(pk=first.measure_id).update(approved_amount=Decimal("80.00"))
    with translation.override("en"), pytest.raises(services.ClaimError) as excinfo:
        services.approve_claim(claim=second, by=cast.social_pedagogue)
    message = excinfo.value.messages[0]
    assert "10.50" in message and "80.00" in message and "revised" in message
    assert CompensationClaim.objects.get(pk=second.pk).status == ClaimStatus.SUBMITTED


def test_a_plan_in_revision_pays_only_what_was_approved(cast, plan):
    """The revision loophole: an approved measure of 100,00 raised to 1 200,00 while the plan
    is in revision pays no more than 100,00 until the plan is approved again."""
    measure = plan.measures.get(measure_type="compensation")
    plan_services.revise_plan(plan=plan, by=cast.class_teacher)
    SupportMeasure.objects.filter(pk=measure.pk).update(
        planned_amount=Decimal("1200.00"), ceiling_justification="Above the ceiling: why."
    )
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="500.00", measure=measure)
    with pytest.raises(services.ClaimError):
        services.submit_claim(claim=claim, by=cast.class_teacher)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.DRAFT
    # Approved again, the new amount counts.
    plan_services.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.class_teacher)
    plan_services.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)
    services.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    assert SupportMeasure.objects.get(pk=measure.pk).approved_amount == Decimal("1200.00")


def test_decisions_are_recorded_and_emailed(cast, plan, django_capture_on_commit_callbacks):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_claim(claim=claim, by=cast.social_pedagogue)
    assert [m.to for m in mail.outbox] == [[cast.class_teacher.email]]
    assert claim.code in mail.outbox[0].subject
    steps = list(ClaimStatusChange.objects.filter(claim=claim).values_list("to_status", "by"))
    assert steps == [
        (ClaimStatus.SUBMITTED, cast.class_teacher.pk),
        (ClaimStatus.APPROVED, cast.social_pedagogue.pk),
    ]


def test_the_submitter_sees_the_decision_on_the_home_page(cast, plan, login):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    services.reject_claim(claim=claim, by=cast.social_pedagogue, reason="Nav čeka")
    home = login(cast.class_teacher).get(reverse("home"))
    assert [c.pk for c in home.context["decisions"]] == [claim.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_decisions_at_the_same_moment_give_one_outcome(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    cast = cast_tx
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan)
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    barrier = threading.Barrier(2)
    results = []

    def decide(action):
        from django.db import connections

        try:
            copy = CompensationClaim.objects.get(pk=claim.pk)
            barrier.wait(timeout=5)
            if action == "approve":
                services.approve_claim(claim=copy, by=cast.social_pedagogue)
            else:
                services.reject_claim(claim=copy, by=cast.social_pedagogue, reason="Nē")
            results.append(action)
        except services.ClaimError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("refused") == 1
    decisions = ClaimStatusChange.objects.filter(
        claim=claim, to_status__in=[ClaimStatus.APPROVED, ClaimStatus.REJECTED]
    )
    assert decisions.count() == 1


DECISIONS = {
    "approve": lambda claim, by: services.approve_claim(claim=claim, by=by),
    "reject": lambda claim, by: services.reject_claim(claim=claim, by=by, reason="Nav čeka"),
    "return": lambda claim, by: services.return_claim(claim=claim, by=by, comment="Labot"),
}


@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_a_decision_on_a_claim_changed_since_it_was_read_is_refused(cast, plan, decision):
    """Read while submitted at 30,00 €; returned, raised to 90,00 € and submitted again before
    the decision arrives: refused (look again), not taken on what the decider has not seen."""
    colleague = UserFactory(username="second_social_pedagogue")
    MembershipFactory(user=colleague, school=cast.school, role=Role.SOCIAL_PEDAGOGUE)
    claim = submitted_claim(plan=plan, by=cast.class_teacher, amount="30.00")
    seen = CompensationClaim.objects.get(pk=claim.pk)
    services.return_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk), by=colleague, comment="X"
    )
    services.update_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=cast.class_teacher,
        month=this_month(),
        lines=[{"date": timezone.localdate(), "description": "Biļetes", "amount": Decimal(90)}],
        receipts=[],
    )
    services.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    with pytest.raises(services.ClaimChanged):
        DECISIONS[decision](seen, cast.social_pedagogue)
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


# --- Paying and exporting -------------------------------------------------------------------


def test_the_payments_list_exports_the_paid_claims_with_payee_and_batch(cast, plan, login):
    approved = submitted_claim(plan=plan, by=cast.class_teacher, amount="20.00")
    services.approve_claim(claim=approved, by=cast.social_pedagogue)
    pending = submitted_claim(plan=plan, by=cast.class_teacher, amount="5.00")
    approved = pay_through_batch(approved, reference="MK-7")
    pending.refresh_from_db()
    assert approved.status == ClaimStatus.PAID and approved.payment_reference == "MK-7"
    assert pending.status == ClaimStatus.SUBMITTED
    client = login(cast.coordinator)
    # Money is paid through payment batches only: the list has no pay action any more.
    assert client.post(reverse("claim_payments"), {"claims": [pending.pk]}).status_code == 405

    response = client.get(reverse("claim_payments"), {"status": "paid", "format": "csv"})
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "Izglītojamais",
        "Klase",
        "Kategorija",
        "Mēnesis",
        "Summa, EUR",
        "Pieteikuma kods",
        "Statuss",
        "Izmaksāts",
        "Maksājuma atsauce",
        "Saņēmējs",
        "IBAN",
        "Maksājumu saraksts",
        "Banka atteica",
    ]
    assert rows[1][0] == "Bērziņa Elza" and rows[1][1] == "7.a" and rows[1][4] == "20,00"
    assert rows[1][5] == approved.code
    batch = PaymentBatch.objects.get()
    assert rows[1][9] == "Aiga Bērziņa" and rows[1][11] == batch.code
    assert rows[1][10].startswith("LV**") and rows[1][10].endswith(batch.lines.get().iban[-4:])

    response = client.get(reverse("claim_payments"), {"status": "paid", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][4] == 20 and isinstance(values[1][4], int | float)
    assert values[1][5] == approved.code


def test_csv_cells_cannot_smuggle_formulas():
    from iap_portal.exports import safe_cell

    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("Bērziņa") == "Bērziņa"


def test_paying_needs_an_approved_claim_in_a_sent_batch_and_a_past_date(cast, plan):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    with pytest.raises(services.ClaimError):
        services.record_claim_paid(
            claim=claim, by=cast.municipal_accountant, paid_on=timezone.localdate(), reference="x"
        )
    services.approve_claim(claim=claim, by=cast.social_pedagogue)
    claim.refresh_from_db()
    with pytest.raises(services.ClaimError):  # in no batch
        services.record_claim_paid(
            claim=claim, by=cast.municipal_accountant, paid_on=timezone.localdate(), reference="x"
        )
    with pytest.raises(services.ClaimError):
        services.record_claim_paid(
            claim=claim,
            by=cast.municipal_accountant,
            paid_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
            reference="x",
        )


def test_a_plan_with_an_approved_claim_cannot_be_deleted(cast, plan):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    services.approve_claim(claim=claim, by=cast.social_pedagogue)
    with pytest.raises(plan_services.PlanActionError):
        plan_services.delete_plan(plan=plan, by=cast.class_teacher)


def test_the_plan_page_shows_planned_claimed_approved_and_paid(cast, plan, login):
    first = submitted_claim(plan=plan, by=cast.class_teacher, amount="20.00")
    services.approve_claim(claim=first, by=cast.social_pedagogue)
    submitted_claim(plan=plan, by=cast.class_teacher, amount="7.00")
    response = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    measure = next(m for m in response.context["measures"] if m.measure_type == "compensation")
    assert measure.claim_sums == {
        "claimed": Decimal("27.00"),
        "approved": Decimal("20.00"),
        "paid": Decimal("0.00"),
    }


# --- Receipts -------------------------------------------------------------------------------


def test_the_receipt_view_serves_the_file_safely(cast, plan, login):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    stored = claim.receipts.get()
    response = login(cast.social_pedagogue).get(
        reverse("receipt_view", args=[stored.public_id]), {"download": "1"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert f'filename="{stored.original_name}"' in response["Content-Disposition"]
    # The image as uploaded, written anew: the same pixels.
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert served.format == "PNG" and served.size == (8, 8)
    assert served.convert("RGB").getpixel((0, 0)) == (255, 255, 255)


def test_a_receipt_of_another_school_is_not_found(cast, plan, login):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    url = reverse("receipt_view", args=[claim.receipts.get().public_id])
    assert login(cast.other_coordinator).get(url).status_code == 404


# --- Queue ----------------------------------------------------------------------------------


def _claims(cast, count):
    for i in range(count):
        student = StudentFactory(school=cast.school, last_name=f"Pieteicējs{i:02d}")
        enrol(student, cast.class_group)
        other_plan = ready_plan(
            student=student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
        )
        submitted_claim(plan=other_plan, by=cast.class_teacher)


@pytest.mark.parametrize("count", [1, 12])
def test_queue_query_count_is_fixed(cast, login, django_assert_num_queries, count):
    _claims(cast, count)
    client = login(cast.social_pedagogue)
    # session, user, memberships, current year, classes for the filter, count and sum,
    # count for the paginator, page of claims with their pupils' classes at the time (joined;
    # the session is written at most once a minute, not on this request), the audit row naming
    # its pupils (one INSERT)
    with django_assert_num_queries(9):
        response = client.get(reverse("claim_queue"))
    assert response.context["totals"]["count"] == count


def test_queue_filters_and_sums(cast, plan, login):
    submitted_claim(plan=plan, by=cast.class_teacher, amount="10.00")
    submitted_claim(plan=plan, by=cast.class_teacher, amount="25.00")
    client = login(cast.social_pedagogue)
    response = client.get(reverse("claim_queue"), {"min_amount": "20"})
    assert response.context["totals"] == {"count": 1, "total": Decimal("25.00")}
    response = client.get(reverse("claim_queue"), {"category": "meals"})
    assert response.context["totals"]["count"] == 0
    response = client.get(reverse("claim_queue"), {"month": this_month().strftime("%Y-%m")})
    assert response.context["totals"]["total"] == Decimal("35.00")
    assert client.get(reverse("claim_queue"), {"min_amount": "abc"}).status_code == 200


def test_an_approved_claim_is_paid_with_its_reference(cast, plan):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    at_status(claim, ClaimStatus.APPROVED)
    paid = pay_through_batch(claim, reference="R1")
    assert paid.status == ClaimStatus.PAID

"""The batches' pages: the coordinator builds and sends, the payer records; lists pinned at two
sizes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from compensations import services as claim_services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from iap_portal.models import AuditEvent
from payments import services
from payments.models import BatchStatus, LineOutcome, PaymentBatch
from payments.tests.batch_factories import debtor_account, guardian_payee, sent_batch


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def plan(cast):
    return claimable_plan(cast, planned="2000.00")


def approved(cast, plan, amount="30.00"):
    claim = submitted_claim(plan=plan, by=cast.class_teacher, amount=amount)
    claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    return CompensationClaim.objects.get(pk=claim.pk)


def test_the_coordinator_builds_checks_and_sends_a_batch(cast, plan, login):
    guardian_payee(cast.student, by=cast.coordinator)
    debtor_account(cast.school.municipality)
    claim = approved(cast, plan, "30.00")
    no_payee_student_claim = approved(cast, plan, "12.00")
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("batch_create"), {"school": cast.school.pk, "month": this_month().strftime("%Y-%m")}
    )
    batch = PaymentBatch.objects.get()
    assert response["Location"] == reverse("batch_detail", args=[batch.pk])
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert claim.code in page and "Put the chosen claims into the batch" in page
    client.post(
        reverse("batch_add", args=[batch.pk]), {"claims": [claim.pk, no_payee_student_claim.pk]}
    )
    assert batch.lines.count() == 2  # both claims have the pupil's guardian as payee
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert "Totals per category" in page and "Totals per payee" in page
    assert "LV**" in page and batch.lines.first().iban not in page  # masked at the school
    assert "42.00" in page or "€42.00" in page
    # A second batch of the month is refused and leads to the open one.
    again = client.post(
        reverse("batch_create"), {"school": cast.school.pk, "month": this_month().strftime("%Y-%m")}
    )
    assert again["Location"] == reverse("batch_detail", args=[batch.pk])
    # Remove one, confirm, send.
    line = batch.lines.get(claim=no_payee_student_claim)
    client.post(reverse("batch_remove", args=[batch.pk, line.pk]))
    assert batch.lines.count() == 1
    confirm = client.get(reverse("batch_send", args=[batch.pk]))
    assert (
        confirm.status_code == 200 and "Once sent the batch is locked" in confirm.content.decode()
    )
    assert PaymentBatch.objects.get().status == BatchStatus.OPEN  # GET only asks
    client.post(reverse("batch_send", args=[batch.pk]))
    assert PaymentBatch.objects.get().status == BatchStatus.SENT
    # The page named the pupils of its lines in the audit log.
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW_LIST, detail__startswith=f"payment batch {batch.code}"
    ).exists()


def test_a_claim_without_a_payee_says_choose_a_payee_first(cast, plan, login):
    claim = approved(cast, plan)
    batch = services.create_batch(school=cast.school, month=this_month(), by=cast.coordinator)
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert "Choose a payee first" in page
    response = client.post(
        reverse("batch_add", args=[batch.pk]), {"claims": [claim.pk]}, follow=True
    )
    assert "choose a payee first" in response.content.decode()
    assert not batch.lines.exists()


def test_the_accountant_records_paid_and_refused_and_the_school_sees_it(cast, plan, login):
    guardian_payee(cast.student, by=cast.coordinator)
    first, second = approved(cast, plan, "30.00"), approved(cast, plan, "5.00")
    batch = sent_batch([first, second], builder=cast.coordinator)
    client = login(cast.municipal_accountant)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("batch_payment", args=[batch.pk])).content.decode()
    line = batch.lines.get(claim=first)
    assert " ".join(line.iban[i : i + 4] for i in range(0, len(line.iban), 4)) in page  # full
    today = timezone.localdate().isoformat()
    # Bad input: no reference, a date to come — a message, nothing recorded.
    client.post(
        reverse("batch_record", args=[batch.pk, line.pk]), {"outcome": "paid", "paid_on": today}
    )
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    client.post(
        reverse("batch_record", args=[batch.pk, line.pk]),
        {"outcome": "paid", "paid_on": tomorrow, "reference": "X"},
    )
    line.refresh_from_db()
    assert line.outcome == LineOutcome.PENDING
    client.post(
        reverse("batch_record", args=[batch.pk, line.pk]),
        {"outcome": "paid", "paid_on": today, "reference": "SWED-1"},
    )
    refused = batch.lines.get(claim=second)
    client.post(
        reverse("batch_record", args=[batch.pk, refused.pk]),
        {"outcome": "refused", "reason": "Konts slēgts"},
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    page = client.get(reverse("batch_payment", args=[batch.pk])).content.decode()
    assert "Reconciliation" in page and "Konts slēgts" in page
    school = login(cast.coordinator)
    school.cookies["django_language"] = "en"
    paid_page = school.get(reverse("claim_detail", args=[first.pk])).content.decode()
    assert "reference SWED-1" in paid_page
    refused_page = school.get(reverse("claim_detail", args=[second.pk])).content.decode()
    assert "Payment refused: Konts slēgts" in refused_page


def test_all_remaining_paid_with_one_date_and_reference(cast, plan, login):
    guardian_payee(cast.student, by=cast.coordinator)
    claims = [approved(cast, plan, "10.00"), approved(cast, plan, "11.00")]
    batch = sent_batch(claims, builder=cast.coordinator)
    client = login(cast.municipal_accountant)
    client.post(
        reverse("batch_record_all", args=[batch.pk]),
        {"paid_on": timezone.localdate().isoformat(), "reference": "IZR-77"},
    )
    assert set(
        CompensationClaim.objects.filter(pk__in=[c.pk for c in claims]).values_list(
            "status", "payment_reference"
        )
    ) == {(ClaimStatus.PAID, "IZR-77")}


def test_the_unbatched_list_shows_what_waits_too_long(cast, plan, login, settings):
    settings.IAP_UNBATCHED_LATE_DAYS = 30
    late, fresh = approved(cast, plan, "10.00"), approved(cast, plan, "11.00")
    CompensationClaim.objects.filter(pk=late.pk).update(
        decided_at=timezone.now() - timedelta(days=31)
    )
    for user in (cast.coordinator, cast.municipal_accountant):
        page = login(user).get(reverse("batch_unbatched")).content.decode()
        assert late.code in page and fresh.code not in page
        assert cast.student.last_name not in page
    assert (
        late.code
        not in login(cast.other_coordinator).get(reverse("batch_unbatched")).content.decode()
    )


# --- Query counts at two sizes ----------------------------------------------------------------


def _batches(cast, plan, count):
    guardian_payee(cast.student, by=cast.coordinator, number=900)
    debtor_account(cast.school.municipality)
    for _n in range(count):
        claim = approved(cast, plan, "10.00")
        # A sent batch frees its month: the next one is made for the same month.
        batch = services.create_batch(school=cast.school, month=this_month(), by=cast.coordinator)
        services.add_claims(batch=batch, claims=[claim], by=cast.coordinator)
        services.send_batch(batch=batch, by=cast.coordinator)


@pytest.mark.parametrize("count", [1, 4])
def test_the_coordinators_batch_list_queries_do_not_grow(
    cast, plan, login, count, django_assert_num_queries
):
    _batches(cast, plan, count)
    client = login(cast.coordinator)
    client.get(reverse("batch_list"))  # warm the caches that are per process
    with django_assert_num_queries(QUERIES["batch_list"]):
        assert client.get(reverse("batch_list")).status_code == 200


@pytest.mark.parametrize("count", [1, 4])
def test_the_accountants_incoming_list_queries_do_not_grow(
    cast, plan, login, count, django_assert_num_queries
):
    _batches(cast, plan, count)
    client = login(cast.municipal_accountant)
    client.get(reverse("batch_incoming"))
    with django_assert_num_queries(QUERIES["batch_incoming"]):
        response = client.get(reverse("batch_incoming"))
    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 4])
def test_the_unbatched_list_queries_do_not_grow(
    cast, plan, login, count, django_assert_num_queries
):
    for _ in range(count):
        claim = approved(cast, plan, "10.00")
        CompensationClaim.objects.filter(pk=claim.pk).update(
            decided_at=timezone.now() - timedelta(days=40)
        )
    client = login(cast.municipal_accountant)
    client.get(reverse("batch_unbatched"))
    with django_assert_num_queries(QUERIES["batch_unbatched"]):
        response = client.get(reverse("batch_unbatched"))
    assert len(response.context["page"].object_list) == count


QUERIES = {
    # session, user, memberships, the coordinated schools (the form), the page's count, its
    # batches with their line counts, the sums of the claims that wait for a batch
    "batch_list": 7,
    # session, user, memberships, the schools of the filter, the page's count, its batches
    # with their sums
    "batch_incoming": 6,
    # session, user, memberships, the page's count, its claims with school and measure, the
    # totals
    "batch_unbatched": 6,
}


def test_another_municipalitys_accountant_sees_nothing(cast, plan, login):
    from payments.tests.batch_factories import accountant_of

    guardian_payee(cast.student, by=cast.coordinator)
    batch = sent_batch([approved(cast, plan)], builder=cast.coordinator)
    stranger = accountant_of(cast.other_school.municipality, username="stranger")
    client = login(stranger)
    assert client.get(reverse("batch_payment", args=[batch.pk])).status_code == 404
    assert client.get(reverse("batch_download", args=[batch.pk, "xml"])).status_code == 404
    assert not client.get(reverse("batch_incoming")).context["page"].object_list


def test_a_school_that_pays_itself_records_from_its_batch_page(cast, plan, login):
    from students.models import Payer
    from students.tests.factories import MembershipFactory, UserFactory

    cast.school.payer = Payer.SCHOOL
    cast.school.save(update_fields=["payer"])
    builder = UserFactory(username="builder_coordinator")
    MembershipFactory(user=builder, school=cast.school, role="coordinator")
    guardian_payee(cast.student, by=cast.coordinator)
    batch = sent_batch([approved(cast, plan)], builder=builder)
    client = login(cast.coordinator)
    page = client.get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert reverse("batch_payment", args=[batch.pk]) in page
    assert client.get(reverse("batch_incoming")).context["page"].object_list
    assert login(cast.municipal_accountant).get(
        reverse("batch_payment", args=[batch.pk])
    ).status_code in (403, 404)

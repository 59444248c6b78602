"""Building, sending and settling payment batches (payments.services)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from compensations import services as claim_services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from payments import services
from payments.models import BatchLine, BatchStatus, ClaimPayee, LineOutcome, PaymentBatch
from payments.payees import payee_for
from payments.tests.batch_factories import (
    debtor_account,
    guardian_payee,
    pay_through_batch,
    sent_batch,
    valid_iban,
)
from students.models import Payer


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def plan(cast):
    return claimable_plan(cast, planned="300.00")


def approved(cast, plan, amount="30.00"):
    claim = submitted_claim(plan=plan, by=cast.class_teacher, amount=amount)
    claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    return CompensationClaim.objects.get(pk=claim.pk)


@pytest.fixture
def payee(cast):
    return guardian_payee(cast.student, by=cast.coordinator)


@pytest.fixture
def batch(cast):
    return services.create_batch(school=cast.school, month=this_month(), by=cast.coordinator)


def en(call):
    with translation.override("en"):
        return call()


# --- Building -------------------------------------------------------------------------------


def test_it_makes_one_open_batch_per_school_payer_and_month(cast, batch):
    assert batch.status == BatchStatus.OPEN
    assert (batch.payer, batch.municipality_id) == (Payer.MUNICIPALITY, cast.school.municipality_id)
    with translation.override("en"), pytest.raises(services.BatchError, match=batch.code):
        services.create_batch(school=cast.school, month=this_month(), by=cast.coordinator)
    # The database holds it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentBatch.objects.create(
            school=cast.school,
            payer=batch.payer,
            municipality=batch.municipality,
            month=batch.month,
            sequence=99,
            code="X",
            created_by=cast.coordinator,
        )


def test_only_the_schools_coordinator_makes_a_batch(cast):
    for user in (cast.other_coordinator, cast.social_pedagogue, cast.municipal_accountant):
        with pytest.raises(services.BatchError):
            services.create_batch(school=cast.school, month=this_month(), by=user)


def test_a_batch_is_not_made_for_a_month_to_come(cast):
    later = (this_month() + timedelta(days=40)).replace(day=1)
    with pytest.raises(services.BatchError):
        services.create_batch(school=cast.school, month=later, by=cast.coordinator)


def test_it_adds_approved_claims_with_their_payee(cast, plan, payee, batch):
    claim = approved(cast, plan, "30.00")
    result = services.add_claims(batch=batch, claims=[claim], by=cast.coordinator)
    assert not result.refused
    line = BatchLine.objects.get(batch=batch)
    assert (line.payee, line.payee_name, line.iban, line.amount) == (
        payee,
        payee.name,
        payee.iban,
        Decimal("30.00"),
    )
    assert line.added_by == cast.coordinator
    batch.refresh_from_db()
    assert batch.total == Decimal("30.00")


def test_a_claim_without_a_payee_is_refused_with_choose_a_payee_first(cast, plan, batch):
    claim = approved(cast, plan)
    result = en(lambda: services.add_claims(batch=batch, claims=[claim], by=cast.coordinator))
    assert not result.lines
    assert "choose a payee first" in result.refused[0]


def test_a_claim_that_is_not_approved_is_refused(cast, plan, payee, batch):
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    result = en(lambda: services.add_claims(batch=batch, claims=[claim], by=cast.coordinator))
    assert not result.lines and "not approved" in result.refused[0]


def test_a_claim_is_in_one_live_batch_only(cast, plan, payee, batch):
    claim = approved(cast, plan)
    services.add_claims(batch=batch, claims=[claim], by=cast.coordinator)
    # Another open batch of the school (for the other payer) cannot take it.
    other = PaymentBatch.objects.create(
        school=cast.school,
        payer=Payer.SCHOOL,
        municipality=batch.municipality,
        month=batch.month,
        sequence=50,
        code="MS-other",
        created_by=cast.coordinator,
    )
    result = en(lambda: services.add_claims(batch=other, claims=[claim], by=cast.coordinator))
    assert not result.lines and "in a payment batch already" in result.refused[0]
    # The same batch twice neither.
    again = en(lambda: services.add_claims(batch=batch, claims=[claim], by=cast.coordinator))
    assert not again.lines
    # And the database refuses a second live line whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchLine.objects.create(
            batch=other,
            claim=claim,
            payee=payee,
            payee_name=payee.name,
            iban=payee.iban,
            amount=claim.total,
            added_by=cast.coordinator,
        )


def test_a_line_is_removed_while_open_and_frees_the_claim(cast, plan, payee, batch):
    claim = approved(cast, plan)
    line = services.add_claims(batch=batch, claims=[claim], by=cast.coordinator).lines[0]
    services.remove_line(line=line, by=cast.coordinator)
    assert not BatchLine.objects.exists()
    batch.refresh_from_db()
    assert batch.total == 0
    assert services.add_claims(batch=batch, claims=[claim], by=cast.coordinator).lines


# --- Sending --------------------------------------------------------------------------------


def test_sending_needs_the_payers_account(cast, plan, payee, batch):
    claim = approved(cast, plan)
    services.add_claims(batch=batch, claims=[claim], by=cast.coordinator)
    with translation.override("en"), pytest.raises(services.BatchError, match="no bank account"):
        services.send_batch(batch=batch, by=cast.coordinator)
    assert PaymentBatch.objects.get(pk=batch.pk).status == BatchStatus.OPEN


def test_an_empty_batch_is_not_sent(cast, batch):
    debtor_account(cast.school.municipality)
    with pytest.raises(services.BatchError):
        services.send_batch(batch=batch, by=cast.coordinator)


def test_sending_locks_the_batch_and_keeps_what_was_sent(cast, plan, payee, batch):
    account = debtor_account(cast.school.municipality)
    claim = approved(cast, plan)
    services.add_claims(batch=batch, claims=[claim], by=cast.coordinator)
    # The payee's IBAN is corrected before sending: the batch sends the corrected one.
    payee.iban = valid_iban(777)
    payee.save(update_fields=["iban"])
    batch = services.send_batch(batch=batch, by=cast.coordinator)
    assert batch.status == BatchStatus.SENT and batch.sent_by == cast.coordinator
    assert (batch.debtor_name, batch.debtor_iban, batch.debtor_bic) == (
        account.name,
        account.iban,
        account.bic,
    )
    line = batch.lines.get()
    assert line.iban == valid_iban(777)
    # A change after sending does not change what was sent.
    payee.name = "Cits Vārds"
    payee.save(update_fields=["name"])
    assert batch.lines.get().payee_name == "Aiga Bērziņa"
    # Locked: nothing is added, removed or sent again.
    other = approved(cast, plan, "10.00")
    for act in (
        lambda: services.add_claims(batch=batch, claims=[other], by=cast.coordinator),
        lambda: services.remove_line(line=line, by=cast.coordinator),
        lambda: services.send_batch(batch=batch, by=cast.coordinator),
    ):
        with pytest.raises(services.BatchError):
            act()
    assert batch.lines.count() == 1


# --- Outcomes -------------------------------------------------------------------------------


@pytest.fixture
def sent(cast, plan, payee):
    claims = [approved(cast, plan, "30.00"), approved(cast, plan, "12.50")]
    return sent_batch(claims, builder=cast.coordinator), claims


def test_paid_makes_the_claim_paid_with_the_bank_reference(cast, sent):
    batch, (first, second) = sent
    line = batch.lines.get(claim=first)
    today = timezone.localdate()
    services.record_paid(
        line=line, by=cast.municipal_accountant, paid_on=today, reference=" SWED-123 "
    )
    claim = CompensationClaim.objects.get(pk=first.pk)
    assert (claim.status, claim.paid_on, claim.payment_reference, claim.paid_by) == (
        ClaimStatus.PAID,
        today,
        "SWED-123",
        cast.municipal_accountant,
    )
    line.refresh_from_db()
    assert (line.outcome, line.bank_reference, line.recorded_by) == (
        LineOutcome.PAID,
        "SWED-123",
        cast.municipal_accountant,
    )
    assert PaymentBatch.objects.get(pk=batch.pk).status == BatchStatus.SENT  # one waits still


def test_a_payment_date_in_the_future_or_no_reference_is_refused(cast, sent):
    batch, (first, _second) = sent
    line = batch.lines.get(claim=first)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(services.BatchError):
        services.record_paid(
            line=line, by=cast.municipal_accountant, paid_on=tomorrow, reference="R"
        )
    with pytest.raises(services.BatchError):
        services.record_paid(
            line=line, by=cast.municipal_accountant, paid_on=timezone.localdate(), reference=" "
        )
    assert CompensationClaim.objects.get(pk=first.pk).status == ClaimStatus.APPROVED


def test_a_line_is_decided_once(cast, sent):
    batch, (first, _second) = sent
    line = batch.lines.get(claim=first)
    today = timezone.localdate()
    services.record_paid(line=line, by=cast.municipal_accountant, paid_on=today, reference="R1")
    with pytest.raises(services.BatchError):
        services.record_paid(line=line, by=cast.municipal_accountant, paid_on=today, reference="R2")
    with pytest.raises(services.BatchError):
        services.record_refused(line=line, by=cast.municipal_accountant, reason="x")
    assert CompensationClaim.objects.get(pk=first.pk).payment_reference == "R1"


def test_only_the_payer_records(cast, sent):
    batch, (first, _second) = sent
    line = batch.lines.get(claim=first)
    for user in (cast.municipality, cast.other_coordinator, cast.agency, cast.social_pedagogue):
        with pytest.raises(services.BatchError):
            services.record_paid(line=line, by=user, paid_on=timezone.localdate(), reference="R")


def test_the_refused_round_trip_frees_the_claim_for_another_batch(cast, sent, payee):
    batch, (first, second) = sent
    line = batch.lines.get(claim=first)
    services.record_refused(line=line, by=cast.municipal_accountant, reason="Nepareizs IBAN")
    claim = CompensationClaim.objects.get(pk=first.pk)
    assert claim.status == ClaimStatus.APPROVED
    assert services.payment_status([claim])[claim.pk]["refused"] == "Nepareizs IBAN"
    # The school fixes the payee and puts the claim into the next batch.
    payee.iban = valid_iban(4242)
    payee.save(update_fields=["iban"])
    services.record_paid(
        line=batch.lines.get(claim=second),
        by=cast.municipal_accountant,
        paid_on=timezone.localdate(),
        reference="R",
    )
    assert PaymentBatch.objects.get(pk=batch.pk).status == BatchStatus.CLOSED  # all decided
    again = sent_batch([claim], builder=cast.coordinator)
    assert again.pk != batch.pk and again.lines.get().iban == valid_iban(4242)
    services.record_paid(
        line=again.lines.get(),
        by=cast.municipal_accountant,
        paid_on=timezone.localdate(),
        reference="R-2",
    )
    paid = CompensationClaim.objects.get(pk=claim.pk)
    assert paid.status == ClaimStatus.PAID and paid.payment_reference == "R-2"
    status = services.payment_status([paid])[paid.pk]
    assert (status["batch"], status["refused"]) == (again.code, "")


def test_all_remaining_paid_settles_the_batch(cast, sent):
    batch, claims = sent
    services.record_refused(
        line=batch.lines.get(claim=claims[0]), by=cast.municipal_accountant, reason="Slēgts konts"
    )
    count = services.record_remaining_paid(
        batch=batch, by=cast.municipal_accountant, paid_on=timezone.localdate(), reference="S-9"
    )
    assert count == 1
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    figures = services.reconciliation(batch)
    assert figures["sent"] == {"count": 2, "amount": Decimal("42.50")}
    assert figures["paid"] == {"count": 1, "amount": Decimal("12.50")}
    assert figures["refused"] == {"count": 1, "amount": Decimal("30.00")}
    assert figures["pending"]["count"] == 0
    assert CompensationClaim.objects.get(pk=claims[1].pk).payment_reference == "S-9"


def test_a_school_that_pays_itself_is_paid_by_its_coordinator(cast, plan, payee):
    from students.tests.factories import MembershipFactory, UserFactory

    cast.school.payer = Payer.SCHOOL
    cast.school.save(update_fields=["payer"])
    builder = UserFactory(username="second_coordinator")
    MembershipFactory(user=builder, school=cast.school, role="coordinator")
    batch = sent_batch([approved(cast, plan)], builder=builder)
    assert batch.payer == Payer.SCHOOL
    line = batch.lines.get()
    with pytest.raises(services.BatchError):  # the municipality does not pay it
        services.record_paid(
            line=line, by=cast.municipal_accountant, paid_on=timezone.localdate(), reference="R"
        )
    services.record_paid(
        line=line, by=cast.coordinator, paid_on=timezone.localdate(), reference="R"
    )
    assert CompensationClaim.objects.get(pk=line.claim_id).status == ClaimStatus.PAID


def test_pay_through_batch_pays_a_claim(cast, plan):
    paid = pay_through_batch(approved(cast, plan), reference="MK-9")
    assert (paid.status, paid.payment_reference) == (ClaimStatus.PAID, "MK-9")


def test_a_claim_is_paid_only_through_a_batch(cast, plan):
    """No path marks an approved claim paid outside a sent batch."""
    claim = approved(cast, plan)
    for user in (cast.coordinator, cast.municipal_accountant):
        with pytest.raises(claim_services.ClaimError):
            claim_services.record_claim_paid(
                claim=claim, by=user, paid_on=timezone.localdate(), reference="R"
            )
    assert CompensationClaim.objects.get(pk=claim.pk).status == ClaimStatus.APPROVED


def test_payees_for_agrees_with_payee_for(cast, plan):
    from students.tests.factories import StudentFactory

    no_payee = approved(cast, plan, "5.00")
    assert services.payees_for([no_payee]) == {no_payee.pk: None}
    first = guardian_payee(cast.student, by=cast.coordinator, name="Pirmā Aizbildne", number=3)
    guardian_payee(cast.student, by=cast.coordinator, name="Otrā Aizbildne", number=4)
    chosen_claim = approved(cast, plan, "6.00")
    organisation = payee_for(chosen_claim)
    assert organisation == first
    other = guardian_payee(
        StudentFactory(school=cast.school), by=cast.coordinator, name="Cita", number=5
    )
    ClaimPayee.objects.create(claim=chosen_claim, payee=other, set_by=cast.coordinator)
    claims = [no_payee, chosen_claim]
    assert services.payees_for(claims) == {c.pk: payee_for(c) for c in claims}

"""Demo payments (called by ``load_demo``): payees for the demo school's granted claims (each
pupil's guardian, with a valid test IBAN; a caterer for the meals), the municipality's account
for the bank file, the municipal accountant ``gramatvede``, and two sent batches — one settled
with paid lines and a line the bank refused, one waiting for its payments.

The claims keep their statuses (the reports' figures stay as they are): paid lines are made for
claims already paid, refused and waiting lines for approved ones. Idempotent: rows are found by
their natural keys, and the batches are made once."""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone
from stdnum import iban as stdnum_iban
from stdnum.lv import pvn

from compensations.models import ClaimStatus, CompensationClaim
from payments.models import (
    BatchLine,
    BatchStatus,
    ClaimPayee,
    DebtorAccount,
    LineOutcome,
    Payee,
    PaymentBatch,
)
from plans.models import CompensationCategory
from students.models import Guardian, Membership, Role

ACCOUNTANT = ("gramatvede", "Gunta", "Ābele")
CATERER = "SIA “Preiļu ēdnīca”"


def demo_iban(number: int, bank: str = "HABA") -> str:
    """A Latvian IBAN with valid check digits (for demo data only)."""
    bban = f"{bank}{number:013d}"
    return f"LV{stdnum_iban.calc_check_digits('LV00' + bban)}{bban}"


def registration_number(start: int) -> str:
    """The first valid Latvian organisation's registration number from ``start`` on."""
    number = start
    while not pvn.is_valid(str(number)):
        number += 1
    return str(number)


def _aware(day, hour=11):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def create_demo_payments(*, school, users, today, password):
    accountant = _accountant(school, password)
    coordinator = users["koordinators"]
    DebtorAccount.objects.get_or_create(
        municipality=school.municipality,
        defaults={
            "name": "Preiļu novada pašvaldība",
            "iban": demo_iban(90000001, bank="UNLA"),
            "bic": "UNLALV2X",
        },
    )
    caterer, _ = Payee.objects.get_or_create(
        school=school,
        kind=Payee.Kind.ORGANISATION,
        name=CATERER,
        defaults={
            "registration_number": registration_number(40003000000),
            "address": "Raiņa bulvāris 19, Preiļi",
            "iban": demo_iban(70000001, bank="UNLA"),
            "created_by": coordinator,
        },
    )
    granted = list(
        CompensationClaim.objects.filter(school=school, status__in=ClaimStatus.GRANTED)
        .select_related("measure", "plan")
        .order_by("pk")
    )
    _payees(school, granted, caterer, coordinator)
    if not PaymentBatch.objects.filter(school=school).exists():
        _batches(school, granted, coordinator, accountant, today)
    return ACCOUNTANT[0]


def _accountant(school, password):
    username, first, last = ACCOUNTANT
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@preili.example.lv",
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(
        user=user, role=Role.MUNICIPAL_ACCOUNTANT, municipality=school.municipality
    )
    return user


def _payees(school, claims, caterer, coordinator):
    """Each pupil with granted claims gets their first guardian as payee; meals go to the
    caterer (the claim's chosen payee)."""
    students = {claim.plan.student_id for claim in claims}
    known = set(
        Payee.objects.filter(student_id__in=students, kind=Payee.Kind.GUARDIAN).values_list(
            "student_id", flat=True
        )
    )
    guardians = {}
    for guardian in Guardian.objects.filter(student_id__in=students - known).order_by("pk"):
        guardians.setdefault(guardian.student_id, guardian)
    Payee.objects.bulk_create(
        Payee(
            school=school,
            kind=Payee.Kind.GUARDIAN,
            student_id=student_id,
            guardian=guardian,
            name=guardian.name,
            iban=demo_iban(10000000 + student_id),
            created_by=coordinator,
        )
        for student_id, guardian in sorted(guardians.items())
    )
    chosen = set(ClaimPayee.objects.filter(claim__in=claims).values_list("claim_id", flat=True))
    ClaimPayee.objects.bulk_create(
        ClaimPayee(claim=claim, payee=caterer, set_by=coordinator)
        for claim in claims
        if claim.measure.compensation_category == CompensationCategory.MEALS
        and claim.pk not in chosen
    )


def _payee_of(claim, chosen, own):
    return chosen.get(claim.pk) or own.get(claim.plan.student_id)


def _batches(school, claims, coordinator, accountant, today):
    chosen = {
        c.claim_id: c.payee
        for c in ClaimPayee.objects.filter(claim__in=claims).select_related("payee")
    }
    own = {}
    for payee in Payee.objects.filter(school=school, kind=Payee.Kind.GUARDIAN).order_by("pk"):
        own.setdefault(payee.student_id, payee)
    paid = [c for c in claims if c.status == ClaimStatus.PAID][-4:]
    approved = [c for c in claims if c.status == ClaimStatus.APPROVED]
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    settled = _batch(school, last_month, 1, coordinator, today - timedelta(days=20))
    paid = [c for c in paid if _payee_of(c, chosen, own)]
    approved = [c for c in approved if _payee_of(c, chosen, own)]
    for claim in paid:
        line = _line(settled, claim, _payee_of(claim, chosen, own), coordinator)
        BatchLine.objects.filter(pk=line.pk).update(
            outcome=LineOutcome.PAID,
            paid_on=claim.paid_on,
            bank_reference=claim.payment_reference,
            recorded_by=accountant,
            recorded_at=_aware(claim.paid_on),
        )
    if approved:
        refused = approved.pop(0)
        BatchLine.objects.filter(
            pk=_line(settled, refused, _payee_of(refused, chosen, own), coordinator).pk
        ).update(
            outcome=LineOutcome.REFUSED,
            refusal_reason="Saņēmēja konts slēgts (bankas atbilde AC04)",
            recorded_by=accountant,
            recorded_at=_aware(today - timedelta(days=10)),
        )
    _finish(settled, BatchStatus.CLOSED)
    waiting = _batch(school, this_month, 2, coordinator, today - timedelta(days=2))
    for claim in approved[:3]:
        _line(waiting, claim, _payee_of(claim, chosen, own), coordinator)
    _finish(waiting, BatchStatus.SENT)


def _batch(school, month, sequence, coordinator, sent_on):
    account = DebtorAccount.objects.get(municipality=school.municipality)
    return PaymentBatch.objects.create(
        school=school,
        payer=school.payer,
        municipality=school.municipality,
        month=month,
        sequence=sequence,
        code=f"MS-{school.pk}-{month:%Y-%m}-{sequence:03d}",
        status=BatchStatus.SENT,
        created_by=coordinator,
        sent_by=coordinator,
        sent_at=_aware(sent_on, 9),
        debtor_name=account.name,
        debtor_iban=account.iban,
        debtor_bic=account.bic,
    )


def _line(batch, claim, payee, coordinator):
    return BatchLine.objects.create(
        batch=batch,
        claim=claim,
        payee=payee,
        payee_name=payee.name,
        iban=payee.iban,
        amount=claim.total,
        added_by=coordinator,
    )


def _finish(batch, status):
    total = batch.lines.aggregate(total=Sum("amount"))["total"] or 0
    PaymentBatch.objects.filter(pk=batch.pk).update(total=total, status=status)

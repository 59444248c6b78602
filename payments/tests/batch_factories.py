"""Payees, payers' accounts and batches for tests, and ``pay_through_batch``: the one way a
claim is paid now (the coordinator batches and sends it, the payer records it paid)."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum import iban as stdnum_iban

from compensations.models import CompensationClaim
from payments import services
from payments.models import DebtorAccount, Payee, PaymentBatch
from payments.payees import payee_for
from students.models import Guardian, Membership, Role


def valid_iban(number: int, bank: str = "HABA") -> str:
    """A Latvian IBAN with valid check digits (LV + 2 check digits + 4 letters + 13 digits)."""
    bban = f"{bank}{number:013d}"
    return f"LV{stdnum_iban.calc_check_digits('LV00' + bban)}{bban}"


def guardian_payee(student, *, by, name=None, number=1, **fields) -> Payee:
    guardian = Guardian.objects.create(student=student, name=name or "Aiga Bērziņa")
    return Payee.objects.create(
        school=student.school,
        kind=Payee.Kind.GUARDIAN,
        student=student,
        guardian=guardian,
        name=guardian.name,
        iban=valid_iban(number),
        created_by=by,
        **fields,
    )


def debtor_account(municipality=None, *, school=None) -> DebtorAccount:
    owner = {"school": school} if school is not None else {"municipality": municipality}
    account, _ = DebtorAccount.objects.get_or_create(
        **owner,
        defaults={
            "name": "Preiļu novada pašvaldība",
            "iban": valid_iban(90009, bank="UNLA"),
            "bic": "UNLALV2X",
        },
    )
    return account


def accountant_of(municipality, username="municipal_accountant"):
    """The municipality's accountant (the cast's, or one made for the test)."""
    membership = (
        Membership.objects.filter(role=Role.MUNICIPAL_ACCOUNTANT, municipality=municipality)
        .select_related("user")
        .first()
    )
    if membership is not None:
        return membership.user
    user, _ = get_user_model().objects.get_or_create(username=f"{username}_{municipality.pk}")
    Membership.objects.create(
        user=user, school=None, municipality=municipality, role=Role.MUNICIPAL_ACCOUNTANT
    )
    return user


def coordinator_of(school):
    return (
        Membership.objects.filter(role=Role.COORDINATOR, school=school)
        .select_related("user")
        .first()
        .user
    )


def sent_batch(claims, *, builder, month=None):
    """An open batch of the claims' school for this month with the claims in it, sent."""
    school = claims[0].school
    month = month or timezone.localdate().replace(day=1)
    if school.payer == "school":
        debtor_account(school=school)
    else:
        debtor_account(school.municipality)
    for claim in claims:
        if payee_for(claim) is None:
            guardian_payee(claim.plan.student, by=builder, number=claim.pk)
    batch = PaymentBatch.objects.filter(school=school, month=month, status="open").first()
    batch = batch or services.create_batch(school=school, month=month, by=builder)
    added = services.add_claims(batch=batch, claims=claims, by=builder)
    assert not added.refused, added.refused
    return services.send_batch(batch=batch, by=builder)


def pay_through_batch(claim, *, paid_on=None, reference="MK-7", builder=None, payer=None):
    """Batch, send and record the approved claim paid; returns the claim as paid."""
    claim = CompensationClaim.objects.select_related("school__municipality", "plan").get(
        pk=claim.pk
    )
    builder = builder or coordinator_of(claim.school)
    batch = sent_batch([claim], builder=builder)
    payer = payer or accountant_of(claim.school.municipality)
    line = batch.lines.get(claim=claim)
    services.record_paid(
        line=line, by=payer, paid_on=paid_on or timezone.localdate(), reference=reference
    )
    return CompensationClaim.objects.get(pk=claim.pk)

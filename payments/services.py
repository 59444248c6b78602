"""Payment batches: the school's coordinator puts a month's approved claims into a batch for
the school's payer and sends it; the payer records each claim's outcome.

- A batch is built while open and locked once sent: the payee's name and IBAN and the payer's
  own account are kept as sent, so a later change of a payee does not change what the bank got.
- A claim is in at most one live batch: its row is locked while it is added, and the database
  refuses a second line that is not refused (``batchline_claim_in_one_batch``).
- Paid: the claim becomes paid (compensations.services.record_claim_paid) with the date and the
  bank's reference. Refused: the claim stays approved, its line says why, and the school fixes
  the payee and puts it into another batch. Once every line is decided the batch is settled.
- Four eyes: whoever put a claim into the batch or sent it does not record its outcome; whoever
  records it did not file, submit, change or approve the claim.

Status changes are conditional UPDATEs with a row-count check, in one transaction with their
audit event (docs/architecture.md)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from compensations import notices
from compensations.access import touched_claim
from compensations.models import ClaimStatus, CompensationClaim
from compensations.services import ClaimError, record_claim_paid
from iap_portal import audit
from iap_portal.actions import ActionRefused, create_numbered, require
from students.access import get_access
from students.models import Payer, School

from .access import builds_batch, pays_batch
from .iban import mask_iban, normalise_iban
from .models import (
    BatchLine,
    BatchStatus,
    ClaimPayee,
    DebtorAccount,
    LineOutcome,
    Payee,
    PaymentBatch,
)
from .payees import payee_for


class BatchError(ActionRefused):
    """A batch write or an outcome that is refused."""


class BatchChanged(BatchError):
    def __init__(self):
        super().__init__(_("Someone else changed this payment batch meanwhile. Look at it again."))


def _require(condition, message):
    require(condition, message, BatchError)


def _lock(batch) -> PaymentBatch:
    """The batch's row, locked until the transaction ends (adding, removing, sending and
    recording wait for each other)."""
    return PaymentBatch.objects.select_for_update().get(pk=batch.pk)


def _set_status(batch, *, to, by, **fields):
    updated = PaymentBatch.objects.filter(pk=batch.pk, status=batch.status).update(
        status=to, **fields
    )
    if updated != 1:
        raise BatchChanged()
    audit.record_status(batch, from_status=batch.status, to_status=to, by=by)
    batch.refresh_from_db()
    return batch


def _refresh_total(batch):
    total = batch.lines.aggregate(total=Sum("amount"))
    batch.total = total["total"] or Decimal("0.00")
    PaymentBatch.objects.filter(pk=batch.pk).update(total=batch.total)


# --- Building -------------------------------------------------------------------------------


@transaction.atomic
def create_batch(*, school: School, month: date, by: AbstractBaseUser) -> PaymentBatch:
    """An open batch of the school for its payer and the month (one per school, payer and
    month: a second is refused, naming the first)."""
    _require(
        school.pk in get_access(by).coordinated_school_ids,
        _("Payment batches are put together by the coordinator."),
    )
    month = month.replace(day=1)
    _require(
        month <= timezone.localdate(), _("A payment batch is made for a month that has begun.")
    )

    def existing():
        open_batch = PaymentBatch.objects.filter(
            school=school, payer=school.payer, month=month, status=BatchStatus.OPEN
        ).first()
        if open_batch is not None:
            raise BatchError(
                _("The batch %(code)s of this month is still being put together: add to it.")
                % {"code": open_batch.code}
            )

    existing()
    batch = create_numbered(
        PaymentBatch,
        scope={"school": school},
        create=lambda sequence: PaymentBatch.objects.create(
            school=school,
            payer=school.payer,
            municipality_id=school.municipality_id,
            month=month,
            sequence=sequence,
            code=f"MS-{school.pk}-{month:%Y-%m}-{sequence:03d}",
            created_by=by,
        ),
        on_conflict=existing,
    )
    _require(batch is not None, _("The payment batch could not be numbered; try again."))
    audit.record_status(batch, from_status="", to_status=BatchStatus.OPEN, by=by)
    return batch


def _open_for_building(batch, by):
    _require(builds_batch(by, batch), _("Payment batches are put together by the coordinator."))
    locked = _lock(batch)
    _require(
        locked.status == BatchStatus.OPEN,
        _("The batch was sent: it can no longer be changed."),
    )
    return locked


def live_line_exists(claim) -> bool:
    return BatchLine.objects.filter(claim=claim).exclude(outcome=LineOutcome.REFUSED).exists()


def claim_problem(batch, claim) -> str | None:
    """Why the claim cannot go into the batch, or None (for the page's list, too)."""
    if claim.school_id != batch.school_id:
        return _("The claim %(code)s is not of this school.") % {"code": claim.code}
    if claim.status != ClaimStatus.APPROVED:
        return _("The claim %(code)s is not approved, or it was paid already.") % {
            "code": claim.code
        }
    if claim.month > batch.month:
        return _("The claim %(code)s is for a later month than the batch.") % {"code": claim.code}
    return None


@dataclass
class Added:
    lines: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # messages, one per claim


@transaction.atomic
def add_claims(
    *, batch: PaymentBatch, claims: list[CompensationClaim], by: AbstractBaseUser
) -> Added:
    """Put approved claims of the batch's school into the open batch, each with its payee
    (``payee_for``). A claim that cannot go in is left out with the reason; none is added
    twice, and none that is in another live batch."""
    batch = _open_for_building(batch, by)
    result = Added()
    for claim in sorted(claims, key=lambda c: c.pk):
        # Lock the claim: two batches built at once wait for each other here.
        claim = (
            CompensationClaim.objects.select_for_update()
            .filter(pk=claim.pk)
            .select_related("plan")
            .first()
        )
        if claim is None:
            continue
        problem = claim_problem(batch, claim)
        if problem is None and live_line_exists(claim):
            problem = _("The claim %(code)s is in a payment batch already.") % {"code": claim.code}
        payee = payee_for(claim) if problem is None else None
        if problem is None and (payee is None or not payee.is_active):
            problem = _(
                "The claim %(code)s has no payee: choose a payee first (on the claim's page)."
            ) % {"code": claim.code}
        if problem is None:
            try:
                with transaction.atomic():
                    line = BatchLine.objects.create(
                        batch=batch,
                        claim=claim,
                        payee=payee,
                        payee_name=payee.name,
                        iban=payee.iban,
                        amount=claim.total,
                        added_by=by,
                    )
            except IntegrityError:
                problem = _("The claim %(code)s is in a payment batch already.") % {
                    "code": claim.code
                }
            else:
                result.lines.append(line)
        if problem is not None:
            result.refused.append(problem)
    _refresh_total(batch)
    return result


@transaction.atomic
def remove_line(*, line: BatchLine, by: AbstractBaseUser) -> None:
    batch = _open_for_building(line.batch, by)
    BatchLine.objects.filter(pk=line.pk, batch=batch).delete()
    _refresh_total(batch)


def debtor_account_of(batch) -> DebtorAccount | None:
    if batch.payer == Payer.MUNICIPALITY:
        return DebtorAccount.objects.filter(municipality_id=batch.municipality_id).first()
    return DebtorAccount.objects.filter(school_id=batch.school_id).first()


@transaction.atomic
def send_batch(*, batch: PaymentBatch, by: AbstractBaseUser) -> PaymentBatch:
    """Lock the batch and send it to the payer, keeping each payee's name and IBAN and the
    payer's account as they are now."""
    batch = _open_for_building(batch, by)
    lines = list(batch.lines.select_related("payee", "claim"))
    _require(lines, _("Add at least one approved claim before sending the batch."))
    account = debtor_account_of(batch)
    _require(
        account is not None,
        _(
            "The payer has no bank account set for the bank file yet: ask the administrator to "
            "enter the payer's account (name, IBAN and BIC) first."
        ),
    )
    problems = []
    for line in lines:
        if line.claim.status != ClaimStatus.APPROVED:
            problems.append(
                _("The claim %(code)s is no longer approved: remove it.")
                % {"code": line.claim.code}
            )
            continue
        if not line.payee.is_active:
            problems.append(
                _("The payee of the claim %(code)s is no longer in use: remove the claim.")
                % {"code": line.claim.code}
            )
            continue
        try:
            iban = normalise_iban(line.payee.iban)
        except ValidationError:
            problems.append(
                _("The IBAN of the payee of the claim %(code)s is not valid.")
                % {"code": line.claim.code}
            )
            continue
        if (line.payee_name, line.iban, line.amount) != (
            line.payee.name,
            iban,
            line.claim.total,
        ):
            line.payee_name, line.iban, line.amount = line.payee.name, iban, line.claim.total
            line.save(update_fields=["payee_name", "iban", "amount"])
    if problems:
        raise BatchError(*problems)
    _refresh_total(batch)
    return _set_status(
        batch,
        to=BatchStatus.SENT,
        by=by,
        sent_by=by,
        sent_at=timezone.now(),
        debtor_name=account.name,
        debtor_iban=account.iban,
        debtor_bic=account.bic,
    )


# --- The payer's outcomes -------------------------------------------------------------------


def may_record(user, line, *, touched=True) -> str | None:
    """Why this person may not record the line's outcome, or None (four eyes included;
    ``touched=False`` leaves out who filed or changed the claim: that takes queries)."""
    batch = line.batch
    if not pays_batch(user, batch):
        return _("The payment is recorded by the batch's payer.")
    if user.pk in {line.added_by_id, batch.sent_by_id}:
        return _(
            "Whoever put the claim into the batch or sent the batch does not record its payment."
        )
    claim = line.claim
    if user.pk in {claim.decided_by_id, claim.submitted_by_id} or (
        touched and touched_claim(user, claim)
    ):
        return _(
            "Whoever filed, submitted, changed or approved the claim does not record its payment."
        )
    return None


def _locked_pending_line(line, by):
    batch = _lock(line.batch)
    _require(batch.status == BatchStatus.SENT, _("Only a sent batch waits for its payments."))
    line = BatchLine.objects.select_related("claim", "batch").get(pk=line.pk)
    line.batch = batch
    _require(
        line.outcome == LineOutcome.PENDING,
        _("The outcome of the claim %(code)s was recorded already.") % {"code": line.claim.code},
    )
    problem = may_record(by, line)
    _require(problem is None, problem)
    return batch, line


def _decide_line(line, *, to, by, **fields):
    updated = BatchLine.objects.filter(pk=line.pk, outcome=LineOutcome.PENDING).update(
        outcome=to, recorded_by=by, recorded_at=timezone.now(), **fields
    )
    if updated != 1:
        raise BatchChanged()
    audit.record_status(
        line.batch, from_status=LineOutcome.PENDING, to_status=to, by=by, note=line.claim.code
    )


def _close_if_settled(batch, by):
    if not batch.lines.filter(outcome=LineOutcome.PENDING).exists():
        _set_status(batch, to=BatchStatus.CLOSED, by=by)


def _paid(line, by, paid_on, reference):
    _require(paid_on <= timezone.localdate(), _("The payment date cannot be in the future."))
    reference = (reference or "").strip()
    _require(reference, _("Enter the bank's reference of the payment."))
    claim = CompensationClaim.objects.get(pk=line.claim_id)
    try:
        record_claim_paid(claim=claim, by=by, paid_on=paid_on, reference=reference)
    except ClaimError as error:
        raise BatchError(*error.messages) from None
    _decide_line(line, to=LineOutcome.PAID, by=by, paid_on=paid_on, bank_reference=reference)
    notices.to_submitter(claim, "payment", by=by, outcome="paid")


@transaction.atomic
def record_paid(
    *, line: BatchLine, by: AbstractBaseUser, paid_on: date, reference: str
) -> BatchLine:
    """The bank paid the line: the claim becomes paid with the date and the bank's reference."""
    batch, line = _locked_pending_line(line, by)
    _paid(line, by, paid_on, reference)
    _close_if_settled(batch, by)
    line.refresh_from_db()
    return line


@transaction.atomic
def record_refused(*, line: BatchLine, by: AbstractBaseUser, reason: str) -> BatchLine:
    """The bank refused the line (a wrong IBAN, say): the claim stays approved and goes back to
    the school with the reason, to fix the payee and put it into another batch."""
    reason = (reason or "").strip()
    _require(reason, _("Give the reason the payment was refused."))
    batch, line = _locked_pending_line(line, by)
    _decide_line(line, to=LineOutcome.REFUSED, by=by, refusal_reason=reason[:300])
    # The bank's reason (a wrong IBAN, say) is shown in the portal only, never e-mailed.
    notices.to_submitter(line.claim, "payment", by=by, comment=reason[:300], outcome="refused")
    _close_if_settled(batch, by)
    line.refresh_from_db()
    return line


@transaction.atomic
def record_remaining_paid(
    *, batch: PaymentBatch, by: AbstractBaseUser, paid_on: date, reference: str
) -> int:
    """Every line still waiting was paid, on one date with one bank reference (a bank's
    statement for the whole file). All or nothing: one line this person may not record stops
    them all."""
    locked = _lock(batch)
    _require(locked.status == BatchStatus.SENT, _("Only a sent batch waits for its payments."))
    pending = list(
        locked.lines.filter(outcome=LineOutcome.PENDING).select_related("claim").order_by("pk")
    )
    _require(pending, _("No payment of this batch is waiting."))
    for line in pending:
        line.batch = locked
        problem = may_record(by, line)
        _require(problem is None, problem)
        _paid(line, by, paid_on, reference)
    _close_if_settled(locked, by)
    return len(pending)


# --- Figures --------------------------------------------------------------------------------


def reconciliation(batch) -> dict:
    """Sent vs paid vs refused vs waiting: counts and amounts, from one query."""
    rows = batch.lines.values("outcome").annotate(amount=Sum("amount"), count=Count("pk"))
    figures = {outcome: {"count": 0, "amount": Decimal("0.00")} for outcome in LineOutcome.values}
    for row in rows:
        figures[row["outcome"]] = {"count": row["count"], "amount": row["amount"]}
    figures["sent"] = {
        "count": sum(f["count"] for f in figures.values()),
        "amount": sum((f["amount"] for f in figures.values()), Decimal("0.00")),
    }
    return figures


def payees_for(claims) -> dict:
    """``payee_for`` for many claims at once (two queries): the chosen payee, else the pupil's
    first guardian payee in use, else the adult pupil's own. By claim id; None for none."""
    claims = list(claims)
    chosen = {
        choice.claim_id: choice.payee
        for choice in ClaimPayee.objects.filter(claim__in=[c.pk for c in claims]).select_related(
            "payee"
        )
    }
    students = {c.plan.student_id for c in claims if c.pk not in chosen}
    own = {}
    for payee in Payee.objects.filter(
        student_id__in=students,
        is_active=True,
        kind__in=[Payee.Kind.GUARDIAN, Payee.Kind.PUPIL],
    ).order_by("pk"):
        rank = 0 if payee.kind == Payee.Kind.GUARDIAN else 1
        best = own.get(payee.student_id)
        if best is None or rank < best[0]:
            own[payee.student_id] = (rank, payee)
    return {c.pk: chosen.get(c.pk) or own.get(c.plan.student_id, (None, None))[1] for c in claims}


def payment_status(claims) -> dict:
    """compensations.hooks.payment_status: how each claim stands with its payment — its live
    batch (or the last one that refused it, with the reason) and its payee, the IBAN masked.
    Two queries for the payees and one for the lines, however many claims."""
    claims = list(claims)
    if not claims:
        return {}
    lines = {}
    for line in (
        BatchLine.objects.filter(claim__in=[c.pk for c in claims])
        .select_related("batch")
        .order_by("pk")
    ):
        known = lines.get(line.claim_id)
        # The live line wins over a refused one; of refused ones, the latest.
        if known is None or known.outcome == LineOutcome.REFUSED:
            lines[line.claim_id] = line
    payees = payees_for(c for c in claims if c.pk not in lines or _refused(lines[c.pk]))
    status = {}
    for claim in claims:
        line = lines.get(claim.pk)
        payee = payees.get(claim.pk)
        if line is None and payee is None:
            continue
        refused = line is not None and _refused(line)
        name, iban = (payee.name, payee.iban) if (line is None or refused) and payee else ("", "")
        if line is not None and not refused:
            name, iban = line.payee_name, line.iban
        status[claim.pk] = {
            "payee": name,
            "iban": mask_iban(iban),
            "batch": line.batch.code if line else "",
            "batch_pk": line.batch_id if line else None,
            "refused": line.refusal_reason if refused else "",
        }
    return status


def _refused(line):
    return line.outcome == LineOutcome.REFUSED

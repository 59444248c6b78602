"""Filing, deciding and paying compensation claims.

Status changes are conditional UPDATEs (``filter(pk=…, status=current).update(…)``), so two
people deciding at the same moment produce one decision; the change is recorded with who and
when in the same transaction. Every edit, submission and decision first locks the claim's row
and checks its status again on it, so an edit and a decision at the same moment give one
outcome: approved with the lines as they were, or edited and not approved.

Lines and receipts are saved one by one with ``_history_user`` set, so their history (shown
on the claim page) says who changed what, also outside a request.
"""

import calendar
import errno
from datetime import date
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iap_portal.actions import (
    ActionRefused,
    Step,
    Steps,
    create_numbered,
    lock_as_read,
    record_change,
    require,
    transition,
)
from iap_portal.i18n import format_day
from iap_portal.models import ContentChange
from iap_portal.templatetags.portal import eur
from plans.models import PlanStatus, SupportMeasure
from plans.services import start_plan_if_due

from . import notices
from .access import can_decide_claim, can_file_claim, can_pay_claim
from .hooks import claim_budget_problem
from .models import (
    ClaimLine,
    ClaimStatus,
    CompensationClaim,
    Receipt,
    money_sums,
)
from .receipts import check_receipts


class ClaimError(ActionRefused):
    """A claim write or decision that is refused."""


class ClaimChanged(ClaimError):
    def __init__(self):
        super().__init__(_("Someone else decided on this claim meanwhile. Look at it again."))


def _require(condition, message):
    require(condition, message, ClaimError)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def period_problems(*, measure: SupportMeasure, month: date, line_dates: list[date]) -> list[str]:
    """Why this month or these line dates do not fit the plan's semester and the measure."""
    problems = []
    semester = measure.plan.semester
    start = max(measure.start_date, semester.start_date)
    end = min(measure.end_date, semester.end_date)
    if month_end(month) < start or month > end:
        problems.append(
            _("The month must fall within the measure's period (%(start)s–%(end)s).")
            % {"start": format_day(start), "end": format_day(end)}
        )
    for day in line_dates:
        if not (month <= day <= month_end(month)):
            problems.append(
                _("The date %(date)s is not in the claim's month.") % {"date": format_day(day)}
            )
        elif not start <= day <= end:
            problems.append(
                _("The date %(date)s is outside the measure's period.") % {"date": format_day(day)}
            )
    return problems


def _transition(claim, *, to, by, comment="", **fields):
    return transition(claim, to=to, by=by, changed=ClaimChanged, comment=comment, **fields)


def files(user, claim) -> bool:
    return can_file_claim(user, claim.plan)


_SUBMITTED = frozenset({ClaimStatus.SUBMITTED})
_DECIDER_ONLY = gettext_lazy(
    "Claims are decided by the social pedagogue, never by a person who filed, submitted or "
    "changed them."
)

# The claim's changes: from where, who may, and the refusals (the claim page's buttons come
# from here too: ``STEPS.allowed``).
STEPS = Steps(
    ClaimError,
    edit=Step(
        ClaimStatus.EDITABLE,
        files,
        gettext_lazy("You may not change this claim."),
        gettext_lazy("Only a claim being prepared or returned can be changed."),
    ),
    submit=Step(
        ClaimStatus.EDITABLE,
        files,
        gettext_lazy("You may not submit this claim."),
        gettext_lazy("Only a claim being prepared or returned can be submitted."),
    ),
    approve=Step(
        _SUBMITTED,
        can_decide_claim,
        _DECIDER_ONLY,
        gettext_lazy("Only a submitted claim can be approved."),
        status_first=True,
    ),
    decide=Step(
        _SUBMITTED,
        can_decide_claim,
        _DECIDER_ONLY,
        gettext_lazy("Only a submitted claim can be decided on."),
        status_first=True,
    ),
    # Recorded through a payment batch (payments.services.record_paid), by its payer.
    pay=Step(
        frozenset({ClaimStatus.APPROVED}),
        can_pay_claim,
        gettext_lazy(
            "A payment is recorded by the payer of the claim's sent payment batch, never by a "
            "person who filed, submitted, changed or approved the claim."
        ),
        gettext_lazy("Only an approved claim can be marked as paid."),
        status_first=True,
    ),
)


def _lock_editable(claim, step):
    """Lock the claim's row and refuse unless, as it is now, it may still be changed (an edit
    that waited for a submission or a decision finds the claim no longer editable)."""
    locked = CompensationClaim.objects.select_for_update().get(pk=claim.pk)
    _require(locked.is_editable, str(STEPS.steps[step].wrong_status))
    return locked


def _store_receipts(claim, checked, by):
    """Store the checked, normalised receipts under the claim's code and a number: nothing of
    the uploader's file name is kept (it chose how a download was saved)."""
    first = claim.receipts.count() + 1
    stored = []
    try:
        for number, receipt_file in enumerate(checked, start=first):
            name = f"{claim.code.replace('/', '-')}-{number}.{receipt_file.extension}"
            receipt = Receipt(
                claim=claim,
                file=ContentFile(receipt_file.content, name=name),
                original_name=name,
                content_type=receipt_file.kind,
                size=receipt_file.size,
                uploaded_by=by,
            )
            receipt._history_user = by
            receipt.save()
            stored.append(receipt.file.name)
    except BaseException as error:
        # The claim's transaction rolls back: the receipts stored before this one go too (a
        # file that failed to be written left nothing: iap_portal.storage.WholeFileStorage).
        storage = Receipt._meta.get_field("file").storage
        for name in stored:
            storage.delete(name)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise ClaimError(
                _(
                    "The server has no room left to store the receipts, so nothing was saved. "
                    "Tell the administrator; once there is room, send the claim again."
                )
            ) from error
        raise


LINE_FIELDS = ("date", "description", "amount")


def _same_line(line, values):
    return all(getattr(line, field) == values[field] for field in LINE_FIELDS)


def _continued_lines(saved, lines):
    """For each new line (a dict), the saved line it continues, or None for an added one: the
    same line first, then one with the same description, then one of the same date, then the
    rest in order (a row of the form that was edited)."""
    free = list(saved)
    continued = [None] * len(lines)
    for matches in (
        _same_line,
        lambda line, values: line.description == values["description"],
        lambda line, values: line.date == values["date"],
        lambda line, values: True,
    ):
        for i, values in enumerate(lines):
            if continued[i] is None:
                match = next((line for line in free if matches(line, values)), None)
                if match is not None:
                    continued[i] = match
                    free.remove(match)
    return continued


def _save_lines(claim, lines, by):
    """Bring the claim's lines to ``lines``: a line that continues a saved one is changed in
    place (its history says from what to what), the others are added or removed."""
    saved = list(claim.lines.all())
    continued = _continued_lines(saved, lines)
    for values, line in zip(lines, continued, strict=True):
        if line is None:
            line = ClaimLine(claim=claim)
        elif _same_line(line, values):
            continue
        for field in LINE_FIELDS:
            setattr(line, field, values[field])
        line._history_user = by
        line.save()
    for line in saved:
        if line not in continued:
            line._history_user = by
            line.delete()
    claim.total = sum((line["amount"] for line in lines), Decimal(0))
    claim._history_user = by
    claim.save(update_fields=["total", "month", "updated_at"])


@transaction.atomic
def create_claim(
    *,
    measure: SupportMeasure,
    by: AbstractBaseUser,
    month: date,
    lines: list[dict],
    receipts: list[UploadedFile],
) -> CompensationClaim:
    plan = measure.plan
    _require(
        measure.measure_type == SupportMeasure.Type.COMPENSATION,
        _("Claims are filed on compensation measures only."),
    )
    _require(can_file_claim(by, plan), _("You may not file claims for this pupil."))
    _require(
        plan.status in PlanStatus.CLAIMABLE,
        _("The plan is not approved: claims can be filed once it is."),
    )
    problems = period_problems(
        measure=measure, month=month, line_dates=[line["date"] for line in lines]
    )
    if problems:
        raise ClaimError(*problems)
    checked = check_receipts(receipts)
    claim = create_numbered(
        CompensationClaim,
        scope={"school": plan.school},
        create=lambda sequence: CompensationClaim.objects.create(
            measure=measure,
            plan=plan,
            school=plan.school,
            sequence=sequence,
            code=f"K-{plan.school_id}-{month.year}-{sequence:04d}",
            month=month,
            submitted_by=by,
        ),
    )
    _require(claim is not None, _("The claim could not be numbered; try again."))
    _save_lines(claim, lines, by)
    _store_receipts(claim, checked, by)
    return claim


@transaction.atomic
def update_claim(
    *,
    claim: CompensationClaim,
    by: AbstractBaseUser,
    month: date,
    lines: list[dict],
    receipts: list[UploadedFile],
) -> CompensationClaim:
    STEPS.check("edit", claim, by)
    _lock_editable(claim, "edit")
    problems = period_problems(
        measure=claim.measure, month=month, line_dates=[line["date"] for line in lines]
    )
    if problems:
        raise ClaimError(*problems)
    checked = check_receipts(receipts, already=claim.receipts.count())
    before = (claim.month, _line_values(claim.lines.all()))
    claim.month = month
    _save_lines(claim, lines, by)
    if (month, _line_values(claim.lines.all())) != before:
        record_change(claim, by=by, what=ContentChange.What.LINES)
    if checked:
        record_change(claim, by=by, what=ContentChange.What.RECEIPTS)
    _store_receipts(claim, checked, by)
    return claim


def _line_values(lines):
    return sorted((line.date, line.description, line.amount) for line in lines)


@transaction.atomic
def delete_receipt(*, receipt: Receipt, by: AbstractBaseUser) -> None:
    claim = receipt.claim
    STEPS.check("edit", claim, by)
    _lock_editable(claim, "edit")
    stored = receipt.file.name
    receipt._history_user = by
    receipt.delete()
    record_change(claim, by=by, what=ContentChange.What.RECEIPTS)
    transaction.on_commit(lambda: receipt.file.storage.delete(stored))


@transaction.atomic
def submit_claim(*, claim: CompensationClaim, by: AbstractBaseUser) -> CompensationClaim:
    STEPS.check("submit", claim, by)
    # What is checked is what is submitted: an edit at the same moment waits, or is waited for.
    locked = _lock_editable(claim, "submit")
    problems = []
    if not claim.lines.exists():
        problems.append(_("Add at least one expense line."))
    if not claim.receipts.exists():
        problems.append(_("Attach at least one receipt."))
    over = _over_approved(claim.measure, locked, ClaimStatus.CLAIMED)
    if over > 0:
        problems.append(
            _(
                "The claim is %(over)s more than what remains of the measure's approved "
                "amount (%(remaining)s). Correct it, or have the plan revised and approved "
                "again first; it stays saved as a draft."
            )
            % {"over": eur(over), "remaining": eur(locked.total - over)}
        )
    if problems:
        raise ClaimError(*problems)
    _transition(claim, to=ClaimStatus.SUBMITTED, by=by, submitted_at=timezone.now())
    start_plan_if_due(plan=claim.plan, by=by)
    notices.claim_submitted(claim, by=by)
    return claim


def _over_approved(measure, claim, counted) -> Decimal:
    """By how much the claim, with the measure's other claims in ``counted`` statuses, goes
    over the amount the plan's last approval approved (a revision's figures do not count
    until it is approved again; a measure added since has nothing approved yet)."""
    others = CompensationClaim.objects.filter(measure=measure, status__in=counted).exclude(
        pk=claim.pk
    ).aggregate(total=Sum("total"))["total"] or Decimal(0)
    return others + claim.total - (measure.approved_amount or Decimal(0))


def paid_on_plan(plan) -> bool:
    """Whether compensation was approved or paid on the plan (plans.hooks.paid_on_plan)."""
    return CompensationClaim.objects.filter(plan=plan, status__in=ClaimStatus.GRANTED).exists()


def measure_sums(measures) -> dict[int, dict[str, Decimal]]:
    """Claimed, approved and paid sums per measure id, in one query."""
    rows = (
        CompensationClaim.objects.filter(measure__in=measures)
        .values("measure_id")
        .annotate(**money_sums())
    )
    zero = Decimal("0.00")
    return {
        row["measure_id"]: {k: row[k] or zero for k in ("claimed", "approved", "paid")}
        for row in rows
    }


@transaction.atomic
def approve_claim(*, claim: CompensationClaim, by: AbstractBaseUser) -> CompensationClaim:
    lock_as_read(claim, changed=ClaimChanged)
    STEPS.check("approve", claim, by)
    # Lock the measure so two approvals on it cannot both slip under the approved amount.
    measure = SupportMeasure.objects.select_for_update().get(pk=claim.measure_id)
    over = _over_approved(measure, claim, ClaimStatus.GRANTED)
    if over > 0:
        raise ClaimError(
            _(
                "Approving would exceed the approved amount of %(approved)s by %(over)s. "
                "The plan must be revised and approved again first."
            )
            % {"approved": eur(measure.approved_amount or Decimal(0)), "over": eur(over)}
        )
    # The school's allocation for the year: refused with the figures when the approved claims
    # would go over it (the hook locks the allocation, so approvals at once count in turn).
    problem = claim_budget_problem(claim)
    if problem:
        raise ClaimError(problem)
    _transition(claim, to=ClaimStatus.APPROVED, by=by, decided_by=by, decided_at=timezone.now())
    notices.to_submitter(claim, "claim_decided", by=by, outcome="approved")
    return claim


def _decide_with_comment(claim, by, comment, to, required_message):
    lock_as_read(claim, changed=ClaimChanged)
    STEPS.check("decide", claim, by)
    comment = (comment or "").strip()
    _require(comment, required_message)
    return _transition(
        claim,
        to=to,
        by=by,
        comment=comment,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment,
    )


@transaction.atomic
def reject_claim(
    *, claim: CompensationClaim, by: AbstractBaseUser, reason: str
) -> CompensationClaim:
    _decide_with_comment(
        claim, by, reason, ClaimStatus.REJECTED, _("Give the reason for the rejection.")
    )
    notices.to_submitter(
        claim, "claim_decided", by=by, comment=claim.decision_comment, outcome="rejected"
    )
    return claim


@transaction.atomic
def return_claim(
    *, claim: CompensationClaim, by: AbstractBaseUser, comment: str
) -> CompensationClaim:
    _decide_with_comment(claim, by, comment, ClaimStatus.RETURNED, _("Say what must be corrected."))
    notices.to_submitter(claim, "claim_returned", by=by, comment=claim.decision_comment)
    return claim


@transaction.atomic
def record_claim_paid(
    *, claim: CompensationClaim, by: AbstractBaseUser, paid_on: date, reference: str
) -> CompensationClaim:
    """The approved claim was paid (the payer recorded it on the claim's line of a sent payment
    batch: payments.services.record_paid calls this in its transaction)."""
    _require(paid_on <= timezone.localdate(), _("The payment date cannot be in the future."))
    reference = (reference or "").strip()
    _require(reference, _("Enter the bank's reference of the payment."))
    lock_as_read(claim, changed=ClaimChanged)
    STEPS.check("pay", claim, by)
    return _transition(
        claim,
        to=ClaimStatus.PAID,
        by=by,
        paid_on=paid_on,
        payment_reference=reference,
        paid_by=by,
    )

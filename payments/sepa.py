"""The bank file of a sent batch: an ISO 20022 SEPA credit transfer (pain.001.001.03), built
with the ``sepaxml`` library and validated against the schema shipped in ``schemas/``.

The debtor is the payer's account as the batch was sent; one transaction per line (per claim
and payee) with the claim's code as the end-to-end id and in the remittance text, so the
bank's statement names the claim. Names are reduced to the basic Latin characters of the EPC
rules (``clean``): every bank takes them."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from sepaxml import SepaTransfer

from .models import BatchLine, PaymentBatch

SCHEMA = "pain.001.001.03"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / f"{SCHEMA}.xsd"


def cents(amount: Decimal) -> int:
    """The amount in cents, as sepaxml takes it (never through a float)."""
    return int((amount * 100).to_integral_value())


def execution_date(batch: PaymentBatch, today: date | None = None) -> date:
    """The day the bank is asked to pay: today, or the day the batch was sent if later
    (a bank refuses a requested date in the past)."""
    today = today or timezone.localdate()
    sent = timezone.localtime(batch.sent_at).date() if batch.sent_at else today
    return max(today, sent)


def remittance(line: BatchLine) -> str:
    return f"{line.claim.code} {line.claim.measure.get_compensation_category_display()}"[:140]


def bank_file(batch: PaymentBatch, lines=None, *, today: date | None = None) -> bytes:
    """The pain.001 file of the sent batch (its lines that the bank has not refused yet are
    all of them: the file is what was sent)."""
    if not batch.is_locked:
        raise ValueError("Only a sent batch has a bank file.")
    lines = list(
        lines
        if lines is not None
        else batch.lines.select_related("claim__measure").order_by("payee_name", "pk")
    )
    transfer = SepaTransfer(
        {
            "name": batch.debtor_name,
            "IBAN": batch.debtor_iban,
            "BIC": batch.debtor_bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
        clean=True,
    )
    # The message id names the batch (sepaxml makes a random one; at most 35 characters).
    transfer._xml.find("CstmrCdtTrfInitn/GrpHdr/MsgId").text = batch.code[:35]
    day = execution_date(batch, today)
    for line in lines:
        transfer.add_payment(
            {
                "name": line.payee_name,
                "IBAN": line.iban,
                "amount": cents(line.amount),
                "execution_date": day,
                "description": remittance(line),
                "endtoend_id": line.claim.code[:35],
            }
        )
    # sepaxml validates against its own copy of the same schema; the tests validate against
    # ours (payments/schemas), which is what the product promises.
    return transfer.export(validate=True)


def file_name(batch: PaymentBatch, extension: str) -> str:
    return f"{batch.code}.{extension}"

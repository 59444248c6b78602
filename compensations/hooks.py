"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from iap_portal.registry import Hook

# payments: whether this person records the payment of the claim: the claim waits in a sent
# payment batch whose payer (the municipality's accountant, or the school's coordinator where
# the school pays itself) this person is. Money is paid only through batches.
records_payment_of = Hook("records_payment_of", default=lambda user, claim: False)
# payments: how each claim stands with its payment, by claim id: {"batch": code, "payee": the
# payee's name, "iban": masked, "refused": the bank's reason or ""} (claims in no batch and
# with no payee are left out).
payment_status = Hook("payment_status", default=lambda claims: {})

"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from iap_portal.registry import Hook, Registry

# Sections that other apps add to the claim page: name -> function(request, claim) giving the
# section's context with its "template", or None when this user sees no such section
# (payments: whom the claim is paid to, and choosing it).
claim_page = Registry("claim_page")

# budgets: why approving this claim would take the approved claims of its school and school
# year over the school's allocation (the figures in words), or None. Called inside the
# approval's transaction; it locks the allocation so two approvals at once are counted one
# after the other.
claim_budget_problem = Hook("claim_budget_problem", default=lambda claim: None)

# payments: whether this person records the payment of the claim: the claim waits in a sent
# payment batch whose payer (the municipality's accountant, or the school's coordinator where
# the school pays itself) this person is. Money is paid only through batches.
records_payment_of = Hook("records_payment_of", default=lambda user, claim: False)
# payments: how each claim stands with its payment, by claim id: {"batch": code, "payee": the
# payee's name, "iban": masked, "refused": the bank's reason or ""} (claims in no batch and
# with no payee are left out).
payment_status = Hook("payment_status", default=lambda claims: {})

"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from iap_portal.registry import Hook

# compensations: whether compensation was approved or paid on the plan (it then cannot be
# deleted), and the claim sums per compensation measure ({measure id: {...}}).
paid_on_plan = Hook("paid_on_plan", default=lambda plan: False)
claim_sums = Hook("claim_sums", default=lambda measure_ids: {})

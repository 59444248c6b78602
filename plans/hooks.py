"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from iap_portal.registry import Hook

# compensations: whether compensation was approved or paid on the plan (it then cannot be
# deleted), and the claim sums per compensation measure ({measure id: {...}}).
paid_on_plan = Hook("paid_on_plan", default=lambda plan: False)
claim_sums = Hook("claim_sums", default=lambda measure_ids: {})

# budgets: a plan's budget context (the school's allocation for the plan's school year and
# what approving the plan does to it), or None where nothing answers. The answer has
# ``has_allocation``, ``over_by`` (EUR, 0 within the allocation), ``warning`` (the figures in
# words, for the approver and the plan's history) and ``audit_note``; ``lock`` (inside an
# approval's transaction) locks the allocation until the approval ends; ``record(plan=, by=,
# level=)`` keeps an approval over budget with its figures.
plan_budget = Hook("plan_budget", default=lambda plan, lock=False: None)
# budgets: the waiting plans of a queue annotated with their school's budget for the plan's
# school year — ``budget_allocated``, ``budget_approved`` (in claims), ``budget_remaining``,
# ``budget_over_by`` and ``budget_state`` ("none": no allocation set, "within", "over") — to
# show and filter by.
annotate_budget = Hook("annotate_budget", default=lambda plans: plans)

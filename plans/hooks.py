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
# budgets: the queue's budget. ``annotate_budget(plans)`` annotates each waiting plan with its
# school's allocation for the plan's year (``budget_allocated``) and what approving it adds;
# ``filter_budget(plans, state)`` keeps those in a state ("none": no allocation set, "within",
# "over"); ``attach_budget(page)`` sets on a page's plans ``budget_state``, ``budget_over_by``,
# ``budget_approved`` (in claims) and ``budget_remaining``.
annotate_budget = Hook("annotate_budget", default=lambda plans: plans)
filter_budget = Hook("filter_budget", default=lambda plans, state: plans)
attach_budget = Hook("attach_budget", default=lambda plans: plans)

"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from django.db.models import Value

from iap_portal.registry import Hook

# plans: an expression telling whether an indicator's pupil has a live plan in the semester.
live_plan_exists = Hook("live_plan_exists", default=lambda semester: Value(False))

# plans: the pupil's supported stretches — (first day, last day, the day the first measure
# started) of each counted plan — for the pupil's early-warning chart.
support_periods = Hook("support_periods", default=lambda student: [])

"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from django.db.models import IntegerField, Value

from iap_portal.registry import Hook

# plans: annotations of an indicator queryset for the semester: ``has_plan`` (the pupil has a
# submitted plan; a draft does not count) and ``draft_plan_id`` (the pupil's draft, or None).
plan_annotations = Hook(
    "plan_annotations",
    default=lambda semester: {
        "has_plan": Value(False),
        "draft_plan_id": Value(None, output_field=IntegerField()),
    },
)

# plans: the pupil's supported stretches — (first day, last day, the day the first measure
# started) of each counted plan — for the pupil's early-warning chart.
support_periods = Hook("support_periods", default=lambda student: [])

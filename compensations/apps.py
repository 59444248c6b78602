from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompensationsConfig(AppConfig):
    name = "compensations"
    verbose_name = _("Compensations")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from iap_portal import audit, wording
        from notifications import hooks as notifications_hooks
        from plans import hooks as plans_hooks

        from . import deadlines, exports, services  # noqa: F401 - exports registers the lists
        from .models import ClaimStatus, CompensationClaim, Receipt

        # The audit log says a claim's status changes in words.
        wording.STATUS_LABELS.register(CompensationClaim._meta.label)(dict(ClaimStatus.choices))
        plans_hooks.paid_on_plan.register(services.paid_on_plan)
        plans_hooks.claim_sums.register(services.measure_sums)
        # Claims waiting too long for their decision.
        notifications_hooks.reminders.register("claims")(deadlines.reminders)
        notifications_hooks.late_items.register("claims")(deadlines.late_items)
        # Forgetting a pupil (iap_portal.audit.forget_students) finds their claims' events.
        audit.PUPIL_OBJECTS.register(CompensationClaim._meta.label)(
            lambda ids: CompensationClaim.objects.filter(plan__student_id__in=ids).values_list(
                "pk", flat=True
            )
        )
        audit.PUPIL_OBJECTS.register(Receipt._meta.label)(
            lambda ids: Receipt.objects.filter(claim__plan__student_id__in=ids).values_list(
                "pk", flat=True
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompensationsConfig(AppConfig):
    name = "compensations"
    verbose_name = _("Compensations")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from plans import hooks as plans_hooks

        from . import exports, services  # noqa: F401 - exports registers the claims' lists

        plans_hooks.paid_on_plan.register(services.paid_on_plan)
        plans_hooks.claim_sums.register(services.measure_sums)

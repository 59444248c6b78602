from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Budgets")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from compensations import hooks as compensations_hooks
        from plans import hooks as plans_hooks

        from . import services

        plans_hooks.plan_budget.register(services.plan_budget)
        plans_hooks.annotate_budget.register(services.annotate_budget)
        plans_hooks.filter_budget.register(services.filter_budget)
        plans_hooks.attach_budget.register(services.attach_budget)
        compensations_hooks.claim_budget_problem.register(services.claim_budget_problem)

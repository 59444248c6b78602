from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from compensations import hooks as claim_hooks
        from iap_portal import wording

        from . import access, payees, services
        from .models import BatchStatus, PaymentBatch

        payees.register()
        # The audit log says a batch's status changes in words.
        wording.STATUS_LABELS.register(PaymentBatch._meta.label)(dict(BatchStatus.choices))
        claim_hooks.records_payment_of.register(access.records_payment_of)
        claim_hooks.payment_status.register(services.payment_status)

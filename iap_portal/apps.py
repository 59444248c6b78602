from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IapPortalConfig(AppConfig):
    name = "iap_portal"
    verbose_name = _("IAP portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import audit, two_factor  # noqa: F401 - two_factor's sign-in receiver

        audit.connect_status_signals()

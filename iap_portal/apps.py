from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IapPortalConfig(AppConfig):
    name = "iap_portal"
    verbose_name = _("IAP portal")
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from . import lookups  # noqa: F401 (registers the integer ``in`` lookup)


class IapPortalConfig(AppConfig):
    name = "iap_portal"
    verbose_name = _("IAP portal")
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig
from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy as _

from . import lookups  # noqa: F401 (registers the integer ``in`` lookup)


class IapPortalConfig(AppConfig):
    name = "iap_portal"
    verbose_name = _("IAP portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import audit  # imported once the models are loaded (Django's app loading)

        # The pupil model is named, not imported: its app is a higher layer.
        pre_delete.connect(
            audit.forget_deleted_pupil, sender="students.Student", dispatch_uid="iap_audit_forget"
        )

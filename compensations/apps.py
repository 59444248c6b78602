from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompensationsConfig(AppConfig):
    name = "compensations"
    verbose_name = _("Compensations")

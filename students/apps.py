from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Pupils")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from accounts import two_factor
        from iap_portal import wording

        from . import access, exports  # noqa: F401 - exports registers the pupils' list export
        from .models import ApprovalRoute, Municipality, School

        two_factor.required_by_role.register(access.two_factor_required_by_role)
        # The audit log says a change of approval route in words.
        routes = {"-": _("the municipality's route"), **dict(ApprovalRoute.choices)}
        for model in (Municipality, School):
            wording.STATUS_LABELS.register(model._meta.label)(routes)

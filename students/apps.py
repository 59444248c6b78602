from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Pupils")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from accounts import two_factor

        from . import access, exports  # noqa: F401 - exports registers the pupils' list export

        two_factor.required_by_role.register(access.two_factor_required_by_role)

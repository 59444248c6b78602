from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from . import exports  # noqa: F401 - registers the audit log's export

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from . import two_factor, views

handler500 = "iap_portal.views.server_error"

admin.site.site_header = "IAP portāls — administrēšana"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit_log"),
    path("accounts/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("accounts/two-factor/", two_factor.overview, name="two_factor"),
    path("accounts/two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("accounts/two-factor/setup/qr.svg", two_factor.qr_code, name="two_factor_qr"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path(
        "accounts/two-factor/backup-codes/",
        two_factor.backup_codes,
        name="two_factor_backup_codes",
    ),
    path("accounts/two-factor/disable/", two_factor.disable, name="two_factor_disable"),
    path("staff/<int:pk>/reset-two-factor/", two_factor.reset_for_member, name="two_factor_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("students.urls")),
    path("", include("plans.urls")),
    path("", include("compensations.urls")),
    path("", include("reports.urls")),
    path("", include("early_warning.urls")),
]

from django.contrib import admin
from django.urls import include, path

handler500 = "iap_portal.views.server_error"

admin.site.site_header = "IAP portāls — administrēšana"

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("privacy.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switch (notifications keeps a signed-in user's choice for their e-mails).
    path("", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("", include("students.urls")),
    path("", include("plans.urls")),
    path("", include("compensations.urls")),
    path("", include("payments.urls")),
    path("", include("budgets.urls")),
    path("", include("reports.urls")),
    path("", include("early_warning.urls")),
]

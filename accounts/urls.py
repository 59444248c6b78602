from django.urls import path

from . import views

urlpatterns = [
    # Before django.contrib.auth.urls (iap_portal/urls.py), whose view this one limits.
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("two-factor/", views.overview, name="two_factor"),
    path("two-factor/setup/", views.setup, name="two_factor_setup"),
    path("two-factor/setup/qr.svg", views.qr_code, name="two_factor_qr"),
    path("two-factor/verify/", views.verify, name="two_factor_verify"),
    path("two-factor/backup-codes/", views.backup_codes, name="two_factor_backup_codes"),
    path("two-factor/disable/", views.disable, name="two_factor_disable"),
]

"""The payees' pages (payee_views)."""

from django.urls import path

from . import payee_views as views

urlpatterns = [
    path(
        "students/<int:student_pk>/payees/new/guardian/",
        views.payee_guardian_create,
        name="payee_guardian_create",
    ),
    path(
        "students/<int:student_pk>/payees/new/pupil/",
        views.payee_pupil_create,
        name="payee_pupil_create",
    ),
    path("payees/organisations/", views.payee_organisation_list, name="payee_organisation_list"),
    path(
        "payees/organisations/new/",
        views.payee_organisation_create,
        name="payee_organisation_create",
    ),
    path("payees/<int:pk>/", views.payee_detail, name="payee_detail"),
    path("payees/<int:pk>/edit/", views.payee_update, name="payee_update"),
    path("payees/<int:pk>/deactivate/", views.payee_deactivate, name="payee_deactivate"),
    path("payees/<int:pk>/reactivate/", views.payee_reactivate, name="payee_reactivate"),
    path("claims/<int:claim_pk>/payee/", views.claim_payee_choose, name="claim_payee_choose"),
]

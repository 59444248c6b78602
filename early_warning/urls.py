from django.urls import path

from . import views

urlpatterns = [
    path("early-warning/", views.overview, name="ew_overview"),
    path("early-warning/pupils/<int:pk>/", views.student_signals, name="ew_student"),
    path("early-warning/import/", views.fact_import, name="ew_import"),
    path("early-warning/import/confirm/", views.fact_import_confirm, name="ew_import_confirm"),
    path("early-warning/imports/", views.import_list, name="ew_import_list"),
    path("early-warning/samples/<slug:kind>.csv", views.sample, name="ew_sample"),
    path("early-warning/thresholds/", views.thresholds_edit, name="ew_thresholds"),
]

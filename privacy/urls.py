from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("students/<uuid:public_id>/data/", views.student_data_export, name="student_data_export"),
]

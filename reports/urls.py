from django.urls import path

from . import views

urlpatterns = [
    path("reports/participation/", views.participation_report, name="participation_report"),
    path(
        "reports/participation/refresh/",
        views.participation_refresh,
        name="participation_refresh",
    ),
    path("reports/esf-indicators/", views.esf_indicators, name="esf_indicators"),
    path("plans/<uuid:public_id>/pdf/", views.plan_pdf, name="plan_pdf"),
]

urlpatterns += [
    path("reports/bundles/", views.bundle_list, name="bundle_list"),
    path("reports/bundles/<uuid:public_id>/", views.bundle_detail, name="bundle_detail"),
    path(
        "reports/bundles/<uuid:public_id>/download/<str:kind>/",
        views.bundle_download,
        name="bundle_download",
    ),
]

urlpatterns += [
    path("exports/<uuid:public_id>/", views.export_detail, name="export_detail"),
    path("exports/<uuid:public_id>/download/", views.export_download, name="export_download"),
]

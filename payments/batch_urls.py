"""The payment batches' pages (views)."""

from django.urls import path

from . import views

urlpatterns = [
    path("payments/batches/", views.batch_list, name="batch_list"),
    path("payments/batches/new/", views.batch_create, name="batch_create"),
    path("payments/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("payments/batches/<int:pk>/add/", views.batch_add, name="batch_add"),
    path(
        "payments/batches/<int:pk>/lines/<int:line_pk>/remove/",
        views.batch_remove,
        name="batch_remove",
    ),
    path("payments/batches/<int:pk>/send/", views.batch_send, name="batch_send"),
    path("payments/unbatched/", views.batch_unbatched, name="batch_unbatched"),
    path("payments/incoming/", views.batch_incoming, name="batch_incoming"),
    path("payments/incoming/<int:pk>/", views.batch_payment, name="batch_payment"),
    path(
        "payments/incoming/<int:pk>/lines/<int:line_pk>/",
        views.batch_record,
        name="batch_record",
    ),
    path("payments/incoming/<int:pk>/paid/", views.batch_record_all, name="batch_record_all"),
    path("payments/incoming/<int:pk>/<str:fmt>/", views.batch_download, name="batch_download"),
]

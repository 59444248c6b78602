from django.urls import path

from . import views

urlpatterns = [
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/queue/", views.claim_queue, name="claim_queue"),
    path("claims/payments/", views.claim_payments, name="claim_payments"),
    path("measures/<int:measure_pk>/claims/new/", views.claim_create, name="claim_create"),
    path("measures/<int:measure_pk>/claims/row/", views.claim_line_row, name="claim_line_row"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/edit/", views.claim_update, name="claim_update"),
    path("claims/<int:pk>/submit/", views.claim_submit, name="claim_submit"),
    path("claims/<int:pk>/approve/", views.claim_approve, name="claim_approve"),
    path("claims/<int:pk>/reject/", views.claim_reject, name="claim_reject"),
    path("claims/<int:pk>/return/", views.claim_return, name="claim_return"),
    path("receipts/<uuid:public_id>/", views.receipt_view, name="receipt_view"),
    path("receipts/<uuid:public_id>/delete/", views.receipt_delete, name="receipt_delete"),
]

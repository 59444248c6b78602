from django.urls import path

from . import views

urlpatterns = [
    path("students/", views.student_list, name="student_list"),
    path("students/new/", views.student_create, name="student_create"),
    path("students/import/", views.student_import, name="student_import"),
    path("students/import/confirm/", views.student_import_confirm, name="student_import_confirm"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("students/<int:pk>/edit/", views.student_update, name="student_update"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/new/", views.class_create, name="class_create"),
    path("classes/<int:pk>/edit/", views.class_update, name="class_update"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path(
        "staff/invitations/<int:pk>/withdraw/",
        views.staff_invitation_withdraw,
        name="staff_invitation_withdraw",
    ),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("staff/<int:pk>/remove/", views.staff_remove, name="staff_remove"),
    path("staff/<int:pk>/reset-two-factor/", views.reset_for_member, name="two_factor_reset"),
    path("calendar/", views.calendar_list, name="calendar"),
    path("calendar/new/", views.calendar_create, name="calendar_create"),
    path("calendar/<int:pk>/edit/", views.calendar_update, name="calendar_update"),
    path("approval-routes/", views.approval_routes, name="approval_routes"),
    path("approval-routes/<int:pk>/", views.approval_route_edit, name="approval_route_edit"),
]

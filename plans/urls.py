from django.urls import path

from . import views

urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/queue/", views.plan_queue, name="plan_queue"),
    path("students/<int:student_pk>/plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_update, name="plan_update"),
    path("plans/<int:pk>/rows/risk/", views.plan_row, {"kind": "risk"}, name="plan_risk_row"),
    path(
        "plans/<int:pk>/rows/measure/", views.plan_row, {"kind": "measure"}, name="plan_measure_row"
    ),
    path("plans/<int:pk>/submit/", views.plan_transition, {"action": "submit"}, name="plan_submit"),
    path(
        "plans/<int:pk>/approve/", views.plan_transition, {"action": "approve"}, name="plan_approve"
    ),
    path("plans/<int:pk>/revise/", views.plan_transition, {"action": "revise"}, name="plan_revise"),
    path("plans/<int:pk>/resume/", views.plan_transition, {"action": "resume"}, name="plan_resume"),
    path("plans/<int:pk>/return/", views.plan_return, name="plan_return"),
    path("plans/<int:pk>/suspend/", views.plan_suspend, name="plan_suspend"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan_delete"),
    path("plans/<int:pk>/evaluate/", views.plan_evaluate, name="plan_evaluate"),
    path(
        "plans/<int:pk>/allow-early-evaluation/",
        views.plan_allow_early_evaluation,
        name="plan_allow_early_evaluation",
    ),
    path("approvals/", views.approval_queue, name="approval_queue"),
    path("approvals/approve/", views.approval_approve, name="approval_approve"),
    path("approvals/waiting/", views.approval_overview, name="approval_overview"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/return/", views.approval_return, name="approval_return"),
    path("consultations/", views.consultation_list, name="consultation_list"),
    path(
        "measures/<int:measure_pk>/consultations/new/",
        views.consultation_create,
        name="consultation_create",
    ),
    path("compensation-ceilings/", views.compensation_ceilings, name="compensation_ceilings"),
    path("risk-factors/", views.risk_factor_list, name="risk_factor_list"),
    path("risk-factors/new/", views.risk_factor_edit, name="risk_factor_create"),
    path("risk-factors/<int:pk>/edit/", views.risk_factor_edit, name="risk_factor_update"),
    path("ngo-projects/", views.ngo_project_list, name="ngo_project_list"),
    path("ngo-projects/new/", views.ngo_project_edit, name="ngo_project_create"),
    path("ngo-projects/<int:pk>/edit/", views.ngo_project_edit, name="ngo_project_update"),
    path("specialist-types/", views.specialist_type_list, name="specialist_type_list"),
    path("specialist-types/new/", views.specialist_type_edit, name="specialist_type_create"),
    path(
        "specialist-types/<int:pk>/edit/",
        views.specialist_type_edit,
        name="specialist_type_update",
    ),
]

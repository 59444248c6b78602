from django.urls import path

from . import views

urlpatterns = [
    path("budgets/", views.budget_table, name="budget_table"),
    path("budgets/school/", views.school_budget, name="school_budget"),
    path("budgets/allocations/", views.allocation_list, name="allocation_list"),
]

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Allocation, OverBudgetApproval


@admin.register(Allocation)
class AllocationAdmin(SimpleHistoryAdmin):
    list_display = ["school", "school_year", "compensations", "consultation_hours", "set_by"]
    list_filter = ["school_year"]
    search_fields = ["school__name"]
    readonly_fields = ["set_by"]

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(OverBudgetApproval)
class OverBudgetApprovalAdmin(admin.ModelAdmin):
    list_display = ["plan", "school", "school_year", "level", "by", "at", "over_by"]
    list_filter = ["school_year", "level"]
    readonly_fields = [f.name for f in OverBudgetApproval._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from iap_portal.admin import PupilDataAdminMixin
from iap_portal.models import AuditEvent

from .models import (
    Consultation,
    NgoProject,
    PlanEvaluation,
    PlanRisk,
    PlanStatusChange,
    RiskFactor,
    RiskType,
    SupportMeasure,
    SupportPlan,
)
from .services import new_factor_code


@admin.register(NgoProject)
class NgoProjectAdmin(SimpleHistoryAdmin):
    """Read only: the municipal coordinator keeps the register in the app."""

    list_display = ["title", "municipality", "ngo_name", "start_date", "end_date", "status"]
    list_filter = ["status", "municipality"]
    list_select_related = ["municipality"]
    search_fields = ["title", "ngo_name", "ngo_registration_number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RiskType)
class RiskTypeAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "name_en"]


@admin.register(RiskFactor)
class RiskFactorAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "risk_type", "school", "is_active", "replaced_by"]
    list_filter = ["risk_type", "is_active"]
    list_select_related = ["risk_type", "school", "replaced_by"]
    search_fields = ["name", "name_en", "code"]

    def get_readonly_fields(self, request, obj=None):
        # What plans show is not changed in place (plans.services.save_risk_factor).
        if obj is not None and (obj.replaced_by_id or obj.is_named_in_plans()):
            return ["code", "risk_type", "name", "school", "replaced_by"]
        return ["code", "replaced_by"]

    def save_model(self, request, obj, form, change):
        if not obj.code:
            obj.code = new_factor_code(obj.name)
        super().save_model(request, obj, form, change)


class PlanRiskInline(admin.TabularInline):
    model = PlanRisk
    extra = 0


class StatusChangeInline(admin.TabularInline):
    model = PlanStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "by", "at", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SupportPlan)
class SupportPlanAdmin(PupilDataAdminMixin, SimpleHistoryAdmin):
    audit_action = AuditEvent.Action.VIEW_PLAN
    list_display = ["code", "student", "semester", "kind", "status", "preparer"]
    list_filter = ["status", "kind", "semester__school_year"]
    search_fields = ["code", "student__last_name"]
    list_select_related = ["student", "semester__school_year", "preparer"]
    raw_id_fields = ["student", "preparer"]
    inlines = [PlanRiskInline, StatusChangeInline]

    def audit_pupil_id(self, obj):
        return obj.student_id


@admin.register(SupportMeasure)
class SupportMeasureAdmin(SimpleHistoryAdmin):
    list_display = ["plan", "measure_type", "specialist_type", "compensation_category"]
    list_filter = ["measure_type"]
    list_select_related = ["plan", "specialist_type"]
    raw_id_fields = ["plan", "responsible"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["date", "measure", "minutes", "mode", "provider"]
    list_select_related = ["measure__plan", "measure__specialist_type", "provider"]
    raw_id_fields = ["measure", "provider"]


@admin.register(PlanEvaluation)
class PlanEvaluationAdmin(admin.ModelAdmin):
    list_display = ["plan", "overall_outcome", "evaluated_at"]
    raw_id_fields = ["plan", "evaluated_by"]

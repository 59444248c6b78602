from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from iap_portal.admin import PupilDataAdminMixin
from iap_portal.models import AuditEvent

from .models import ClaimLine, ClaimStatusChange, CompensationClaim, Receipt


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
    extra = 0


class ReceiptInline(admin.TabularInline):
    model = Receipt
    extra = 0
    fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


class StatusChangeInline(admin.TabularInline):
    model = ClaimStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "by", "at", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CompensationClaim)
class CompensationClaimAdmin(PupilDataAdminMixin, SimpleHistoryAdmin):
    audit_action = AuditEvent.Action.VIEW_CLAIM
    list_display = ["code", "plan", "month", "status", "total", "submitted_by"]
    list_filter = ["status"]
    search_fields = ["code", "plan__student__last_name"]
    list_select_related = ["plan", "submitted_by"]
    raw_id_fields = ["measure", "plan", "submitted_by", "decided_by", "paid_by"]
    inlines = [ClaimLineInline, ReceiptInline, StatusChangeInline]

    def audit_pupil_id(self, obj):
        return obj.plan.student_id

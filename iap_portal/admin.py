from django.contrib import admin

from . import audit
from .models import AuditEvent, AuditSummary, AuditSummaryPeriod


class PupilDataAdminMixin:
    """A ModelAdmin of pupils' data (pupils, plans, claims): its change and history pages
    record a view of the pupil, its change list one row naming the pupils of the page, as
    the app's own pages do. A subclass names ``audit_action`` and the pupil of an object."""

    audit_action = AuditEvent.Action.VIEW_PUPIL

    def audit_pupil_id(self, obj):
        return obj.pk

    def audit_school_id(self, obj):
        return obj.school_id

    def _record_view(self, request, obj, detail):
        audit.record(
            request,
            self.audit_action,
            school=self.audit_school_id(obj),
            obj=obj,
            detail=detail,
            student=self.audit_pupil_id(obj),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every change page that shows an object: a GET, or a POST with errors.
        if obj is not None and not add:
            self._record_view(request, obj, "admin")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_history_view(self, request, template, context, **kwargs):
        # django-simple-history's pages: the list of changes, and one past version.
        obj = context.get("object") or context.get("original")
        if obj is not None:
            past = template == getattr(self, "object_history_form_template", None)
            self._record_view(request, obj, "admin history version" if past else "admin history")
        return super().render_history_view(request, template, context, **kwargs)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # The page's rows (the template reads the same evaluated queryset: no query more).
            rows = list(changelist.result_list)
            audit.record_list(
                request,
                f"admin {self.model._meta.model_name}",
                [self.audit_pupil_id(row) for row in rows],
                schools=[self.audit_school_id(row) for row in rows],
            )
        return response


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, also for superusers."""

    list_display = ["at", "username", "action", "school", "detail", "ip"]
    list_filter = ["action"]
    search_fields = ["username", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditSummaryPeriod)
class AuditSummaryPeriodAdmin(AuditEventAdmin):
    list_display = ["month", "events", "summarised_at"]
    list_filter = []
    search_fields = []


@admin.register(AuditSummary)
class AuditSummaryAdmin(AuditEventAdmin):
    list_display = ["month", "school", "action", "count"]
    list_filter = ["action"]
    search_fields = []
    list_select_related = ["school"]

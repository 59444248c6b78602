from django.contrib import admin

from .models import ImportRecord, Thresholds


@admin.register(Thresholds)
class ThresholdsAdmin(admin.ModelAdmin):
    list_display = ["school", "attendance_watch", "attendance_at_risk", "attendance_high"]


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ["school", "kind", "file_name", "row_count", "imported_by", "imported_at"]
    list_filter = ["kind"]

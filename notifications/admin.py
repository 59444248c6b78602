from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """For a technical superuser looking into a mail that did not go: state and tries."""

    list_display = ["created_at", "recipient", "kind", "item", "mail_state", "mail_attempts"]
    list_filter = ["kind", "mail_state"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

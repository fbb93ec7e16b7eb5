from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the journal can be searched, never changed."""

    list_display = ("timestamp", "actor_email", "action", "object_repr", "departement", "ip_address")
    list_filter = ("action", "departement")
    search_fields = ("actor_email", "object_repr", "object_id")
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

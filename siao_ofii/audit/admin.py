from django.contrib import admin

from .models import AuditEvent


class DepartementFilter(admin.SimpleListFilter):
    """The département of the event, with a name for events without one (the default filter
    renders an empty, nameless link for them)."""

    title = "département"
    parameter_name = "departement"
    NONE = "aucun"

    def lookups(self, request, model_admin):
        values = AuditEvent.objects.order_by("departement").values_list("departement", flat=True).distinct()
        return [(v or self.NONE, v or "Sans département") for v in values]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(departement="" if value == self.NONE else value)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the journal can be searched, never changed."""

    list_display = ("timestamp", "actor_email", "action", "object_repr", "departement", "ip_address")
    list_filter = ("action", DepartementFilter)
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

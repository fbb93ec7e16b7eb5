from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

# Field names whose value never goes to the journal (a change is still recorded, masked).
SENSITIVE_FIELDS = {"password", "key", "bin_key", "secret", "token", "secret_hash"}
MASK = "•••"


def _display(obj, field):
    if field.is_relation:
        related_id = getattr(obj, field.attname)
        if related_id is None:
            return ""
        return f"{getattr(obj, field.name)} (#{related_id})"
    value = field.value_from_object(obj)
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, (bool, int, float)) else str(value)


def snapshot(obj):
    """field name → (comparable raw value, value written to the journal), m2m included."""
    values = {}
    for field in obj._meta.concrete_fields:
        raw = field.value_from_object(obj)
        values[field.name] = (raw, MASK if field.name in SENSITIVE_FIELDS else _display(obj, field))
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            related = sorted(getattr(obj, field.name).all(), key=lambda o: o.pk)
            values[field.name] = ([o.pk for o in related], ", ".join(str(o) for o in related))
    return values


def diff(before, after):
    """{field: {"old": …, "new": …}} for the fields that changed (all of them on a creation or a
    deletion, where one side is empty)."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, (None, "")), after.get(name, (None, ""))
        if old[0] != new[0]:
            if name in SENSITIVE_FIELDS:
                changes[name] = {"old": MASK if before else "", "new": f"{MASK} (modifié)" if after else ""}
            else:
                changes[name] = {"old": old[1], "new": new[1]}
    return changes


def _departement_code(obj):
    from referentiel.models import Departement

    if isinstance(obj, Departement):
        return obj.code
    dep = getattr(obj, "departement", None) if hasattr(type(obj), "departement") else None
    return getattr(dep, "code", "") or ""


class AuditedAdminMixin:
    """Every change made through the administration goes to the journal with its old and new
    values (issue 10, point 7): saves, inline saves, deletions and every admin action
    (django-celery-beat's enable/disable/toggle use ``queryset.update``: they are seen too, by
    comparing the selected objects before and after). ``SiaoAdminSite.register`` puts this mixin
    in front of every ModelAdmin, third-party ones included, so nothing is registered unjournaled."""

    audit_action = "admin_changed"
    journaled_operations = {"add", "change", "delete"}

    def journal(self, request, obj, before, after, *, operation):
        from siao_ofii.audit.services import record

        changes = diff(before, after)
        if (operation == "change" and not changes) or operation not in self.journaled_operations:
            return None
        return record(self.audit_action, request=request, obj=obj, departement=_departement_code(obj),
                      model=obj._meta.label, operation=operation, changes=changes)

    def _before(self, request):
        if not hasattr(request, "_audit_before"):
            request._audit_before = {}
        return request._audit_before

    def save_model(self, request, obj, form, change):
        if change:
            self._before(request)[(obj._meta.label, obj.pk)] = snapshot(type(obj)._base_manager.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = self._before(request).pop((obj._meta.label, obj.pk), {})
        self.journal(request, obj, before, snapshot(type(obj)._base_manager.get(pk=obj.pk)),
                     operation="change" if change else "add")

    def save_formset(self, request, form, formset, change):
        model = formset.model
        before = {f.instance.pk: snapshot(model._base_manager.get(pk=f.instance.pk))
                  for f in formset.initial_forms if f.instance.pk is not None}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self.journal(request, obj, {}, snapshot(obj), operation="add")
        for obj, _fields in formset.changed_objects:
            self.journal(request, obj, before.get(obj.pk, {}), snapshot(obj), operation="change")
        for obj in formset.deleted_objects:
            self.journal(request, obj, before.get(obj.pk, {}), {}, operation="delete")

    def delete_model(self, request, obj):
        before, pk = snapshot(obj), obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        self.journal(request, obj, before, {}, operation="delete")

    def delete_queryset(self, request, queryset):
        gone = [(obj, snapshot(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, before in gone:
            self.journal(request, obj, before, {}, operation="delete")

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {name: (self._journaled_action(func) if name != "delete_selected" else func, name, description)
                for name, (func, name, description) in actions.items()}

    def _journaled_action(self, func):
        model = self.model

        def action(modeladmin, request, queryset):
            before = {obj.pk: (obj, snapshot(obj)) for obj in queryset}
            result = func(modeladmin, request, queryset)
            after = {obj.pk: obj for obj in model._base_manager.filter(pk__in=list(before))}
            for pk, (old_obj, old) in before.items():
                new_obj = after.get(pk)
                if new_obj is None:
                    self.journal(request, old_obj, old, {}, operation="delete")
                else:
                    self.journal(request, new_obj, old, snapshot(new_obj), operation="change")
            return result

        update_wrapper(action, func)
        return action


class SiaoAdminSite(admin.AdminSite):
    site_header = "Administration — Transmission SIAO → OFII"
    site_title = "Administration SIAO → OFII"
    index_title = "Référentiel, agents et habilitations"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(admin_class.__name__, (AuditedAdminMixin, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        return super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        """Only an agent with a valid administrator habilitation and a verified second factor."""
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_staff and user.is_verified())

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and not self.has_permission(request):
                if user.is_staff:  # an administrator who has not passed the second factor yet
                    return redirect(f"{settings.OTP_VERIFY_URL}?next={request.get_full_path()}")
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, inner)

    def login(self, request, extra_context=None):
        return redirect(f"{reverse('login')}?next={request.get_full_path()}")


class SiaoAdminConfig(AdminConfig):
    default_site = "siao_ofii.admin_site.SiaoAdminSite"

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from dsfr.models import DsfrConfig
from django.utils import timezone

from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import services
from .models import (
    Agent,
    Departement,
    DirectionTerritoriale,
    FormerRegion,
    Habilitation,
    Organisation,
    PlatformSettings,
    Region,
)

# Not used: permissions come from habilitations, the site configuration from settings.
admin.site.unregister(Group)
admin.site.unregister(DsfrConfig)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(FormerRegion)
class FormerRegionAdmin(admin.ModelAdmin):
    list_display = ("name", "region")
    search_fields = ("name",)


class DepartementInline(admin.TabularInline):
    model = Departement
    fields = ("code", "name")
    readonly_fields = ("code", "name")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DirectionTerritoriale)
class DirectionTerritorialeAdmin(admin.ModelAdmin):
    list_display = ("name", "city")
    search_fields = ("name", "city")
    inlines = [DepartementInline]


class WithoutDtFilter(admin.SimpleListFilter):
    title = "rattachement"
    parameter_name = "rattachement"

    def lookups(self, request, model_admin):
        return [("sans_dt", "Sans DT (siège seulement)"), ("avec_dt", "Rattaché à une DT")]

    def queryset(self, request, queryset):
        if self.value() == "sans_dt":
            return queryset.filter(dt__isnull=True)
        if self.value() == "avec_dt":
            return queryset.filter(dt__isnull=False)
        return queryset


@admin.register(Departement)
class DepartementAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "prefecture_town", "region", "former_region", "dt_display")
    list_filter = (WithoutDtFilter, "region", "dt")
    search_fields = ("code", "name", "prefecture_town")
    list_select_related = ("region", "former_region", "dt")
    readonly_fields = ("code",)
    fields = ("code", "name", "prefecture_town", "region", "former_region", "dt", "first_period")

    @admin.display(description="DT OFII", ordering="dt__name")
    def dt_display(self, obj):
        return obj.dt.name if obj.dt_id else "⚠ sans DT (siège de l’OFII seulement)"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "departement", "dt", "email")
    list_filter = ("kind",)
    search_fields = ("name", "departement__code")
    list_select_related = ("departement", "dt")

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, {"title": "Ajouter une organisation", **(extra_context or {})})


class HabilitationInline(admin.TabularInline):
    model = Habilitation
    fk_name = "agent"
    fields = ("role", "perimeter_label", "valid_from", "valid_until", "granted_by", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class AgentCreationForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = ("email", "first_name", "last_name", "organisation", "is_active")


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("email", "last_name", "first_name", "organisation", "is_active", "last_login")
    list_filter = ("is_active", "habilitations__role", "organisation__kind")
    search_fields = ("email", "first_name", "last_name", "organisation__name")
    list_select_related = ("organisation",)
    fields = ("email", "first_name", "last_name", "organisation", "is_active", "last_login", "date_joined",
              "grant_link")
    readonly_fields = ("last_login", "date_joined", "grant_link")
    autocomplete_fields = ("organisation",)
    inlines = [HabilitationInline]
    form = AgentCreationForm

    class Media:
        js = ("js/admin_a11y.js",)

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    @admin.display(description="habilitations")
    def grant_link(self, obj):
        if obj is None or obj.pk is None:
            return "Après l’enregistrement, le formulaire d’habilitation s’ouvre pour cet agent."
        url = reverse("admin:referentiel_habilitation_add") + f"?agent={obj.pk}"
        return format_html('<a href="{}" id="grant-habilitation">Accorder une habilitation à {}</a>', url, obj.email)

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, {"title": "Ajouter un agent", **(extra_context or {})})

    def response_add(self, request, obj, post_url_continue=None):
        """Creating an agent and granting the first habilitation is one flow: go straight on to
        the habilitation form for this agent (unless "add another" was asked)."""
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:referentiel_habilitation_add") + f"?agent={obj.pk}")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        record(AuditAction.AGENT_CHANGED, request=request, obj=obj, created=not change,
               changed=",".join(form.changed_data))
        if not change:
            messages.info(
                request,
                "Compte créé sans mot de passe : l’agent choisit le sien avec « Mot de passe oublié » "
                "(ou se connecte avec ProConnect si activé). Accordez-lui maintenant sa première habilitation "
                "ci-dessous.",
            )

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated, never deleted (the audit log refers to them)


class StateFilter(admin.SimpleListFilter):
    title = "état"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return list(Habilitation.STATE_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.state(self.value()) if self.value() else queryset


class ExpiringFilter(admin.SimpleListFilter):
    title = "échéance"
    parameter_name = "echeance"

    def lookups(self, request, model_admin):
        return [("30", "Expire dans les 30 jours")]

    def queryset(self, request, queryset):
        if self.value() == "30":
            today = timezone.localdate()
            return queryset.active().filter(valid_until__lte=today + datetime.timedelta(days=30))
        return queryset


class HabilitationForm(forms.ModelForm):
    request_user = None

    class Meta:
        model = Habilitation
        fields = ("agent", "role", "departements", "dt", "valid_from", "valid_until", "reason")

    def clean(self):
        data = super().clean()
        if self.request_user is not None and data.get("agent") == self.request_user:
            self.add_error("agent", "Un administrateur ne s’accorde pas d’habilitation à lui-même : "
                                    "un autre administrateur doit la lui accorder.")
        role = data.get("role")
        deps = data.get("departements")
        if role in ("SIAO", "SIAO_DNA", "PREFECTURE") and not deps:
            self.add_error("departements", "Ce rôle s’exerce sur un ou plusieurs départements : choisissez-les.")
        if role == "PREFECTURE" and deps and len(deps) > 1:
            self.add_error("departements", "Une habilitation préfecture porte sur un seul département.")
        if role in ("DT", "SIEGE", "ADMIN") and deps:
            self.add_error("departements", "Ce rôle ne se limite pas à une liste de départements : laissez-la vide.")
        return data


@admin.register(Habilitation)
class HabilitationAdmin(admin.ModelAdmin):
    form = HabilitationForm
    list_display = ("agent", "role", "perimeter_label", "valid_from", "valid_until", "state_display", "granted_by")
    list_filter = (StateFilter, ExpiringFilter, "role", "dt", "departements")
    search_fields = ("agent__email", "agent__last_name", "agent__first_name", "reason", "departements__code")
    list_select_related = ("agent", "dt", "granted_by")
    autocomplete_fields = ("agent",)
    filter_horizontal = ("departements",)

    class Media:
        js = ("js/admin_a11y.js",)
    actions = ["extend_one_year", "revoke"]
    readonly_fields = ("granted_by", "created_at", "revoked_at", "revoked_by", "revocation_reason")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departements").distinct()

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, {"title": "Accorder une habilitation", **(extra_context or {})})

    @admin.display(description="état")
    def state_display(self, obj):
        return obj.get_state_display()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # Who and what cannot change after the grant (that would keep the former grantor's name
        # on a new authorisation): revoke and grant a new habilitation instead. Dates and
        # reason may be corrected; every change is audited.
        fields = super().get_readonly_fields(request, obj)
        if obj is not None:
            return (*fields, "agent", "role", "dt", "departements")
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_change(form.instance, actor=request.user, request=request, created=not change)

    @admin.action(description="Prolonger d’un an les habilitations sélectionnées")
    def extend_one_year(self, request, queryset):
        done = 0
        for hab in queryset.filter(revoked_at__isnull=True):
            services.extend_habilitation(hab, extended_by=request.user, request=request)
            done += 1
        self.message_user(request, f"{done} habilitation(s) prolongée(s) d’un an.", messages.SUCCESS)

    @admin.action(description="Révoquer immédiatement les habilitations sélectionnées")
    def revoke(self, request, queryset):
        done = 0
        for hab in queryset.filter(revoked_at__isnull=True):
            services.revoke_habilitation(hab, revoked_by=request.user, reason="Révocation depuis l’administration",
                                         request=request)
            done += 1
        self.message_user(request, f"{done} habilitation(s) révoquée(s) ; l’accès cesse à la requête suivante.",
                          messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history of who could see what must remain


@admin.register(PlatformSettings)
class PlatformSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "collect_agdref_nationality", "retention_months", "updated_at")

    def has_add_permission(self, request):
        return not PlatformSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(AuditAction.SETTINGS_CHANGED, request=request, obj=obj,
               **{f: str(form.cleaned_data[f]) for f in form.changed_data})

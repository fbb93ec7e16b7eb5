import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils import timezone
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from dsfr.models import DsfrConfig

from siao_ofii.audit.models import AuditAction

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
    fields = ("role", "perimeter_label", "valid_from", "valid_until", "granted_by", "approved_by", "designated_by",
              "revoked_at")
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
    audit_action = AuditAction.AGENT_CHANGED
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
    actions = ["reset_second_factor"]

    class Media:
        js = ("js/admin_a11y.js",)

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def get_readonly_fields(self, request, obj=None):
        # The e-mail of an agent who holds a habilitation is frozen: changing it and then using
        # « Mot de passe oublié » would hand the account (and its access) to someone else
        # (issue 10, point 5). Revoke the habilitations first, or create a new account.
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and services.holds_habilitation(obj):
            return (*fields, "email")
        return fields

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
        old_email = Agent.objects.get(pk=obj.pk).email if change else None
        if not change:
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        if change and old_email != obj.email:
            services.notify_email_change(obj, old_email)
        if not change:
            messages.info(
                request,
                "Compte créé sans mot de passe : l’agent choisit le sien avec « Mot de passe oublié » "
                "(ou se connecte avec ProConnect si activé). Accordez-lui maintenant sa première habilitation "
                "ci-dessous.",
            )

    @admin.action(description="Réinitialiser le second facteur (l’agent en enregistre un nouveau à sa prochaine "
                              "connexion)")
    def reset_second_factor(self, request, queryset):
        for agent in queryset:
            services.reset_second_factor(agent, reset_by=request.user, request=request)
        self.message_user(request, f"Second facteur réinitialisé pour {len(queryset)} agent(s).", messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated, never deleted (the audit log refers to them)


# django-otp's device admin, without its secrets and without any way to set a device: an
# administrator who could add a confirmed device with a key they know would pass any agent's
# second factor (issue 10, point 5). The only action left is the audited reset.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class SecondFactorDeviceAdmin(TOTPDeviceAdmin):
    readonly_fields = ()
    actions = ["reset_second_factor"]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.get_fieldsets(request, obj) for f in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def config_view(self, request, pk):
        raise PermissionDenied("Le secret d’un second facteur n’est jamais affiché.")

    def qrcode_view(self, request, pk):
        raise PermissionDenied("Le secret d’un second facteur n’est jamais affiché.")

    @admin.action(description="Réinitialiser le second facteur de ces agents (nouvel enregistrement à la prochaine "
                              "connexion)")
    def reset_second_factor(self, request, queryset):
        agents = Agent.objects.filter(pk__in=queryset.values("user_id"))
        for agent in agents:
            services.reset_second_factor(agent, reset_by=request.user, request=request)
        self.message_user(request, f"Second facteur réinitialisé pour {len(agents)} agent(s).", messages.WARNING)


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
        if self.instance.pk:
            return self._clean_change(data)
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
        if not self.errors and data.get("agent"):
            hab = Habilitation(agent=data["agent"], role=role, dt=data.get("dt"), valid_from=data.get("valid_from"),
                               valid_until=data.get("valid_until"))
            try:
                services.check_request(hab, list(deps or []), self.request_user)
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def _clean_change(self, data):
        """After the grant, only the dates and the reason change; one's own habilitations not at all,
        and a period is lengthened by its authority only (the « Prolonger » action asks for it)."""
        hab = Habilitation.objects.get(pk=self.instance.pk)
        if self.request_user is not None and hab.agent_id == self.request_user.pk:
            raise ValidationError("Vos propres habilitations ne se modifient pas ici : un autre administrateur "
                                  "doit le faire (révoquer la vôtre reste possible par l’action « Révoquer »).")
        start, end = data.get("valid_from"), data.get("valid_until")
        widened = (start and start < hab.valid_from) or (end and end > hab.valid_until)
        if widened and services.needs_approval_to_widen(hab, self.request_user):
            raise ValidationError(
                "Cette habilitation ne s’allonge pas ici : l’action « Prolonger » demande une prolongation, "
                f"qui prend effet après approbation par {services.authority_label(hab.role)}.")
        return data


class PendingFilter(admin.SimpleListFilter):
    title = "approbation"
    parameter_name = "approbation"

    def lookups(self, request, model_admin):
        return [("attente", "En attente d’approbation")]

    def queryset(self, request, queryset):
        return queryset.pending() if self.value() == "attente" else queryset


@admin.register(Habilitation)
class HabilitationAdmin(admin.ModelAdmin):
    audit_action = AuditAction.HABILITATION_CHANGED
    journaled_operations = {"change", "delete"}  # grants: journaled by services.submit_habilitation
    form = HabilitationForm
    list_display = ("agent", "role", "perimeter_label", "valid_from", "valid_until", "state_display", "granted_by",
                    "approved_by")
    list_filter = (StateFilter, PendingFilter, ExpiringFilter, "role", "dt", "departements")
    search_fields = ("agent__email", "agent__last_name", "agent__first_name", "reason", "departements__code")
    list_select_related = ("agent", "dt", "granted_by", "approved_by")
    autocomplete_fields = ("agent",)
    filter_horizontal = ("departements",)

    class Media:
        js = ("js/admin_a11y.js",)

    actions = ["approve", "extend_one_year", "revoke"]
    readonly_fields = ("granted_by", "approved_by", "approved_at", "designated_by", "created_at", "revoked_at",
                       "revoked_by", "revocation_reason")

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
        if change:
            return super().save_model(request, obj, form, change)
        services.submit_habilitation(obj, departements=form.cleaned_data["departements"], requested_by=request.user,
                                     request=request)
        if obj.approved_at is None:
            self.message_user(request, "Demande enregistrée : l’habilitation prendra effet après approbation par "
                                       f"{services.authority_label(obj.role)}.", messages.WARNING)

    def save_related(self, request, form, formsets, change):
        if not change:
            form.save_m2m = lambda: None  # the service set the départements (and journaled the grant)
        super().save_related(request, form, formsets, change)

    @admin.action(description="Approuver les demandes sélectionnées")
    def approve(self, request, queryset):
        done = 0
        for hab in queryset.filter(approved_at__isnull=True, revoked_at__isnull=True):
            try:
                services.approve_habilitation(hab, approved_by=request.user, request=request)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{hab} : {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, f"{done} habilitation(s) approuvée(s).", messages.SUCCESS)

    @admin.action(description="Prolonger d’un an les habilitations sélectionnées")
    def extend_one_year(self, request, queryset):
        done = asked = 0
        for hab in queryset.filter(revoked_at__isnull=True):
            try:
                result = services.extend_habilitation(hab, extended_by=request.user, request=request)
            except ValidationError as exc:
                self.message_user(request, f"{hab} : {' '.join(exc.messages)}", messages.ERROR)
                continue
            if result.pk == hab.pk:
                done += 1
            else:
                asked += 1
        self.message_user(request, f"{done} habilitation(s) prolongée(s) d’un an ; {asked} prolongation(s) demandée(s), "
                                   "en attente d’approbation par l’autorité compétente.", messages.SUCCESS)

    @admin.action(description="Révoquer immédiatement les habilitations sélectionnées (ou refuser les demandes)")
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
    audit_action = AuditAction.SETTINGS_CHANGED
    list_display = ("__str__", "collect_agdref_nationality", "retention_months", "updated_at")

    def has_add_permission(self, request):
        return not PlatformSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

"""Administration of the API clients: create (the token is shown once), revoke. The creation
goes through ``services.create_client`` (habilitation under the ordinary granting rules);
both are journaled by the service, and by the administration's own journal."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from referentiel.models import Departement, DirectionTerritoriale, Role

from . import services
from .models import ApiClient, Scope


class ApiClientCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label="Opérations autorisées", choices=Scope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    role = forms.ChoiceField(label="Rôle de l’habilitation", choices=[(r.value, r.label) for r in services.CLIENT_ROLES],
                             help_text="Le périmètre et les droits viennent de cette habilitation, accordée selon les "
                                       "mêmes règles que pour une personne (R744-47, R744-48).")
    departements = forms.ModelMultipleChoiceField(label="Départements", queryset=Departement.objects.all(),
                                                  required=False, help_text="Rôles SIAO.")
    dt = forms.ModelChoiceField(label="DT OFII", queryset=DirectionTerritoriale.objects.all(), required=False,
                                help_text="Rôle agent de DT.")
    reason = forms.CharField(label="Motif / référence de la décision", widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = ApiClient
        fields = ["organisation", "name", "scopes", "expires_at"]

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if role == Role.DT and not data.get("dt"):
            self.add_error("dt", "Une habilitation d’agent de DT désigne une DT.")
        if role != Role.DT and data.get("dt"):
            self.add_error("dt", "Seule une habilitation d’agent de DT désigne une DT.")
        if role in (Role.SIAO, Role.SIAO_DNA) and not data.get("departements"):
            self.add_error("departements", "Choisissez au moins un département.")
        return data


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "token_id", "scopes", "expires_at", "state_display"]
    list_select_related = ["organisation"]
    search_fields = ["name", "token_id", "organisation__name"]
    actions = ["revoke"]
    readonly_fields = ["organisation", "name", "agent", "token_id", "scopes", "expires_at", "created_at", "created_by",
                       "revoked_at", "revoked_by"]

    @admin.display(description="état")
    def state_display(self, obj):
        return obj.state

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientCreationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "name", "scopes", "expires_at", "role", "departements", "dt", "reason"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable: a client is revoked and replaced, never edited
        data = form.cleaned_data
        try:
            client, token = services.create_client(
                organisation=data["organisation"], name=data["name"], scopes=data["scopes"], role=data["role"],
                departements=data.get("departements") or [], dt=data.get("dt"), expires_at=data.get("expires_at"),
                created_by=request.user, reason=data["reason"], request=request)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        obj.__dict__.update({k: v for k, v in client.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._token = token

    def response_add(self, request, obj, post_url_continue=None):
        hab = obj.agent.habilitations.order_by("-pk").first()
        if hab is not None and hab.approved_at is None:
            messages.warning(request, "L’habilitation du client attend l’approbation de l’autorité compétente : "
                                      "le jeton recevra 403 jusque-là.")
        return TemplateResponse(request, "api/admin_token.html", {
            **self.admin_site.each_context(request), "title": "Jeton du client de l’API", "client": obj,
            "token": obj._token, "opts": self.model._meta,
        })

    @admin.action(description="Révoquer les clients sélectionnés (effet à la requête suivante)")
    def revoke(self, request, queryset):
        for client in queryset:
            services.revoke_client(client, revoked_by=request.user, request=request)
        messages.success(request, f"{queryset.count()} client(s) révoqué(s).")

    def has_delete_permission(self, request, obj=None):
        return False

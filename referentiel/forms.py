import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


class EmailAuthenticationForm(AuthenticationForm):
    # 254: the longest address SMTP can carry (RFC 5321) and the Agent.email column; without it
    # forms.EmailField accepts 320 characters and django-axes fails writing the attempt (255).
    username = forms.EmailField(
        label="Adresse e-mail professionnelle",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username", "class": "fr-input"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "fr-password__input fr-input"}),
    )

    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        # Per-account delay (referentiel/login_throttle.py), checked before the password is.
        from . import login_throttle

        email = self.cleaned_data.get("username")
        if not (email and self.cleaned_data.get("password")):
            return super().clean()
        # The check, the password test and the failure's journal entry in one serialised
        # transaction; the refusal is raised after it commits (raising inside would roll the
        # journal entry back).
        with login_throttle.serialized(email):
            wait = login_throttle.wait_for(email)
            if wait:
                error = forms.ValidationError(login_throttle.refuse(self.request, email, wait), code="throttled")
            else:
                try:
                    return super().clean()
                except forms.ValidationError as exc:
                    error = exc
        raise error


class AgentPasswordResetForm(PasswordResetForm):
    """Also for accounts created without a password (by an administrator or the bulk import):
    « Mot de passe oublié » is how a new agent chooses theirs. Inactive accounts get nothing."""

    def get_users(self, email):
        from .models import Agent

        return Agent.objects.filter(email__iexact=email.strip(), is_active=True)


class DnaDesignationForm(forms.Form):
    """A prefecture agent designates a SIAO agent of their département for the DNA data (R744-48)."""

    agent = forms.ModelChoiceField(label="Agent du SIAO", queryset=None,
                                   help_text="Agents ayant une habilitation SIAO en cours sur le département.")
    departement = forms.ModelChoiceField(label="Département", queryset=None)
    valid_until = forms.DateField(label="Habilité jusqu’au", widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text="Format JJ/MM/AAAA.")
    reason = forms.CharField(label="Référence de la décision du préfet (arrêté, note…)", max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, departements, user, **kwargs):
        from django.utils import timezone

        from .models import Agent, Habilitation, Role

        super().__init__(*args, **kwargs)
        self.fields["departement"].queryset = departements
        siao = Habilitation.objects.active().filter(role=Role.SIAO, departements__in=departements)
        self.fields["agent"].queryset = (Agent.objects.filter(pk__in=siao.values("agent_id"), is_active=True)
                                         .exclude(pk=user.pk).order_by("last_name", "first_name", "email"))
        self.fields["agent"].label_from_instance = lambda a: f"{a.get_full_name() or a.email} ({a.email})"
        self.initial.setdefault("valid_until", timezone.localdate() + datetime.timedelta(days=365))
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "fr-select" if isinstance(field, forms.ModelChoiceField)
                                          else "fr-input")

    def clean(self):
        from django.utils import timezone

        from .models import Habilitation, Role

        data = super().clean()
        agent, dep = data.get("agent"), data.get("departement")
        if agent and dep and not Habilitation.objects.active().filter(agent=agent, role=Role.SIAO,
                                                                      departements=dep).exists():
            self.add_error("agent", f"Cet agent n’est pas agent du SIAO du département {dep.code}.")
        if data.get("valid_until") and data["valid_until"] < timezone.localdate():
            self.add_error("valid_until", "La date de fin est déjà passée.")
        return data

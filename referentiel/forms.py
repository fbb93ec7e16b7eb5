from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Adresse e-mail professionnelle",
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
        if email and self.cleaned_data.get("password"):
            wait = login_throttle.wait_for(email)
            if wait:
                raise forms.ValidationError(login_throttle.refuse(self.request, email, wait), code="throttled")
        return super().clean()


class AgentPasswordResetForm(PasswordResetForm):
    """Also for accounts created without a password (by an administrator or the bulk import):
    « Mot de passe oublié » is how a new agent chooses theirs. Inactive accounts get nothing."""

    def get_users(self, email):
        from .models import Agent

        return Agent.objects.filter(email__iexact=email.strip(), is_active=True)

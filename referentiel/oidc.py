"""ProConnect / OpenID Connect login, switched on by OIDC_ENABLED and its variables.

An identity provider only proves who the person is: the agent must already exist (matched
by e-mail, case-insensitively) and keeps exactly the habilitations granted here.
"""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class AgentOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims):
        """Only an address the identity provider says it has verified (``email_verified``
        true) may match an agent: an unverified one could have been typed by anybody, e.g.
        an agent's address registered at a lax provider, and would open that agent's
        account. Anything else is refused (mozilla-django-oidc then fails the login)."""
        return bool(super().verify_claims(claims)) and claims.get("email_verified") in (True, "true")

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def get_user(self, user_id):
        """As mozilla-django-oidc's, with the agent's valid habilitations in the same query
        (referentiel.perimeter.agent_with_habilitations, issue 15)."""
        from .perimeter import agent_with_habilitations

        return agent_with_habilitations(user_id)

    def create_user(self, claims):  # never reached: OIDC_CREATE_USER is False
        return None

    def update_user(self, user, claims):
        return user

"""ProConnect / OpenID Connect login, switched on by OIDC_ENABLED and its variables.

An identity provider only proves who the person is: the agent must already exist (matched
by e-mail, case-insensitively) and keeps exactly the habilitations granted here.
"""

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class AgentOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims):
        """The e-mail address opens an existing agent's account, so it must be one the identity
        provider vouches for; anything else is refused (mozilla-django-oidc fails the login).

        - A provider that says whether it verified the address (``email_verified``, standard
          OpenID Connect claim): only ``true`` is accepted.
        - ProConnect sends no ``email_verified``: its claims are ``sub``, ``given_name``,
          ``usual_name``, ``email``, ``uid``, ``siret`` and ``idp_id``, the address being the one
          the agent's own administration (the identity provider behind ProConnect) holds. Then the
          login is accepted only from the identity providers listed in ``OIDC_TRUSTED_IDP_IDS``
          (``idp_id``): a provider where anyone may register an address of their choosing is
          not in that list. With no list, such a login is refused."""
        if not super().verify_claims(claims):
            return False
        if "email_verified" in claims:
            return claims["email_verified"] in (True, "true")
        trusted = getattr(settings, "OIDC_TRUSTED_IDP_IDS", ())
        return bool(trusted) and str(claims.get("idp_id") or "") in trusted

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

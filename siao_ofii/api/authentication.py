"""``Authorization: Bearer <id>.<secret>``: the request is made by the client's service agent."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .services import TokenError, authenticate_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword != self.keyword or not token.strip():
            request._api_token_id = ""
            raise exceptions.AuthenticationFailed("En-tête Authorization attendu : « Bearer <jeton> ».")
        request._api_token_id = token.strip().partition(".")[0][:32]
        try:
            client = authenticate_token(token)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return client.agent, client

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "siao_ofii.api.authentication.BearerTokenAuthentication"
    name = "jeton"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "<identifiant>.<secret>"}

"""Rate limit per client (issue 14, point 4): API_RATE_LIMIT requests per period for each token,
counted in the Django cache; anonymous calls (schema, refused tokens) per address. Over the
limit: 429 with ``Retry-After``. A refused token is counted before its 401 is answered
(``ApiView.perform_authentication``): DRF authenticates before it throttles, so without that
wrong tokens were never counted at all.

The address is the project's one rule (``client_ip``: X-Forwarded-For only behind
TRUSTED_PROXY_COUNT proxies), not DRF's default, which believes any X-Forwarded-For header a
client sends and so let a client pick a new address for every call."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from siao_ofii.audit.services import client_ip

from .models import ApiClient


class ClientRateThrottle(SimpleRateThrottle):
    scope = "api_client"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def get_ident(self, request):
        return client_ip(request) or "inconnue"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiClient):
            ident = f"client-{request.auth.token_id}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return f"throttle_api_{ident}"

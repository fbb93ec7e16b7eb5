"""Creating a client in the administration shows its token once; revoking takes effect at the
next request; both are journaled (issue 14, point 2)."""

import re

from django.urls import reverse

from referentiel.models import Departement, Organisation
from siao_ofii.api.models import ApiClient
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.helpers import login

from .conftest import bearer


def test_create_show_once_then_revoke(client, demo):
    org = Organisation.objects.create(name="SIAO du Rhône (SI)", kind=Organisation.Kind.SIAO)
    login(client, demo["admin"])
    response = client.post(reverse("admin:api_apiclient_add"), {
        "organisation": org.pk, "name": "SI-SIAO du Rhône", "scopes": ["list:write", "list:read"],
        "expires_at_0": "24/11/2027", "expires_at_1": "10:00:00", "role": "SIAO",
        "departements": [Departement.objects.get(code="69").pk], "reason": "convention n° 12",
    })
    assert response.status_code == 200, response.content.decode()[:3000]
    page = response.content.decode()
    token = re.search(r'<code id="api-token">([^<]+)</code>', page).group(1)
    api_client = ApiClient.objects.get()
    assert token.startswith(api_client.token_id + ".") and "ne sera plus jamais affiché" in page
    assert api_client.scopes == ["list:read", "list:write"] and api_client.created_by == demo["admin"]
    # Never shown again.
    change = client.get(reverse("admin:api_apiclient_change", args=[api_client.pk])).content.decode()
    assert token.split(".")[1] not in change and api_client.secret_hash not in change
    created = AuditEvent.objects.get(action=AuditAction.API_CLIENT_CREATED)
    assert created.actor == demo["admin"] and created.details["token_id"] == api_client.token_id
    assert AuditEvent.objects.filter(action=AuditAction.HABILITATION_GRANTED, actor=demo["admin"],
                                     details__agent=api_client.agent.email).exists()
    client.logout()
    assert client.get("/api/v1/listes/", **bearer(token)).status_code == 200
    login(client, demo["admin"])
    response = client.post(reverse("admin:api_apiclient_changelist"),
                           {"action": "revoke", "_selected_action": [api_client.pk]})
    assert response.status_code == 302
    client.logout()
    assert client.get("/api/v1/listes/", **bearer(token)).status_code == 401
    revoked = AuditEvent.objects.get(action=AuditAction.API_CLIENT_REVOKED)
    assert revoked.actor == demo["admin"] and revoked.details["new"]["revoked_at"]

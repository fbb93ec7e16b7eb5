"""Machine-account life cycle (issue 14, point 2). Every change is journaled.

A client is a service agent (``referentiel.Agent`` with an unusable password) plus a token.
Its perimeter is an ordinary habilitation granted through ``referentiel.services``: the same
granting authority and four-eyes as for a person (an OFII client's DT habilitation waits for
headquarters, R744-47; a return-flow reader's SIAO_DNA habilitation for the prefecture, R744-48).
"""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from referentiel.models import Agent, Role
from referentiel.services import grant_habilitation
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from .models import ApiClient, Scope

# Administrator, prefecture and headquarters-wide roles are for people.
CLIENT_ROLES = [Role.SIAO, Role.SIAO_DNA, Role.DT, Role.SIEGE]


class TokenError(Exception):
    """Why a presented token is refused (French, given in the 401 answer)."""


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _snapshot(client):
    return {"client": client.name, "organisation": client.organisation.name, "token_id": client.token_id,
            "scopes": list(client.scopes), "expires_at": client.expires_at.isoformat(),
            "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None}


@transaction.atomic
def create_client(*, organisation, name, scopes, role, created_by, reason, departements=(), dt=None,
                  expires_at=None, request=None):
    """Create the client, its service agent and its habilitation. Returns ``(client, token)``;
    the token ``<id>.<secret>`` is given here only, the database keeps a hash of the secret."""
    scopes = sorted({Scope(s).value for s in scopes})
    if Role(role) not in CLIENT_ROLES:
        raise ValueError("Ce rôle ne peut pas être donné à un client de l’API.")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    agent = Agent.objects.create_user(
        f"api-{token_id}@clients-api.invalid", password=None, first_name="Client API", last_name=name[:150],
        organisation=organisation,
    )  # create_user(password=None) stores an unusable password: no login, no password reset
    client = ApiClient(organisation=organisation, name=name, agent=agent, token_id=token_id,
                       secret_hash=_hash(secret), scopes=scopes, created_by=created_by)
    if expires_at:
        client.expires_at = expires_at
    client.save()
    record(AuditAction.API_CLIENT_CREATED, request=request, actor=created_by, obj=client, **_snapshot(client))
    grant_habilitation(agent=agent, role=role, granted_by=created_by, reason=reason, departements=departements,
                       dt=dt, request=request)
    return client, f"{token_id}.{secret}"


@transaction.atomic
def revoke_client(client, *, revoked_by, request=None):
    """Takes effect at the next request (the token is checked on every call)."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at:
        return client
    before = _snapshot(client)
    client.revoked_at, client.revoked_by = timezone.now(), revoked_by
    client.save(update_fields=["revoked_at", "revoked_by"])
    record(AuditAction.API_CLIENT_REVOKED, request=request, actor=revoked_by, obj=client,
           old=before, new=_snapshot(client), **{"token_id": client.token_id})
    return client


def split_token(token):
    token_id, _, secret = (token or "").strip().partition(".")
    return token_id, secret


def authenticate_token(token, now=None):
    """The client of ``token``, or TokenError. Unknown, wrong, expired and revoked tokens are
    told apart in the journal only (the caller gets one French message per case)."""
    token_id, secret = split_token(token)
    client = (ApiClient.objects.select_related("agent", "organisation").filter(token_id=token_id).first()
              if token_id and secret else None)
    # Compared in constant time; an unknown id is compared too, against a dummy hash.
    expected = client.secret_hash if client else "0" * 64
    if not hmac.compare_digest(_hash(secret), expected) or client is None:
        raise TokenError("Jeton d’accès inconnu ou erroné.")
    if client.revoked_at:
        raise TokenError("Ce jeton d’accès a été révoqué.")
    if client.expires_at <= (now or timezone.now()):
        raise TokenError("Ce jeton d’accès a expiré : demandez-en un nouveau à l’administrateur.")
    if not client.agent.is_active:
        raise TokenError("Le compte de service de ce client est désactivé.")
    return client

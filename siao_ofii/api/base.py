"""What every endpoint shares: bearer authentication, the scope check (403), the journal of
every call, idempotent writes and raw file bodies."""

import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework import exceptions, permissions
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from referentiel.perimeter import has_capability
from siao_ofii.audit.models import AuditAction
from siao_ofii.uploads import too_large_message
from siao_ofii.audit.services import record

from .models import SCOPE_CAPABILITY, ApiClient, IdempotentResponse
from .problems import ProblemError

MAX_MB = None  # computed from settings at call time


class HasScope(permissions.BasePermission):
    """The token carries the endpoint's scope, and the service agent's habilitation gives the
    matching capability (a scope never widens a habilitation). Refused: 403."""

    def has_permission(self, request, view):
        client = request.auth
        if not isinstance(client, ApiClient):
            return False
        if not client.has_scope(view.scope):
            self.message = f"Ce jeton n’est pas autorisé pour l’opération « {view.scope} »."
            return False
        if not has_capability(request.user, SCOPE_CAPABILITY[view.scope]):
            self.message = ("Le compte de service de ce client n’a pas d’habilitation valide pour cette opération "
                            "(habilitation en attente d’approbation, expirée ou révoquée).")
            return False
        return True


class ApiView(APIView):
    scope = None
    permission_classes = [permissions.IsAuthenticated, HasScope]

    def perform_authentication(self, request):
        """A call without a valid token is counted against its address before its 401: DRF
        checks permissions (the 401) before throttles, so wrong or missing tokens were never
        counted, and guessing tokens or filling the journal had no limit."""
        try:
            request.user
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        if request.auth is None:  # no token at all: refused by IsAuthenticated next
            self.check_throttles(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        client = request.auth if isinstance(getattr(request, "_auth", None), ApiClient) else None
        # Every call, answered or refused, in the journal (issue 14, point 2).
        record(AuditAction.API_CALL, request=request, actor=client.agent if client else None,
               client=client.name if client else None,
               token_id=client.token_id if client else (getattr(request, "_api_token_id", "") or None),
               method=request.method, path=request.path[:500].replace("\x00", "\ufffd"), status=response.status_code,
               scope=str(self.scope) if self.scope else None,
               replayed=True if response.get("Idempotent-Replayed") else None)
        return response


def _fingerprint(request, data):
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if isinstance(data, bytes):
        digest.update(data)
    else:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def idempotent(request, handler, *, body=True):
    """Run ``handler()`` once per ``Idempotency-Key`` of the client: a retry with the same key and
    the same request gets the stored answer (header ``Idempotent-Replayed: true``) and changes
    nothing; the same key with another request is refused (422). Only successful answers are
    kept: a refused write changed nothing and may be retried as it is."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ProblemError(428, "Chaque écriture porte un en-tête Idempotency-Key (par exemple un UUID) : "
                                "en cas de nouvel essai, le même en-tête garantit qu’aucune seconde version "
                                "n’est créée.")
    if len(key) > 255:
        raise ProblemError(400, "L’en-tête Idempotency-Key ne doit pas dépasser 255 caractères.")
    fingerprint = _fingerprint(request, request.data if body else b"")  # no body: never parsed
    try:
        with transaction.atomic():
            stored, created = IdempotentResponse.objects.get_or_create(
                client=request.auth, key=key, defaults={"fingerprint": fingerprint})
    except IntegrityError:  # the same key sent twice at the same instant
        stored, created = IdempotentResponse.objects.get(client=request.auth, key=key), False
    if not created:
        if stored.fingerprint != fingerprint:
            raise ProblemError(422, "Cette clé Idempotency-Key a déjà servi pour une autre requête : "
                                    "utilisez une nouvelle clé pour chaque nouvelle écriture.")
        if stored.status_code is None:
            raise ProblemError(409, "Une requête avec cette clé Idempotency-Key est en cours : réessayez dans "
                                    "quelques secondes.")
        headers = {"Idempotent-Replayed": "true"}
        if stored.location:
            headers["Location"] = stored.location
        return Response(stored.body, status=stored.status_code, headers=headers)
    try:
        response = handler()
    except BaseException:
        stored.delete()
        raise
    stored.status_code, stored.body, stored.location = response.status_code, response.data, response.get("Location", "")
    stored.save(update_fields=["status_code", "body", "location"])
    return response


class FileBodyParser(BaseParser):
    """A spreadsheet or CSV sent as the request body (no multipart), read up to UPLOAD_MAX_BYTES:
    the same limit as the upload page (issue 14, point 4)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.UPLOAD_MAX_BYTES
        request = parser_context["request"]
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > limit:
            raise ProblemError(413, too_large_message())
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise ProblemError(413, too_large_message())
        return data


FILE_MEDIA_TYPES = [
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
]

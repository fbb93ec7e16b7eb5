"""Errors as ``application/problem+json`` (RFC 9457), in French (issue 14, point 4)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

PROBLEM = "application/problem+json"
TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Opération non autorisée",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    406: "Format de réponse non disponible",
    409: "Conflit",
    413: "Fichier trop volumineux",
    415: "Format non pris en charge",
    422: "Requête impossible à traiter",
    428: "En-tête Idempotency-Key obligatoire",
    429: "Trop de requêtes",
}


class ProblemError(exceptions.APIException):
    """An API refusal with a status, a French message and optional details."""

    def __init__(self, status_code, detail, **extra):
        self.status_code = status_code
        self.extra = extra
        super().__init__(detail)


def problem(status_code, detail, *, instance="", headers=None, **extra):
    body = {"type": "about:blank", "title": TITLES.get(status_code, "Erreur"), "status": status_code,
            "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM)


def _detail(data):
    if isinstance(data, dict) and set(data) == {"detail"}:
        return str(data["detail"]), {}
    if isinstance(data, (list, dict)):
        return "Certaines valeurs sont invalides.", {"errors": data}
    return str(data), {}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Ressource introuvable ou hors de votre périmètre.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_handler(exc, context)
    if response is None:
        return None
    detail, extra = _detail(response.data)
    extra.update(getattr(exc, "extra", {}) or {})
    request = context.get("request")
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem(response.status_code, detail, instance=request.path if request else "", headers=headers,
                   **extra)

"""The integrators' page (issue 14, point 5): public, no personal data."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from exchanges.services.parsing import FIELD_LABELS

from .models import Scope

# API field → what the instruction (Annex 2 / II.A.2) calls it.
LIST_FIELDS = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date", "agdref",
               "nationality"]


@require_GET
def integrators(request):
    base = request.build_absolute_uri("/api/v1/").rstrip("/")
    return render(request, "api/integrators.html", {
        "title": "API SIAO ↔ OFII : guide des intégrateurs", "base": base,
        "scopes": [(value, label.split(" — ", 1)[1]) for value, label in Scope.choices], "fields": [(f, FIELD_LABELS.get(f, f)) for f in LIST_FIELDS],
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024), "rate": settings.API_RATE_LIMIT,
    })


@csrf_exempt  # a bearer-token API: no cookie, no CSRF; answering 404 changes nothing
def not_found(request):
    from .problems import PROBLEM, TITLES

    return JsonResponse({"type": "about:blank", "title": TITLES[404], "status": 404,
                         "detail": "Aucune opération de l’API à cette adresse.", "instance": request.path},
                        status=404, content_type=PROBLEM)

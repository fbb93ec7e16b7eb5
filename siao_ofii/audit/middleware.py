"""Every refusal goes to the journal (issue 10, point 8; R744-47: access to the DNA data is
traced). 404s for objects outside the perimeter are journaled where they are decided
(``referentiel.perimeter.get_in_perimeter_or_404``); every 403 answer, wherever it comes from
(a role without the capability, the administration, a missing habilitation, CSRF), here."""

from django.core.exceptions import PermissionDenied

from .models import AuditAction
from .services import record


class RefusalAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            record(
                AuditAction.ACCESS_DENIED,
                request=request,
                path=request.path[:500],
                method=request.method,
                status=403,
                reason=getattr(request, "_refusal_reason", "")[:200],
            )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            request._refusal_reason = str(exception) or "capacité absente"
        return None

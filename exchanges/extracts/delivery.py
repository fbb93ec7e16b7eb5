"""Handing an encrypted archive to its recipient: the download and the audited password reveal.

Shared by the SIAO → OFII extracts (``exchanges.extract_views``) and the OFII → SIAO return
flow (``exchanges.returns.views``). The caller has already fetched the archive through the
perimeter rule (``referentiel.perimeter.get_in_perimeter_or_404``).
"""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from siao_ofii import locks
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record
from siao_ofii.privatefiles.storage import private_storage


def refuse_cross_site(request):
    # A link on another site must not make an agent's browser download (and log in their name)
    # an archive: browsers say where a navigation comes from in Sec-Fetch-Site.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise PermissionDenied("Téléchargement lancé depuis un autre site : refusé.")


def _details(archive):
    return {"departement": archive.departement.code, "period": archive.period, "version": archive.version}


def download_response(request, archive):
    try:
        handle = private_storage().open(archive.file_path)  # streamed, whatever the backend
    except FileNotFoundError:
        raise Http404("Archive indisponible.") from None
    record(AuditAction.DOWNLOAD, request=request, obj=archive, sha256=archive.sha256, **_details(archive))
    response = FileResponse(handle, as_attachment=True, filename=archive.file_name, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response


@sensitive_variables("password")
def reveal(request, archive):
    """``(password, "")``, or ``(None, refusal)`` when the reveal throttle refuses; both journaled.
    Shared by the page below and the API (``siao_ofii.api``)."""
    from .services import reveal_refusal

    # The limits are counted in the journal: the check and the reveal's entry are taken one at
    # a time per agent and per archive (siao_ofii.locks), or a burst of simultaneous requests
    # would all pass the check.
    with locks.serialized(f"reveal-agent:{request.user.pk}", f"reveal-archive:{archive._meta.label}:{archive.pk}"):
        refusal = reveal_refusal(request.user, archive)
        if refusal:
            record(AuditAction.PASSWORD_REVEAL, request=request, obj=archive, refused=refusal, **_details(archive))
            return None, refusal
        password = archive.reveal_password()  # decrypted first: only a password actually shown is recorded
        record(AuditAction.PASSWORD_REVEAL, request=request, obj=archive, **_details(archive))
    return password, ""


@sensitive_variables("password")
def password_response(request, archive, template, context):
    """The password shown in the page (never in a URL), the reveal written to the audit log."""
    password, refusal = reveal(request, archive)
    if refusal:
        return render(request, template, {
            **context, "title": "Affichage du mot de passe suspendu", "extract": archive, "refusal": refusal,
        }, status=429)
    response = render(request, template, {
        **context, "title": f"Mot de passe de {archive.file_name}", "extract": archive, "password": password,
        "revealed_at": timezone.now(),
    })
    response["Cache-Control"] = "private, no-store"
    return response

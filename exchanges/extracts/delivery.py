"""Handing an encrypted archive to its recipient: the download and the audited password reveal.

Shared by the SIAO → OFII extracts (``exchanges.extract_views``) and the OFII → SIAO return
flow (``exchanges.returns.views``). The caller has already fetched the archive through the
perimeter rule (``referentiel.perimeter.get_in_perimeter_or_404``).
"""

import datetime

from django.conf import settings
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


def reveal_refusal(user, extract, now=None):
    """Why the archive password cannot be shown now ("" when it can): at most
    PASSWORD_REVEALS_PER_USER_HOUR reveals per agent and PASSWORD_REVEALS_PER_ARCHIVE_HOUR
    per archive in any hour, counted in the audit journal (refused reveals are journaled too,
    with ``refused``, and do not count). A stolen session cannot harvest every password; an
    agent opening the month's archives one by one is far below the limits."""
    from siao_ofii.audit.models import AuditEvent

    since = (now or timezone.now()) - datetime.timedelta(hours=1)
    shown = AuditEvent.objects.filter(action=AuditAction.PASSWORD_REVEAL, timestamp__gt=since).exclude(
        details__has_key="refused")
    if shown.filter(actor=user).count() >= settings.PASSWORD_REVEALS_PER_USER_HOUR:
        return (f"Vous avez affiché {settings.PASSWORD_REVEALS_PER_USER_HOUR} mots de passe d’archive en moins "
                "d’une heure : par sécurité, l’affichage est suspendu. Réessayez dans une heure ; si ce n’est pas "
                "vous, signalez-le à l’administrateur.")
    if shown.filter(object_type=extract._meta.label, object_id=str(extract.pk)).count() >= \
            settings.PASSWORD_REVEALS_PER_ARCHIVE_HOUR:
        return (f"Le mot de passe de cette archive a été affiché {settings.PASSWORD_REVEALS_PER_ARCHIVE_HOUR} fois "
                "en moins d’une heure : par sécurité, l’affichage est suspendu. Réessayez dans une heure.")
    return ""


@sensitive_variables("password")
def reveal(request, archive):
    """``(password, "")``, or ``(None, refusal)`` when the reveal throttle refuses; both journaled.
    Shared by the page below and the API (``siao_ofii.api``)."""
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

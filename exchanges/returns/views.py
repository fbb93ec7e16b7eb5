"""Pages of the return flow OFII → SIAO (instruction II.B; R744-48 2°). Thin views: the work is
in ``exchanges.returns.services`` / ``crosscheck``; the perimeter in ``referentiel.perimeter``
(capability first → 403 + audit, then département/object → 404 + audit).

- OFII (capability UPLOAD_REVERSE_FLOW: DT agents for their DT's départements, headquarters
  for all): dashboard per département, upload, progress, report.
- SIAO agents habilitated by the prefect (capability READ_REVERSE_FLOW, role SIAO_DNA, only
  the départements of a *valid* habilitation): received archives, password, cross-check.
"""

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exchanges import periods
from exchanges.extract_views import DashboardFilterForm
from exchanges.extracts import delivery
from exchanges.forms import UploadForm
from exchanges.models import ReturnArchive, ReturnFile, ReturnState
from exchanges.services.reading import FileRejected
from referentiel.perimeter import (
    Capability,
    departement_in_perimeter_or_404,
    get_in_perimeter_or_404,
    has_capability,
    require_capability,
    visible_departements,
)
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from . import services
from .columns import FIELDS
from .crosscheck import cross_check, default_crosscheck_period

UPLOAD = Capability.UPLOAD_REVERSE_FLOW
READ = Capability.READ_REVERSE_FLOW
PURPOSE = ("à l’orientation des demandeurs d’asile ayant refusé ou quitté une offre d’hébergement "
           "(articles L.744-7 et R744-48 2° du CESEDA)")


# --- OFII ----------------------------------------------------------------------------------

@require_GET
def dashboard(request):
    require_capability(request, UPLOAD)
    national = has_capability(request.user, Capability.NATIONAL_DASHBOARD)
    form = DashboardFilterForm(request.GET or None, national=national)
    period = form.selected_period
    deps = form.filter(visible_departements(request.user, UPLOAD).select_related("dt", "region"))
    months = services.overview(deps, period)
    return render(request, "exchanges/returns/dashboard.html", {
        "title": "Flux retour OFII → SIAO", "form": form, "national": national, "period": period,
        "period_label": periods.label(period), "months": months,
        "sent_count": sum(1 for m in months if m.sent),
    })


@require_http_methods(["GET", "POST"])
def upload(request, code):
    require_capability(request, UPLOAD)
    dep = departement_in_perimeter_or_404(request, UPLOAD, code)
    form = UploadForm.for_request(request, periods=services.selectable_periods())
    form.fields["period"].label = "Mois du fichier"
    form.fields["file"].label = "Extraction du DNA"
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            rf = services.receive_upload(dep, form.cleaned_data["period"], f.read(), name=f.name,
                                         user=request.user, request=request)
        except FileRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("exchanges:return_processing", pk=rf.pk)
    return render(request, "exchanges/returns/upload.html", {
        "title": f"Déposer le flux retour — {dep.code} {dep.name}", "form": form, "departement": dep,
        "fields": FIELDS,
    })


def _get_file(request, pk):
    require_capability(request, UPLOAD)
    qs = ReturnFile.objects.select_related("departement", "uploaded_by")
    return get_in_perimeter_or_404(request, qs, UPLOAD, pk=pk)


@require_GET
def processing(request, pk):
    rf = _get_file(request, pk)
    if rf.state != ReturnState.PROCESSING:
        return redirect("exchanges:return_detail", pk=rf.pk)
    return render(request, "exchanges/returns/processing.html", {"title": "Analyse du flux retour", "rf": rf})


@require_GET
def status(request, pk):
    rf = _get_file(request, pk)
    done = rf.state != ReturnState.PROCESSING
    return JsonResponse({
        "state": rf.state, "state_label": rf.get_state_display(), "progress": 100 if done else rf.progress,
        "done": done, "next": reverse("exchanges:return_detail", args=[rf.pk]) if done else None,
    })


@require_GET
def detail(request, pk):
    rf = _get_file(request, pk)
    if rf.state == ReturnState.PROCESSING:
        return redirect("exchanges:return_processing", pk=rf.pk)
    archive = ReturnArchive.objects.filter(return_file=rf).first()
    return render(request, "exchanges/returns/detail.html", {
        "title": f"Flux retour {rf.departement.code} — {periods.label(rf.period)}", "rf": rf, "archive": archive,
        "period_label": periods.label(rf.period), "file_errors": rf.report.get("file_errors", []),
        "issues": rf.report.get("issues", []), "issue_count": rf.report.get("issue_count", 0),
        "extra_columns": rf.report.get("extra_columns", []),
    })


# --- SIAO agents habilitated by the prefect ------------------------------------------------

@require_GET
def inbox(request):
    require_capability(request, READ)
    deps = list(visible_departements(request.user, READ))
    archives = services.archives_for(request.user, READ)
    period = periods.current()
    return render(request, "exchanges/returns/inbox.html", {
        "title": "Flux retour reçu de l’OFII", "departements": deps, "archives": archives,
        "waiting": [a for a in archives if not a.downloaded_by_user], "period": period,
        "previous_period": periods.previous(period), "purpose": PURPOSE,
    })


def _get_archive(request, pk):
    require_capability(request, READ)
    return get_in_perimeter_or_404(request, ReturnArchive.objects.available().select_related("departement"),
                                   READ, pk=pk)


@require_GET
def download(request, pk):
    delivery.refuse_cross_site(request)
    return delivery.download_response(request, _get_archive(request, pk))


@never_cache
@require_POST
def reveal_password(request, pk):
    archive = _get_archive(request, pk)
    return delivery.password_response(request, archive, "exchanges/extracts/password.html", {
        "back_url": reverse("exchanges:return_inbox"), "back_label": "Retour au flux retour reçu",
        "purpose": PURPOSE,
    })


@require_GET
def crosscheck(request, code):
    """Visible only to READ_REVERSE_FLOW (SIAO_DNA); a nominative read, journaled. Nothing of it
    is stored or shown to anyone else (R744-50: see exchanges.returns.crosscheck)."""
    require_capability(request, READ)
    dep = departement_in_perimeter_or_404(request, READ, code)
    period = request.GET.get("period", "")
    if not periods.is_valid(period):
        period = default_crosscheck_period(dep)
    result = cross_check(dep, period)
    record(AuditAction.NOMINATIVE_READ, request=request, departement=dep, page="rapprochement_flux_retour",
           period=period, flagged=len(result.flagged))
    choices = [periods.add_months(periods.current(), -i) for i in range(12)]
    return render(request, "exchanges/returns/crosscheck.html", {
        "title": f"Personnes signalées par le flux retour — {dep.code} {dep.name}", "departement": dep,
        "result": result, "period": period, "period_label": periods.label(period),
        "return_period_labels": [periods.label(p) for p in result.return_periods],
        "period_choices": [(p, periods.label(p).capitalize()) for p in choices],
    })

"""Pages of the SIAO agent: my lists, upload, processing, column mapping, report, row fix,
validation. Thin views: the work is in ``exchanges.services``; the perimeter in
``referentiel.perimeter`` (capability first → 403, then département/object → 404 + audit)."""

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referentiel.perimeter import (
    Capability,
    departement_in_perimeter_or_404,
    get_in_perimeter_or_404,
    has_capability,
    visible_departements,
)
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from .forms import MappingForm, RowForm, UploadForm
from .periods import label as _period_label
from .extracts import progress as archive_progress
from .models import Extract, ListRow, ListState, MonthlyList
from .services import workflow
from .services.parsing import FIELD_LABELS
from .services.reading import FileRejected

CAP = Capability.SUBMIT_LIST
ISSUES_PER_PAGE = 50
ROWS_PER_PAGE = 100


def _require(request):
    if not has_capability(request.user, CAP):
        raise PermissionDenied


def _get_list(request, pk):
    _require(request)
    qs = MonthlyList.objects.select_related("departement", "uploaded_by", "validated_by")
    return get_in_perimeter_or_404(request, qs, CAP, pk=pk)


def deadline_status(ml):
    """(text, overdue) for one list: once validated, the deadline is met (or was missed), and
    a countdown would mislead."""
    if ml.state in (ListState.VALIDATED, ListState.SUPERSEDED) and ml.validated_at:
        return ("liste validée en retard" if ml.is_late else "liste validée dans les délais"), ml.is_late
    return time_left(ml.period)


def time_left(period, now=None):
    """(text, overdue) for the deadline of ``period``."""
    delta = workflow.deadline(period) - (now or timezone.now())
    overdue = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    days, hours = seconds // 86400, (seconds % 86400) // 3600
    parts = []
    if days:
        parts.append(f"{days} jour{'s' if days > 1 else ''}")
    if hours or not days:
        parts.append(f"{hours} heure{'s' if hours > 1 else ''}")
    text = " et ".join(parts)
    return (f"échéance dépassée depuis {text}" if overdue else f"il reste {text}"), overdue


@require_GET
def my_lists(request):
    _require(request)
    period = workflow.current_period()
    deps = list(visible_departements(request.user, CAP).order_by("sort_key"))
    history = (
        MonthlyList.objects.visible_to(request.user, CAP)
        .select_related("departement", "uploaded_by", "validated_by")
        .order_by("departement__sort_key", "-period", "-version", "-uploaded_at")
    )
    by_dep = {d.pk: [] for d in deps}
    for ml in history[:500]:
        ml.period_label = _period_label(ml.period)
        by_dep.setdefault(ml.departement_id, []).append(ml)
    left, overdue = time_left(period)
    cards = []
    for dep in deps:
        lists = by_dep.get(dep.pk, [])
        current = [m for m in lists if m.period == period]
        validated = next((m for m in current if m.state == ListState.VALIDATED), None)
        pending = next((m for m in current if m.state in (ListState.DRAFT, ListState.PROCESSING, ListState.FAILED)), None)
        cards.append({"departement": dep, "validated": validated, "pending": pending, "history": lists[:24]})
    all_validated = bool(cards) and all(c["validated"] for c in cards)
    return render(request, "exchanges/my_lists.html", {
        "title": "Mes listes", "cards": cards, "period": period, "period_label": _period_label(period),
        "deadline": workflow.deadline(period), "time_left": left, "overdue": overdue and not all_validated,
        "all_validated": all_validated,
    })


@require_http_methods(["GET", "POST"])
def upload(request, code):
    _require(request)
    dep = departement_in_perimeter_or_404(request, CAP, code)
    form = UploadForm.for_request(request, periods=workflow.selectable_periods())
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            ml = workflow.receive_upload(dep, form.cleaned_data["period"], f.read(), name=f.name,
                                         user=request.user, request=request)
        except FileRejected as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("exchanges:processing", pk=ml.pk)
    return render(request, "exchanges/upload.html", {
        "title": f"Déposer la liste — {dep.code} {dep.name}", "form": form, "departement": dep,
    })


@require_GET
def processing(request, pk):
    ml = _get_list(request, pk)
    if ml.state != ListState.PROCESSING:
        return redirect(_after_processing_url(ml))
    return render(request, "exchanges/processing.html", {"title": "Analyse du fichier", "ml": ml})


def _after_processing_url(ml):
    if ml.state == ListState.FAILED and ml.report.get("needs_mapping") and ml.source_path:
        return reverse("exchanges:mapping", args=[ml.pk])
    return reverse("exchanges:detail", args=[ml.pk])


@require_GET
def status(request, pk):
    ml = _get_list(request, pk)
    done = ml.state != ListState.PROCESSING
    return JsonResponse({
        "state": ml.state, "state_label": ml.get_state_display(), "progress": 100 if done else ml.progress,
        "done": done, "next": _after_processing_url(ml) if done else None,
    })


def _archive_state(ml):
    """The archive of a validated list, as the agent sees it after « Valider »: ``(extract or
    None, percentage)``. The build runs after the validation has answered (a worker, or a
    background thread in-process: siao_ofii.background); the percentage is None while the
    build has not started, or when another process builds it without a shared cache."""
    extract = Extract.objects.filter(departement_id=ml.departement_id, period=ml.period, version=ml.version).first()
    return extract, (100 if extract else archive_progress.get("list", ml.pk))


@require_GET
def archive_status(request, pk):
    ml = _get_list(request, pk)
    if ml.state != ListState.VALIDATED:
        return JsonResponse({"state": ml.state, "state_label": ml.get_state_display(), "progress": 100,
                             "done": True, "next": reverse("exchanges:detail", args=[ml.pk])})
    extract, percent = _archive_state(ml)
    if extract:
        label = "archive chiffrée prête"
    elif percent is None:
        label = "archive chiffrée en attente de préparation"
    else:
        label = "archive chiffrée en préparation"
    return JsonResponse({
        "state": "built" if extract else "building", "state_label": label, "progress": percent or 0,
        "done": extract is not None, "next": reverse("exchanges:detail", args=[ml.pk]) if extract else None,
    })


@require_http_methods(["GET", "POST"])
def mapping(request, pk):
    ml = _get_list(request, pk)
    if not (ml.state == ListState.FAILED and ml.report.get("needs_mapping") and ml.source_path):
        return redirect("exchanges:detail", pk=ml.pk)
    form = MappingForm(request.POST or None, headers=ml.report.get("headers", []), missing=ml.report["missing"])
    if request.method == "POST" and form.is_valid():
        workflow.set_mapping(ml, form.cleaned_data, user=request.user, request=request)
        return redirect("exchanges:processing", pk=ml.pk)
    return render(request, "exchanges/mapping.html", {
        "title": "Correspondance des colonnes", "ml": ml, "form": form,
        "file_errors": ml.report.get("file_errors", []), "headers": ml.report.get("headers", []),
    })


def _issues(rows, kind):
    out = []
    for row in rows:
        items = []
        if kind in ("all", "errors"):
            items += [("Erreur", e) for e in row.errors]
        if kind in ("all", "warnings"):
            items += [("Avertissement", w) for w in row.warnings]
        for level, item in items:
            out.append({"row": row, "level": level, "column": item.get("column", ""), "message": item["message"]})
    return out


@require_GET
def detail(request, pk):
    ml = _get_list(request, pk)
    if ml.state == ListState.PROCESSING:
        return redirect("exchanges:processing", pk=ml.pk)
    kind = request.GET.get("type", "all")
    if kind not in ("all", "errors", "warnings"):
        kind = "all"
    rows = ListRow.objects.filter(monthly_list=ml).only("id", "line_number", "last_name", "first_name", "errors",
                                                        "warnings", "monthly_list_id")
    if kind == "errors":
        rows = rows.exclude(errors=[])
    elif kind == "warnings":
        rows = rows.exclude(warnings=[])
    else:
        rows = rows.exclude(errors=[], warnings=[])
    page = Paginator(rows.order_by("line_number"), ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    if page.object_list:
        record(AuditAction.NOMINATIVE_READ, request=request, obj=ml, departement=ml.departement, page="rapport")
    left, overdue = deadline_status(ml)
    return render(request, "exchanges/detail.html", {
        "title": f"Liste {ml.departement.code} — {_period_label(ml.period)}", "ml": ml, "page_obj": page,
        "issues": _issues(page.object_list, kind), "kind": kind, "query": f"type={kind}",
        "period_label": _period_label(ml.period), "deadline": workflow.deadline(ml.period),
        "time_left": left, "overdue": overdue, "file_errors": ml.report.get("file_errors", []),
        "columns": ml.report.get("columns", {}), "ignored_columns": ml.report.get("ignored_columns", []),
        "summary": {k: ml.report.get(k) or 0 for k in ("ada_count", "new_count", "left_count")},
        "has_previous": bool(ml.report.get("previous_list_id")),
        "can_validate": ml.state == ListState.DRAFT and ml.error_count == 0 and ml.row_count > 0,
        "archive": _archive_state(ml) if ml.state == ListState.VALIDATED else None,
    })


@require_GET
def rows(request, pk):
    ml = _get_list(request, pk)
    qs = ListRow.objects.filter(monthly_list=ml).order_by("line_number").defer("raw", "ofii_warnings")
    page = Paginator(qs, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    record(AuditAction.NOMINATIVE_READ, request=request, obj=ml, departement=ml.departement, page="lignes",
           number=page.number)
    return render(request, "exchanges/rows.html", {
        "title": f"Lignes de la liste {ml.departement.code} — {_period_label(ml.period)}", "ml": ml,
        "page_obj": page, "query": "", "with_agdref": ml.report.get("with_agdref", False),
        "period_label": _period_label(ml.period),
    })


@require_http_methods(["GET", "POST"])
def row_edit(request, pk, row_pk):
    ml = _get_list(request, pk)
    row = get_in_perimeter_or_404(request, ListRow.objects.filter(monthly_list=ml), CAP, pk=row_pk)
    row.monthly_list = ml
    with_agdref = ml.report.get("with_agdref", False)
    editable = ml.state == ListState.DRAFT
    form = RowForm(request.POST or None, initial=RowForm.initial_from(row), with_agdref=with_agdref)
    if request.method == "POST":
        if not editable:
            messages.error(request, "Seule une liste en brouillon peut être corrigée ligne par ligne.")
            return redirect("exchanges:detail", pk=ml.pk)
        if "remove" in request.POST:
            try:
                workflow.delete_row(row, user=request.user, request=request)
            except workflow.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Ligne {row.line_number} retirée de la liste.")
            return redirect(f"{reverse('exchanges:detail', args=[ml.pk])}?type=errors")
        if form.is_valid():
            try:
                workflow.update_row(row, form.cleaned_data, user=request.user, request=request)
            except workflow.WorkflowError as exc:
                messages.error(request, str(exc))
                return redirect("exchanges:detail", pk=ml.pk)
            if row.errors:
                messages.warning(request, f"Ligne {row.line_number} enregistrée, mais elle contient encore des erreurs.")
                return redirect("exchanges:row_edit", pk=ml.pk, row_pk=row.pk)
            messages.success(request, f"Ligne {row.line_number} corrigée.")
            return redirect(f"{reverse('exchanges:detail', args=[ml.pk])}?type=errors")
    else:
        record(AuditAction.NOMINATIVE_READ, request=request, obj=ml, departement=ml.departement,
               page="ligne", line=row.line_number)
    field_issues = {}
    for level, items in (("error", row.errors), ("warning", row.warnings)):
        for item in items:
            field_issues.setdefault(item.get("field", ""), []).append({"level": level, "message": item["message"]})
    fields = []
    for name in form.fields:
        bound, issues, raw = form[name], field_issues.get(name, []), row.raw.get(name, "")
        # Tie every message to its field (RGAA 11.10): ids rendered by row_edit.html.
        described = ([f"{bound.auto_id}_helptext"] if bound.help_text else []) + ([f"{bound.auto_id}_raw"] if raw else [])
        described += [f"{bound.auto_id}_issue{i}" for i in range(len(issues))]
        described += [f"{bound.auto_id}_error{i}" for i in range(len(bound.errors))]
        attrs = form.fields[name].widget.attrs
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if bound.errors or any(i["level"] == "error" for i in issues):
            attrs["aria-invalid"] = "true"
        fields.append({"field": bound, "issues": issues, "raw": raw})
    return render(request, "exchanges/row_edit.html", {
        "title": f"Corriger la ligne {row.line_number}", "ml": ml, "row": row, "form": form, "fields": fields,
        "editable": editable, "other_issues": field_issues.get("", []) + field_issues.get("address_town", []),
        "period_label": _period_label(ml.period),
    })


@require_http_methods(["GET", "POST"])
def validate(request, pk):
    """GET: what is about to be sent and to whom (rows, warnings left, recipients, what happens
    next); POST: the validation itself (instruction II.A.3-4)."""
    ml = _get_list(request, pk)
    if request.method == "GET":
        if ml.state != ListState.DRAFT:
            return redirect("exchanges:detail", pk=ml.pk)
        return render(request, "exchanges/validate.html", {
            "title": f"Valider la liste {ml.departement.code} — {_period_label(ml.period)}", "ml": ml,
            "period_label": _period_label(ml.period), "recap": workflow.validation_recap(ml),
            "can_validate": ml.error_count == 0 and ml.row_count > 0,
        })
    try:
        ml = workflow.validate_list(ml, request.user, request=request)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        late = " (en retard)" if ml.is_late else ""
        messages.success(request, f"Liste validée{late} : version {ml.version}, {ml.row_count} ligne(s) transmise(s) à "
                                  "l’OFII. L’archive chiffrée se prépare (progression ci-dessous) ; l’OFII est prévenu dès "
                                  "qu’elle est prête.")
    return redirect("exchanges:detail", pk=ml.pk)


@require_POST
def correct(request, pk):
    ml = _get_list(request, pk)
    try:
        draft = workflow.start_correction(ml, user=request.user, reason=request.POST.get("reason", ""), request=request)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("exchanges:detail", pk=ml.pk)
    messages.info(request, f"Version {draft.version} créée en brouillon : corrigez-la puis validez-la.")
    return redirect("exchanges:detail", pk=draft.pk)


@require_GET
def template_xlsx(request):
    """An empty list with the expected columns and drop-down lists for sex and status."""
    _require(request)
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from referentiel.models import PlatformSettings

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Liste"
    fields = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date"]
    if PlatformSettings.load().collect_agdref_nationality:
        fields += ["agdref", "nationality"]
    ws.append([FIELD_LABELS[f] for f in fields])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    last = 5001
    sex = DataValidation(type="list", formula1='"F,M"', allow_blank=False, showErrorMessage=True,
                         errorTitle="Sexe", error="Choisissez F ou M.")
    status = DataValidation(type="list", formula1='"Demandeur d’asile,Réfugié,Protection subsidiaire"',
                            allow_blank=False, showErrorMessage=True, errorTitle="Statut",
                            error="Seuls les demandeurs d’asile et les bénéficiaires d’une protection internationale sont transmis.")
    sex.add(f"D2:D{last}")
    status.add(f"E2:E{last}")
    ws.add_data_validation(sex)
    ws.add_data_validation(status)
    for col in ("C", "G"):
        for r in range(2, last + 1):
            ws[f"{col}{r}"].number_format = "DD/MM/YYYY"
    for col, width in zip("ABCDEFGHI", (20, 20, 18, 8, 24, 45, 16, 14, 16)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("Aide")
    for line in (
        ["Liste mensuelle SIAO → OFII (article L.744-6 du CESEDA), à transmettre au plus tard le 10 du mois."],
        ["Une ligne par personne hébergée dans le dispositif d’hébergement d’urgence généraliste."],
        ["Statuts transmis : demandeur d’asile (DA), réfugié, protection subsidiaire (BPI). Aucun autre statut."],
        ["Dates au format JJ/MM/AAAA. Sexe : F ou M."],
    ):
        help_ws.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="modele_liste_siao_ofii.xlsx"'
    return response

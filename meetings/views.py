"""Commission pages. Thin: the rules live in meetings/services; the perimeter in
referentiel.perimeter (every object is fetched through ``get_in_perimeter_or_404``)."""

import calendar
from dataclasses import asdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exchanges import periods
from referentiel.models import Departement
from referentiel.perimeter import (
    Capability,
    can_access_departement,
    departement_in_perimeter_or_404,
    get_in_perimeter_or_404,
    has_capability,
)
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record
from siao_ofii.privatefiles.storage import private_storage

from .forms import AgendaCriteriaForm, FreeItemForm, MeetingForm, MonthForm, OutcomeForm
from .models import (
    CATEGORY_SHORT_LABELS,
    AgendaItem,
    Category,
    Meeting,
    MeetingState,
    MinutesDocument,
    MinutesFormat,
    MinutesState,
)
from .services import agenda as agenda_service
from .services import disclosure
from .services import invitations
from .services import minutes as minutes_service
from .services import scheduling

WEEKDAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def _require(request, capability):
    if not has_capability(request.user, capability):
        raise PermissionDenied


def _meeting(request, pk, capability):
    _require(request, capability)
    qs = Meeting.objects.select_related("departement", "created_by")
    return get_in_perimeter_or_404(request, qs, capability, pk=pk)


def _item(request, pk, capability):
    _require(request, capability)
    qs = AgendaItem.objects.select_related("meeting", "meeting__departement", "list_row", "carried_from", "outcome")
    return get_in_perimeter_or_404(request, qs, capability, pk=pk)


def _can_manage(user, departement):
    return has_capability(user, Capability.MANAGE_MEETINGS) and can_access_departement(
        user, Capability.MANAGE_MEETINGS, departement
    )


def _month(request):
    form = MonthForm(request.GET)
    today = timezone.localdate()
    if form.is_valid() and form.cleaned_data["mois"]:
        y, m = map(int, form.cleaned_data["mois"].split("-"))
    else:
        y, m = today.year, today.month
    return y, m


def _period(y, m):
    return f"{y:04d}-{m:02d}"


def _month_label(y, m):
    return f"{periods.MONTHS_FR[m - 1]} {y}"


def index(request):
    """Month calendar and upcoming commissions in the user's perimeter."""
    _require(request, Capability.VIEW_MEETINGS)
    y, m = _month(request)
    visible = Meeting.objects.visible_to(request.user, Capability.VIEW_MEETINGS).select_related("departement")
    month_meetings = list(visible.filter(period=_period(y, m)).order_by("starts_at"))
    by_day = {}
    for mt in month_meetings:
        by_day.setdefault(timezone.localtime(mt.starts_at).date(), []).append(mt)
    weeks = [
        [{"date": d, "in_month": d.month == m, "meetings": by_day.get(d, [])} for d in week]
        for week in calendar.Calendar().monthdatescalendar(y, m)
    ]
    upcoming = list(
        visible.filter(starts_at__gte=timezone.now(), state=MeetingState.SCHEDULED).order_by("starts_at")[:20]
    )
    py, pm = scheduling.next_month(y, m, -1)
    ny, nm = scheduling.next_month(y, m, 1)
    return render(request, "meetings/index.html", {
        "title": "Commissions SIAO–OFII",
        "weeks": weeks,
        "weekdays": WEEKDAYS,
        "month_label": _month_label(y, m),
        "month_meetings": month_meetings,
        "prev_period": _period(py, pm),
        "next_period": _period(ny, nm),
        "upcoming": upcoming,
        "can_schedule": has_capability(request.user, Capability.MANAGE_MEETINGS),
        "is_national": has_capability(request.user, Capability.NATIONAL_DASHBOARD),
        "today": timezone.localdate(),
    })


@require_http_methods(["GET", "POST"])
def create(request):
    _require(request, Capability.MANAGE_MEETINGS)
    departements = Departement.objects.visible_to(request.user, Capability.MANAGE_MEETINGS)
    code = request.POST.get("departement") or request.GET.get("departement")
    if not code:
        if departements.count() == 1:
            code = departements.get().code
        else:
            return render(request, "meetings/choose_departement.html", {
                "title": "Planifier une commission", "departements": departements,
            })
    departement = departement_in_perimeter_or_404(request, Capability.MANAGE_MEETINGS, code)
    form = MeetingForm(request.POST or None, departement=departement)
    if request.method == "POST" and form.is_valid():
        meeting = form.save(commit=False)
        form.apply()
        result = scheduling.schedule_meeting(
            request.user, meeting, organisations=form.cleaned_data["invited_organisations"],
            agents=form.cleaned_data["invited_agents"], months=form.cleaned_data.get("months") or 1,
        )
        for m in [result.meeting, *result.occurrences]:
            record(AuditAction.MEETING_CHANGED, request=request, obj=m, departement=departement, change="scheduled")
        messages.success(request, _scheduled_message(result))
        for w in result.warnings:
            messages.warning(request, w)
        return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {
        "title": "Planifier une commission", "form": form, "departement": departement, "meeting": None,
    })


def _scheduled_message(result):
    text = "La commission est planifiée ; les invitations sont envoyées par courriel."
    if result.occurrences:
        dates = ", ".join(f"{timezone.localtime(o.starts_at):%d/%m/%Y}" for o in result.occurrences)
        text += f" Commissions suivantes créées : {dates}."
    return text


def _refuse_cancelled(request, meeting):
    messages.error(request, "Cette commission est annulée : son ordre du jour et ses suites ne se modifient plus.")
    return redirect("meetings:detail", pk=meeting.pk)


@require_http_methods(["GET", "POST"])
def edit(request, pk):
    meeting = _meeting(request, pk, Capability.MANAGE_MEETINGS)
    if meeting.is_cancelled:
        messages.error(request, "Cette commission est annulée : elle ne peut plus être modifiée.")
        return redirect("meetings:detail", pk=meeting.pk)
    form = MeetingForm(request.POST or None, instance=meeting, departement=meeting.departement)
    if request.method == "POST" and form.is_valid():
        meeting = form.save(commit=False)
        form.apply()
        result = scheduling.update_meeting(
            request.user, meeting, organisations=form.cleaned_data["invited_organisations"],
            agents=form.cleaned_data["invited_agents"],
        )
        record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement,
               change="updated", sequence=meeting.sequence)
        messages.success(request, "La commission est modifiée ; une mise à jour de l’invitation est envoyée.")
        for w in result.warnings:
            messages.warning(request, w)
        return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/form.html", {
        "title": "Modifier la commission", "form": form, "departement": meeting.departement, "meeting": meeting,
    })


@require_http_methods(["GET", "POST"])
def cancel(request, pk):
    meeting = _meeting(request, pk, Capability.MANAGE_MEETINGS)
    if request.method == "POST":
        if not meeting.is_cancelled:
            scheduling.cancel_meeting(request.user, meeting)
            record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement,
                   change="cancelled", sequence=meeting.sequence)
            messages.success(request, "La commission est annulée ; une annulation est envoyée aux invités.")
        return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/cancel.html", {"title": "Annuler la commission", "meeting": meeting})


@require_POST
def mark_held(request, pk):
    meeting = _meeting(request, pk, Capability.MANAGE_MEETINGS)
    if meeting.state == MeetingState.SCHEDULED:
        try:
            scheduling.mark_held(request.user, meeting)
        except scheduling.NotYetHeld as exc:
            messages.error(request, str(exc))
            return redirect("meetings:detail", pk=meeting.pk)
        record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement, change="held")
        messages.success(request, "La commission est marquée comme tenue.")
    return redirect("meetings:detail", pk=meeting.pk)


def detail(request, pk):
    meeting = _meeting(request, pk, Capability.VIEW_MEETINGS)
    return render(request, "meetings/detail.html", {
        "title": str(meeting),
        "meeting": meeting,
        "local_start": timezone.localtime(meeting.starts_at),
        "organisations": list(meeting.invited_organisations.all()),
        "agents": list(meeting.invited_agents.select_related("organisation")),
        "warnings": scheduling.meeting_warnings(request.user, meeting),
        "can_manage": _can_manage(request.user, meeting.departement),
        "can_mark_held": scheduling.can_be_marked_held(meeting),
        "item_count": meeting.items.filter(excluded=False).count(),
    })


@require_http_methods(["GET", "POST"])
def agenda(request, pk):
    meeting = _meeting(request, pk, Capability.VIEW_MEETINGS)
    can_manage = _can_manage(request.user, meeting.departement)
    # Placing, re-categorising, re-prioritising or withdrawing persons: OFII and the SIAO only
    # (instruction I.A, II.A.2); prefecture staff record decisions and keep the minutes.
    can_compose = agenda_service.may_compose(request.user, meeting)
    if request.method == "POST":
        if not can_compose:
            raise PermissionDenied
        if meeting.is_cancelled:
            return _refuse_cancelled(request, meeting)
        changed = _apply_agenda_changes(request, meeting)
        if changed:
            record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement,
                   change="agenda_edited", items=changed)
        messages.success(request, f"Ordre du jour enregistré ({changed} point(s) modifié(s)).")
        return redirect("meetings:agenda", pk=meeting.pk)
    items = disclosure.seen_items(request.user, meeting.departement,
                                  agenda_service.agenda_items(request.user, meeting, include_excluded=True))
    on_agenda = [i for i in items if not i.excluded]
    excluded = [i for i in items if i.excluded]
    editable = can_compose and not meeting.is_cancelled
    candidates = list(agenda_service.candidate_rows(request.user, meeting)) if editable else []
    record(AuditAction.NOMINATIVE_READ, request=request, obj=meeting, departement=meeting.departement,
           view="agenda", rows=len(items) + len(candidates))
    return render(request, "meetings/agenda.html", {
        "title": f"Ordre du jour — {meeting}",
        "meeting": meeting,
        "groups": agenda_service.group_by_category(on_agenda),
        "excluded": excluded,
        "category_choices": [(c.value, CATEGORY_SHORT_LABELS[c]) for c in Category],
        "can_manage": can_manage and not meeting.is_cancelled,
        "can_compose": editable,
        "list_details": disclosure.may_use_list(request.user, meeting.departement),
        "candidates": candidates,
        "item_count": len(on_agenda),
        "criteria_form": AgendaCriteriaForm(),
        "may_take_whole_list": agenda_service.may_take_whole_list(request.user, meeting),
    })


def _apply_agenda_changes(request, meeting):
    """Category, exclusion and order of each point. The agent gives ranks (1, 2, 3… within a
    category), never the internal priority scores: a category whose order changed gets new
    priorities following the ranks; an unchanged order keeps its priorities."""
    valid_categories = {c.value for c in Category}
    # Only who may compose the agenda (OFII, the SIAO of the département) reorders it: USE_LIST.
    items = list(AgendaItem.objects.visible_to(request.user, Capability.USE_LIST).filter(meeting=meeting))
    updates, by_category = {}, {}
    for item in items:
        raw_cat = request.POST.get(f"category-{item.pk}")
        raw_rank = request.POST.get(f"rank-{item.pk}")
        if raw_cat is None and raw_rank is None:
            continue
        try:
            cat = int(raw_cat) if raw_cat is not None else item.category
            rank = int(raw_rank) if raw_rank not in (None, "") else None
        except ValueError:
            continue
        if cat not in valid_categories:
            continue
        updates[item.pk] = {"category": cat, "priority": item.priority,
                            "excluded": request.POST.get(f"excluded-{item.pk}") == "on"}
        by_category.setdefault(cat, []).append((rank, item))
    for cat, ranked in by_category.items():
        current = sorted(ranked, key=lambda r: (-r[1].priority, r[1].pk))
        wanted = sorted(current, key=lambda r: r[0] if r[0] is not None else float("inf"))  # stable
        if [r[1].pk for r in wanted] != [r[1].pk for r in current]:
            for index, (_, item) in enumerate(wanted):
                updates[item.pk]["priority"] = 10 * (len(wanted) - index)
    changed = 0
    for item in items:
        new = updates.get(item.pk)
        if new and (new["category"], new["priority"], new["excluded"]) != (item.category, item.priority, item.excluded):
            item.category, item.priority, item.excluded = new["category"], new["priority"], new["excluded"]
            item.save(update_fields=["category", "priority", "excluded"])
            changed += 1
    return changed


@require_POST
def agenda_build(request, pk):
    meeting = _meeting(request, pk, Capability.VIEW_MEETINGS)
    if not agenda_service.may_compose(request.user, meeting):
        raise PermissionDenied  # prefecture / DDETS: never select from the list (instruction I.A, II.A.2)
    if meeting.is_cancelled:
        return _refuse_cancelled(request, meeting)
    criteria = AgendaCriteriaForm(request.POST).criteria()
    if criteria is None:
        messages.error(request, "Critères de sélection invalides.")
        return redirect("meetings:agenda", pk=meeting.pk)
    result = agenda_service.build_agenda(request.user, meeting, criteria)
    record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement,
           change="agenda_built", added=result.added, carried=result.carried,
           criteria={**asdict(criteria), "row_ids": sorted(criteria.row_ids)})
    messages.success(request, f"Ordre du jour mis à jour : {result.added} situation(s) ajoutée(s), dont "
                              f"{result.carried} reportée(s) du mois précédent.")
    for w in result.warnings:
        messages.warning(request, w)
    return redirect("meetings:agenda", pk=meeting.pk)


@require_http_methods(["GET", "POST"])
def free_item(request, pk):
    meeting = _meeting(request, pk, Capability.MANAGE_MEETINGS)
    if meeting.is_cancelled:
        return _refuse_cancelled(request, meeting)
    form = FreeItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = agenda_service.add_free_item(meeting, **form.cleaned_data)
        record(AuditAction.MEETING_CHANGED, request=request, obj=meeting, departement=meeting.departement,
               change="free_item_added", item=item.pk)
        messages.success(request, "Le point est ajouté à l’ordre du jour.")
        return redirect("meetings:agenda", pk=meeting.pk)
    return render(request, "meetings/free_item.html", {"title": "Ajouter un point divers", "form": form, "meeting": meeting})


@require_http_methods(["GET", "POST"])
def outcome(request, item_pk):
    item = _item(request, item_pk, Capability.MANAGE_MEETINGS)
    meeting = item.meeting
    if meeting.is_cancelled:
        return _refuse_cancelled(request, meeting)
    existing = getattr(item, "outcome", None)
    initial = {}
    if existing is None and item.carried_from_id:
        prev = item.carried_from
        initial = {"decision": prev.decision, "responsible_organisation": prev.responsible_organisation_id,
                   "due_date": prev.due_date, "state": prev.state}
    form = OutcomeForm(request.POST or None, instance=existing, initial=initial, departement=meeting.departement)
    if request.method == "POST" and form.is_valid():
        saved, created = agenda_service.record_outcome(request.user, item, **form.cleaned_data)
        record(AuditAction.OUTCOME_RECORDED, request=request, obj=saved, departement=meeting.departement,
               meeting=meeting.pk, decision=saved.decision, state=saved.state, created=created)
        messages.success(request, "La suite donnée est enregistrée.")
        return redirect(reverse("meetings:agenda", kwargs={"pk": meeting.pk}) + f"#point-{item.pk}")
    record(AuditAction.NOMINATIVE_READ, request=request, obj=item, departement=meeting.departement, view="outcome_form")
    return render(request, "meetings/outcome.html", {
        "title": "Suite donnée", "form": form, "item": disclosure.seen_item(request.user, item), "meeting": meeting,
    })


def person_history(request, item_pk):
    item = _item(request, item_pk, Capability.VIEW_MEETINGS)
    departement = item.meeting.departement
    history = disclosure.seen_items(request.user, departement, agenda_service.person_history(request.user, item))
    record(AuditAction.NOMINATIVE_READ, request=request, obj=item, departement=departement,
           view="person_history", rows=len(history))
    return render(request, "meetings/history.html", {
        "title": "Historique de la situation", "item": disclosure.seen_item(request.user, item), "history": history,
    })


@require_POST
def minutes_request(request, pk, fmt):
    """Ask for the minutes: built by a Celery task (issue 15), the next page shows the progress."""
    if fmt not in MinutesFormat.values:
        raise Http404("Format inconnu.")
    meeting = _meeting(request, pk, Capability.VIEW_MEETINGS)
    doc = minutes_service.request_document(request.user, meeting, fmt)
    return redirect("meetings:minutes_document", doc.pk)


def _minutes_document(request, pk):
    """A minutes document of the requesting agent only (its content follows their rights),
    inside their perimeter, and only while they may still read what it holds."""
    _require(request, Capability.VIEW_MEETINGS)
    qs = MinutesDocument.objects.select_related("meeting__departement").filter(requested_by=request.user)
    doc = get_in_perimeter_or_404(request, qs, Capability.VIEW_MEETINGS, pk=pk)
    departement = doc.meeting.departement
    if (doc.nominative and not minutes_service.may_read_nominative(request.user, doc.meeting)) or (
        doc.list_details and not disclosure.may_use_list(request.user, departement)
    ):
        raise Http404("Compte rendu introuvable.")
    return doc


@require_GET
def minutes_document(request, pk):
    doc = _minutes_document(request, pk)
    return render(request, "meetings/minutes_document.html", {
        "title": "Compte rendu de la commission", "doc": doc, "meeting": doc.meeting,
        "local_start": timezone.localtime(doc.meeting.starts_at),
    })


@require_GET
def minutes_status(request, pk):
    doc = _minutes_document(request, pk)
    done = doc.state != MinutesState.PENDING
    return JsonResponse({
        "state": doc.state, "state_label": doc.get_state_display(), "progress": 100 if done else doc.progress,
        "done": done, "next": reverse("meetings:minutes_document", args=[doc.pk]) if done else None,
    })


@require_GET
def minutes_download(request, pk):
    doc = _minutes_document(request, pk)
    if doc.state != MinutesState.READY:
        return redirect("meetings:minutes_document", doc.pk)
    meeting = doc.meeting
    record(AuditAction.DOWNLOAD, request=request, obj=meeting, departement=meeting.departement,
           document="minutes", format=doc.format, nominative=doc.nominative)
    local = timezone.localtime(meeting.starts_at)
    ctype = ("application/pdf" if doc.format == MinutesFormat.PDF
             else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = FileResponse(
        private_storage().open(doc.file_path), as_attachment=True, content_type=ctype,
        filename=f"compte-rendu-commission-{meeting.departement.code}-{local:%Y-%m-%d}.{doc.format}",
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def ics(request, pk):
    """The invitation as an .ics file, for anyone who sees the commission (nothing nominative
    about the persons examined is in it)."""
    meeting = _meeting(request, pk, Capability.VIEW_MEETINGS)
    method = "CANCEL" if meeting.is_cancelled else "REQUEST"
    response = HttpResponse(invitations.build_ics(meeting, method), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="commission_{meeting.departement.code}_{timezone.localtime(meeting.starts_at):%Y-%m-%d}.ics"')
    return response


def national(request):
    """Headquarters: which départements held (or scheduled) their commission this month."""
    _require(request, Capability.NATIONAL_DASHBOARD)
    y, m = _month(request)
    period = _period(y, m)
    meetings = Meeting.objects.visible_to(request.user, Capability.VIEW_MEETINGS).filter(period=period).order_by("starts_at")
    deps = list(
        Departement.objects.visible_to(request.user, Capability.VIEW_MEETINGS)
        .select_related("dt")
        .prefetch_related(Prefetch("meetings", queryset=meetings, to_attr="month_meetings"))
    )
    rows = []
    counts = {"held": 0, "scheduled": 0, "none": 0}
    for d in deps:
        states = {mt.state for mt in d.month_meetings}
        if MeetingState.HELD in states:
            status = "held"
        elif MeetingState.SCHEDULED in states:
            status = "scheduled"
        else:
            status = "none"
        counts[status] += 1
        rows.append({"departement": d, "status": status, "meetings": d.month_meetings})
    py, pm = scheduling.next_month(y, m, -1)
    ny, nm = scheduling.next_month(y, m, 1)
    return render(request, "meetings/national.html", {
        "title": "Commissions du mois — suivi national", "rows": rows, "counts": counts,
        "month_label": _month_label(y, m), "prev_period": _period(py, pm), "next_period": _period(ny, nm),
    })

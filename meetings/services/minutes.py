"""Minutes (compte rendu) of a commission, as PDF (WeasyPrint) and XLSX (openpyxl).

Built by a Celery task (``request_document`` → ``meetings.tasks.build_minutes`` →
``build_document``), never in the request (issue 15: 3.7 s for 500 agenda items), with a
progress indicator; the file is kept in the private storage and served, to the agent who asked
for it only, by ``meetings.views.minutes_download`` after the perimeter is checked again.

The nominative part (who, which decision) is included only when the reader's perimeter covers
the département; otherwise the minutes give the attendees and counts per category and decision.
Items are shown as ``disclosure.SeenItem``: prefecture / DDETS readers get the same minimised
view as on the agenda page (no birth date, entry date, ADA conclusion, finer status, priority).
"""

import io
import logging
import uuid
from collections import Counter

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from referentiel.perimeter import Capability, can_access_departement
from siao_ofii.csvsafe import neutralize
from siao_ofii.privatefiles.storage import private_storage

from ..models import Category, Decision, MinutesDocument, MinutesFormat, MinutesState
from .agenda import agenda_items
from .disclosure import may_use_list, seen_items


def may_read_nominative(user, meeting):
    return can_access_departement(user, Capability.VIEW_MEETINGS, meeting.departement)


def minutes_data(user, meeting):
    nominative = may_read_nominative(user, meeting)
    items = list(agenda_items(user, meeting)) if nominative else []
    from ..models import AgendaItem

    if not nominative:
        # Counts only: never the rows.
        items_for_counts = list(
            AgendaItem.objects.filter(meeting=meeting, excluded=False).select_related("outcome")
        )
    else:
        items_for_counts = items
    by_category = Counter(Category(i.category).label for i in items_for_counts)
    by_decision = Counter(
        Decision(i.outcome.decision).label for i in items_for_counts if getattr(i, "outcome", None) is not None
    )
    return {
        "meeting": meeting,
        "local_start": timezone.localtime(meeting.starts_at),
        "organisations": list(meeting.invited_organisations.all()),
        "agents": list(meeting.invited_agents.select_related("organisation")),
        "nominative": nominative,
        "list_details": may_use_list(user, meeting.departement),
        "items": seen_items(user, meeting.departement, items),
        "by_category": sorted(by_category.items()),
        "by_decision": sorted(by_decision.items()),
        "generated_at": timezone.localtime(),
        "generated_by": user,
    }


def minutes_pdf(user, meeting, progress=lambda value: None):
    from weasyprint import HTML

    data = minutes_data(user, meeting)
    progress(30)
    html = render_to_string("meetings/minutes_pdf.html", data)
    progress(50)
    return HTML(string=html).write_pdf()


def _text(ws, row, col, value):
    """Write a cell as text (never a formula), neutralised against formula injection."""
    cell = ws.cell(row=row, column=col)
    if value is None:
        value = ""
    if isinstance(value, str):
        cell.value = neutralize(value)
        cell.data_type = "s"
        cell.number_format = "@"
    else:
        cell.value = value
    return cell


def minutes_xlsx(user, meeting, progress=lambda value: None):
    data = minutes_data(user, meeting)
    progress(30)
    wb = Workbook()
    ws = wb.active
    ws.title = "Commission"
    local = data["local_start"]
    rows = [
        ("Commission SIAO–OFII", f"{meeting.departement.code} — {meeting.departement.name}"),
        ("Date", f"{local:%d/%m/%Y %H:%M}"),
        ("Durée (minutes)", str(meeting.duration_minutes)),
        ("Lieu", meeting.place),
        ("Visioconférence", meeting.video_url),
        ("État", meeting.get_state_display()),
        ("Organisations invitées", ", ".join(o.name for o in data["organisations"])),
        ("Agents invités", ", ".join(f"{a} ({a.organisation or 'sans organisation'})" for a in data["agents"])),
        ("Document produit le", f"{data['generated_at']:%d/%m/%Y %H:%M}"),
    ]
    for r, (k, v) in enumerate(rows, start=1):
        _text(ws, r, 1, k).font = Font(bold=True)
        _text(ws, r, 2, v)
    r = len(rows) + 2
    _text(ws, r, 1, "Situations par catégorie").font = Font(bold=True)
    for label, n in data["by_category"]:
        r += 1
        _text(ws, r, 1, label)
        ws.cell(row=r, column=2, value=n)
    r += 2
    _text(ws, r, 1, "Décisions").font = Font(bold=True)
    for label, n in data["by_decision"]:
        r += 1
        _text(ws, r, 1, label)
        ws.cell(row=r, column=2, value=n)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 80
    if data["nominative"]:
        ws2 = wb.create_sheet("Situations")
        # The priority (ADA conclusion, length of stay) only for readers of the list (disclosure.py).
        priority = ["Priorité"] if data["list_details"] else []
        headers = ["Catégorie", *priority, "Nom", "Prénom", "Statut", "Reporté", "Décision", "Organisme chargé",
                   "Échéance", "État", "Commentaire"]
        for c, h in enumerate(headers, start=1):
            _text(ws2, 1, c, h).font = Font(bold=True)
        for r, item in enumerate(data["items"], start=2):
            outcome = item.current_outcome
            values = [
                item.category_label,
                *([item.priority] if priority else []),
                item.last_name if item.has_row else item.text,
                item.first_name,
                item.status_label,
                "oui" if item.carried_over else "non",
                outcome.get_decision_display() if outcome else "",
                str(outcome.responsible_organisation or "") if outcome else "",
                f"{outcome.due_date:%d/%m/%Y}" if outcome and outcome.due_date else "",
                outcome.get_state_display() if outcome else "",
                outcome.comment if outcome else "",
            ]
            for c, v in enumerate(values, start=1):
                _text(ws2, r, c, v)
        ws2.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


MINUTES_DIR = "minutes"
logger = logging.getLogger(__name__)


def request_document(user, meeting, fmt):
    """Record the request and queue the build (after the commit); the caller shows its progress."""
    doc = MinutesDocument.objects.create(
        meeting=meeting, requested_by=user, format=MinutesFormat(fmt),
        nominative=may_read_nominative(user, meeting), list_details=may_use_list(user, meeting.departement),
    )
    transaction.on_commit(lambda: _queue(doc.pk))
    return doc


def _queue(pk):
    from ..tasks import build_minutes

    build_minutes.delay(pk)


def _progress(pk, value):
    MinutesDocument.objects.filter(pk=pk, state=MinutesState.PENDING).update(progress=value)


def build_document(pk):
    """The task's work: render the minutes for the agent who asked, with the rights they have
    now, store them, and drop that agent's previous copy of the same minutes."""
    doc = MinutesDocument.objects.select_related("meeting__departement", "requested_by").get(pk=pk)
    if doc.state != MinutesState.PENDING:
        return doc
    user, meeting = doc.requested_by, doc.meeting
    try:
        _progress(pk, 10)
        build = minutes_pdf if doc.format == MinutesFormat.PDF else minutes_xlsx
        content = build(user, meeting, progress=lambda value: _progress(pk, value))
        _progress(pk, 90)
        name = private_storage().save(f"{MINUTES_DIR}/{uuid.uuid4().hex}.{doc.format}", ContentFile(content))
    except Exception:
        logger.exception("Compte rendu %s : échec de la production", pk)
        MinutesDocument.objects.filter(pk=pk).update(state=MinutesState.FAILED, progress=100)
        doc.refresh_from_db()
        return doc
    previous = list(MinutesDocument.objects.filter(meeting=meeting, requested_by=user, format=doc.format)
                    .exclude(pk=pk).exclude(state=MinutesState.PENDING))
    with transaction.atomic():
        MinutesDocument.objects.filter(pk=pk).update(
            state=MinutesState.READY, progress=100, file_path=name, built_at=timezone.now(),
            nominative=may_read_nominative(user, meeting), list_details=may_use_list(user, meeting.departement),
        )
        MinutesDocument.objects.filter(pk__in=[p.pk for p in previous]).delete()
    for old in previous:
        if old.file_path:
            private_storage().delete(old.file_path)
    doc.refresh_from_db()
    return doc


def delete_documents(queryset):
    """Delete minutes documents and their files (retention purge)."""
    storage = private_storage()
    for path in queryset.exclude(file_path="").values_list("file_path", flat=True):
        storage.delete(path)
    return queryset.delete()[0]

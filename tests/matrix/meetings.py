"""Commissions: every URL × every account.

The meeting of the context belongs to département 69 (DT Lyon). Perimeter:
- VIEW_MEETINGS (siege, dt.lyon, dt.paris, siao.69, siao.75, siao-dna.69, prefecture.69): pages;
  outside 69 → 404 (dt.paris, siao.75).
- MANAGE_MEETINGS (siege, DT agents, prefecture): scheduling, free items, outcomes; SIAO
  agents → 403; admin has neither capability → 403.
- USE_LIST (siege, DT agents, SIAO agents): place persons of the monthly list on the agenda
  (criteria, one by one) and edit it; prefecture / DDETS → 403 for every selection option
  ("Seul l'OFII sera destinataire", instruction I.A, II.A.2).
"""

import datetime

from django.utils import timezone

from .base import FORBIDDEN, NOT_FOUND, Route, only

VIEWERS = {"siege", "dt.lyon", "dt.paris", "siao.69", "siao.75", "siao-dna.69", "prefecture.69"}
MANAGERS = {"siege", "dt.lyon", "dt.paris", "prefecture.69"}
COMPOSERS = {"siege", "dt.lyon", "dt.paris", "siao.69", "siao.75", "siao-dna.69"}
OUTSIDE_69 = {"dt.paris": NOT_FOUND, "siao.75": NOT_FOUND}


def view_69(status=200):
    expect = only(VIEWERS, allowed_status=status)
    expect.update(OUTSIDE_69)
    return expect


def compose_69(status=302):
    expect = only(COMPOSERS, allowed_status=status)
    expect.update(OUTSIDE_69)
    return expect


def manage_69(status=200):
    expect = only(MANAGERS, allowed_status=status)
    expect.update({"dt.paris": NOT_FOUND})
    return expect


def context(demo):
    from exchanges.models import ListRow
    from meetings.models import AgendaItem, Category, Decision, Meeting
    from meetings.services.agenda import record_outcome
    from referentiel.models import Departement
    from tests.factories import get_or_make_list

    dep = Departement.objects.get(code="69")
    today = timezone.localdate()
    meeting = Meeting.objects.create(
        departement=dep, starts_at=timezone.make_aware(datetime.datetime(today.year, today.month, 20, 14, 0)),
        place="Préfecture du Rhône, salle 3", created_by=demo["prefecture.69"],
    )
    ml = get_or_make_list("69", meeting.period, uploaded_by=demo["siao.69"], rows=2)
    row = ListRow.objects.filter(monthly_list=ml).first()
    item = AgendaItem.objects.create(meeting=meeting, identity_key=row.identity_key, list_row=row,
                                     on_current_list=True, category=Category.ASYLUM_SEEKER)
    record_outcome(demo["dt.lyon"], item, decision=Decision.DNA)
    # Minutes built for DT Lyon: served to that agent only (the content follows the reader's rights).
    from meetings.services.minutes import build_document, request_document

    minutes = build_document(request_document(demo["dt.lyon"], meeting, "xlsx").pk)
    return {"meeting": meeting, "item": item, "row": ListRow.objects.filter(monthly_list=ml).last(),
            "minutes": minutes}


def own_minutes(status=200):
    """Only the agent who asked for the minutes (dt.lyon) gets them; other readers: 404."""
    expect = only(VIEWERS, allowed_status=NOT_FOUND)
    expect["dt.lyon"] = status
    return expect


def dk(ctx):
    return {"pk": ctx["minutes"].pk}


def mk(ctx):
    return {"pk": ctx["meeting"].pk}


def ik(ctx):
    return {"item_pk": ctx["item"].pk}


ROUTES = [
    Route("meetings:index", expect=only(VIEWERS)),
    Route("meetings:index", expect=only(VIEWERS), query="mois=2026-02"),
    Route("meetings:create", expect=only(MANAGERS)),
    Route("meetings:create", expect={**only(MANAGERS), "dt.paris": NOT_FOUND}, query="departement=69"),
    Route("meetings:create", expect={**only(MANAGERS), "dt.paris": NOT_FOUND}, method="post",
          data=lambda ctx: {"departement": "69"}),  # invalid form: shown again with errors
    Route("meetings:national", expect=only({"siege"})),
    Route("meetings:detail", expect=view_69(), kwargs=mk),
    Route("meetings:edit", expect=manage_69(), kwargs=mk),
    Route("meetings:cancel", expect=manage_69(), kwargs=mk),
    Route("meetings:cancel", expect=manage_69(302), kwargs=mk, method="post"),
    Route("meetings:held", expect=manage_69(302), kwargs=mk, method="post"),
    Route("meetings:held", expect={**only(MANAGERS, allowed_status=405), "siao.69": 405, "siao.75": 405,
                                   "siao-dna.69": 405, "admin": 405}, kwargs=mk),
    Route("meetings:agenda", expect=view_69(), kwargs=mk),
    Route("meetings:agenda", expect=compose_69(), kwargs=mk,
          method="post", data=lambda ctx: {f"rank-{ctx['item'].pk}": "1"}),
    # Every selection option of the agenda generation: refused to the prefecture (403).
    *[Route("meetings:agenda_build", expect=compose_69(), kwargs=mk, method="post", data=data)
      for data in (
          lambda ctx: {},
          lambda ctx: {"submitted": "1"},
          lambda ctx: {"submitted": "1", "everyone": "on"},
          lambda ctx: {"submitted": "1", "long_stay": "on", "min_months": "1"},
          lambda ctx: {"submitted": "1", "new_arrivals": "on"},
          lambda ctx: {"submitted": "1", "status_changed": "on"},
          lambda ctx: {"submitted": "1", "ada_flag": "on"},
          lambda ctx: {"submitted": "1", "rows": [ctx["row"].pk]},
      )],
    Route("meetings:free_item", expect=manage_69(), kwargs=mk),
    Route("meetings:free_item", expect=manage_69(302), kwargs=mk, method="post",
          data=lambda ctx: {"text": "Point sur les places CADA", "category": "9", "priority": "0"}),
    *[Route("meetings:minutes_request", expect=view_69(302), method="post",
            kwargs=lambda ctx, fmt=fmt: {"pk": ctx["meeting"].pk, "fmt": fmt}) for fmt in ("pdf", "xlsx")],
    Route("meetings:minutes_document", expect=own_minutes(), kwargs=dk),
    Route("meetings:minutes_status", expect=own_minutes(), kwargs=dk),
    Route("meetings:minutes_download", expect=own_minutes(), kwargs=dk),
    Route("meetings:ics", expect=view_69(), kwargs=mk),
    Route("meetings:outcome", expect=manage_69(), kwargs=ik),
    Route("meetings:outcome", expect=manage_69(302), kwargs=ik, method="post",
          data=lambda ctx: {"decision": "cph", "state": "open"}),
    Route("meetings:history", expect=view_69(), kwargs=ik),
]

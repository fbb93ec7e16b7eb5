"""« Seul l'OFII sera destinataire de ces informations » (instruction I.A and II.A.2).

The monthly list belongs to OFII (and to the SIAO that wrote it). Prefecture / DDETS staff
schedule the commission and keep its minutes: they never select persons from the list, and they
see of an agenda item only what the examination needs (name, first name, DA/BPI, I.B category,
decisions): never the birth date, the entry date, the ADA conclusion or the finer status.
"""

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from exchanges.models import ListRow, Movement
from meetings.models import Decision
from meetings.services.agenda import EVERYONE, build_agenda, record_outcome
from tests.helpers import fetch_minutes, login

# make_list: birth dates from 1990-01-01, entry date 2026-10-01, statuses DA, Réfugié, PS.
LIST_ONLY_MARKERS = ["01/01/1990", "02/01/1990", "1990", "01/10/2026", r"\bADA\b", "Réfugié", "Protection subsidiaire",
                     r"né\(e\)", "mois continus", "Nouvelle arrivée", "Priorité"]

SELECTION_ATTEMPTS = [
    {"submitted": "1"},  # the default criteria
    {"submitted": "1", "everyone": "on"},
    {"submitted": "1", "long_stay": "on", "min_months": "1"},
    {"submitted": "1", "new_arrivals": "on"},
    {"submitted": "1", "status_changed": "on"},
    {"submitted": "1", "ada_flag": "on"},
    {},  # no field at all
]


def _facts():
    return {0: {"movement": Movement.NEW, "continuous_months": 1},
            1: {"movement": Movement.STATUS_CHANGED},
            2: {"ada_flag": True, "continuous_months": 5}}


@pytest.mark.parametrize("data", SELECTION_ATTEMPTS, ids=lambda d: "+".join(k for k in d if k != "submitted") or
                         ("default" if d else "empty"))
def test_prefecture_cannot_select_persons_from_the_list(client, demo, make_meeting, validated_list, data):
    validated_list("2026-11", rows=4, facts=_facts())
    meeting = make_meeting()
    login(client, demo["prefecture.69"])
    response = client.post(reverse("meetings:agenda_build", args=[meeting.pk]), data)
    assert response.status_code == 403, response.status_code
    assert meeting.items.count() == 0


def test_prefecture_forged_row_ids_add_nobody(client, demo, make_meeting, validated_list):
    ml = validated_list("2026-11", rows=4, facts=_facts())
    meeting = make_meeting()
    ids = [str(pk) for pk in ListRow.objects.filter(monthly_list=ml).values_list("pk", flat=True)]
    login(client, demo["prefecture.69"])
    for field in ("rows", "row", "person", "persons", "list_row"):
        response = client.post(reverse("meetings:agenda_build", args=[meeting.pk]),
                               {"submitted": "1", field: ids, "long_stay": "on", "min_months": "1"})
        assert response.status_code == 403, (field, response.status_code)
    # and not through the agenda edit form either
    response = client.post(reverse("meetings:agenda", args=[meeting.pk]), {f"category-{ids[0]}": "2"})
    assert response.status_code == 403
    assert meeting.items.count() == 0


def test_build_agenda_service_refuses_prefecture(demo, make_meeting, validated_list):
    from django.core.exceptions import PermissionDenied

    validated_list("2026-11", rows=3, facts=_facts())
    meeting = make_meeting()
    with pytest.raises(PermissionDenied):
        build_agenda(demo["prefecture.69"], meeting, EVERYONE)
    assert meeting.items.count() == 0


def test_prefecture_agenda_page_has_no_selection_form(client, demo, make_meeting, validated_list):
    validated_list("2026-11", rows=3, facts=_facts())
    meeting = make_meeting()
    login(client, demo["prefecture.69"])
    body = client.get(reverse("meetings:agenda", args=[meeting.pk])).content.decode()
    for marker in ('id="build-form"', 'name="min_months"', 'name="everyone"', 'name="rows"',
                   reverse("meetings:agenda_build", args=[meeting.pk])):
        assert marker not in body, marker


def _placed_by_ofii(demo, make_meeting, validated_list):
    validated_list("2026-11", rows=3, facts=_facts())
    meeting = make_meeting()
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    for item in meeting.items.all():
        record_outcome(demo["dt.lyon"], item, decision=Decision.DNA)
    return meeting


def _pages(client, meeting):
    item = meeting.items.order_by("pk").first()
    out = {}
    for name, args in (("meetings:agenda", [meeting.pk]), ("meetings:detail", [meeting.pk]),
                       ("meetings:history", [item.pk]), ("meetings:outcome", [item.pk])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        out[name] = response.content.decode()
    pdf = fetch_minutes(client, meeting, "pdf")
    out["pdf"] = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages)
    xlsx = fetch_minutes(client, meeting, "xlsx")
    wb = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    out["xlsx"] = "\n".join(str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value is not None)
    return out


def test_prefecture_sees_only_what_the_examination_needs(client, demo, make_meeting, validated_list):
    meeting = _placed_by_ofii(demo, make_meeting, validated_list)
    login(client, demo["prefecture.69"])
    pages = _pages(client, meeting)
    for where in ("meetings:agenda", "pdf", "xlsx"):
        text = pages[where]
        assert "NOM0" in text and "Prénom0" in text, where  # name and first name: the examination needs them
        assert "Orientation vers le DNA" in text, where  # decisions
    assert "BPI" in pages["meetings:agenda"]  # the coarse status DA/BPI is allowed
    for where, text in pages.items():
        for marker in LIST_ONLY_MARKERS:
            assert not re.search(marker, text), f"{marker!r} visible to the prefecture in {where}"


def test_ofii_and_siao_still_see_the_list_details(client, demo, make_meeting, validated_list):
    """The control: the same pages show the details to the list's recipient and author."""
    meeting = _placed_by_ofii(demo, make_meeting, validated_list)
    for account in ("dt.lyon", "siao.69"):
        client.logout()
        login(client, demo[account])
        body = client.get(reverse("meetings:agenda", args=[meeting.pk])).content.decode()
        assert "01/01/1990" in body and "01/10/2026" in body and "Montant additionnel ADA non dû" in body, account
        assert "Réfugié" in body, account


def test_siao_places_persons_one_by_one(client, demo, make_meeting, validated_list):
    ml = validated_list("2026-11", rows=4, facts={i: {"continuous_months": 1} for i in range(4)})
    meeting = make_meeting()
    rows = list(ListRow.objects.filter(monthly_list=ml).order_by("line_number"))
    login(client, demo["siao.69"])
    body = client.get(reverse("meetings:agenda", args=[meeting.pk])).content.decode()
    assert f'name="rows" value="{rows[1].pk}"' in body  # the person picker
    response = client.post(reverse("meetings:agenda_build", args=[meeting.pk]),
                           {"submitted": "1", "rows": [rows[1].pk, rows[3].pk]})
    assert response.status_code == 302
    assert sorted(meeting.items.values_list("identity_key", flat=True)) == ["key-1", "key-3"]


def test_row_of_another_list_is_not_placed(client, demo, make_meeting, validated_list):
    from tests.factories import make_list

    validated_list("2026-11", rows=2, facts={0: {"continuous_months": 1}, 1: {"continuous_months": 1}})
    other = make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"], rows=1, start=50)
    meeting = make_meeting()
    login(client, demo["dt.lyon"])
    foreign = ListRow.objects.get(monthly_list=other).pk
    client.post(reverse("meetings:agenda_build", args=[meeting.pk]), {"submitted": "1", "rows": [foreign]})
    assert meeting.items.count() == 0

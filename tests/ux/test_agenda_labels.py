"""Issue 13 point 10: the agenda shows ranks (never internal priority scores), screen-reader
labels name the person (never a database id), drop-downs start on a sentence, and a commission
cannot be marked held before its day."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import MeetingState
from meetings.services import scheduling
from meetings.services.agenda import build_agenda
from tests.helpers import login
from meetings.services.agenda import EVERYONE


@pytest.fixture
def agenda(demo, make_meeting, validated_list):
    validated_list("2026-11", rows=3)
    meeting = make_meeting()
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    return meeting


def test_ranks_and_labels_without_scores_or_ids(client, demo, agenda):
    items = list(agenda.items.order_by("category", "-priority", "pk"))
    body = login(client, demo["dt.lyon"]).get(reverse("meetings:agenda", args=[agenda.pk])).content.decode()
    for item in items:
        assert f'value="{item.priority}"' not in body or item.priority <= len(items)
        assert f"point {item.pk}" not in body
    first = items[0]
    assert re.search(rf'<label class="fr-sr-only" for="rank-{first.pk}">Rang de {first.person_label}</label>', body)
    assert f"Retirer {first.person_label} de l’ordre du jour" in body
    assert '<th scope="col">Rang</th>' in body and "Priorité" not in body.split("<table")[1]


def test_reordering_by_rank(client, demo, agenda):
    same = {}
    for item in agenda.items.order_by("-priority", "pk"):
        same.setdefault(item.category, []).append(item)
    cat, (a, b, *rest) = next((c, i) for c, i in same.items() if len(i) >= 2)
    data = {f"category-{a.pk}": cat, f"rank-{a.pk}": "2", f"category-{b.pk}": cat, f"rank-{b.pk}": "1"}
    for n, other in enumerate(rest, start=3):
        data.update({f"category-{other.pk}": cat, f"rank-{other.pk}": str(n)})
    login(client, demo["dt.lyon"]).post(reverse("meetings:agenda", args=[agenda.pk]), data)
    order = list(agenda.items.filter(category=cat).order_by("-priority", "pk").values_list("pk", flat=True))
    assert order[:2] == [b.pk, a.pk]


def test_outcome_dropdowns_start_with_a_sentence(client, demo, agenda):
    item = agenda.items.first()
    body = login(client, demo["dt.lyon"]).get(reverse("meetings:outcome", args=[item.pk])).content.decode()
    assert "---------" not in body
    assert '<option value="" selected>Choisir une décision</option>' in body
    assert '<option value="" selected>Aucune organisation désignée</option>' in body


def test_cannot_mark_held_before_the_day(client, demo, make_meeting):
    meeting = make_meeting(starts_at=timezone.now() + datetime.timedelta(days=15))
    login(client, demo["prefecture.69"])
    detail = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert 'id="mark-held"' not in detail
    response = client.post(reverse("meetings:held", args=[meeting.pk]), follow=True)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SCHEDULED
    assert "ne peut être marquée comme tenue qu’à partir de ce jour" in response.content.decode()
    with pytest.raises(scheduling.NotYetHeld):
        scheduling.mark_held(demo["prefecture.69"], meeting)
    past = make_meeting(starts_at=timezone.now() - datetime.timedelta(hours=2))
    assert 'id="mark-held"' in client.get(reverse("meetings:detail", args=[past.pk])).content.decode()
    client.post(reverse("meetings:held", args=[past.pk]))
    past.refresh_from_db()
    assert past.state == MeetingState.HELD

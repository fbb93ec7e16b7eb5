"""Edges of the agenda and of the carry-over that the first tests left open (found by
``make mutation GROUPS=agenda``): which outcome is a person's "latest" (by meeting date, in
this département, before this month, never a free point's), the other départements of a DT,
the order of the one-by-one picker and of the history, withdrawn items, and the query counts
of the pages that read carried-over situations and a person's history month after month."""

import pytest
from django.urls import reverse

from exchanges.models import ListRow
from meetings.models import AgendaItem, Category, Decision, OutcomeState
from meetings.services.agenda import (
    EVERYONE,
    add_free_item,
    agenda_items,
    build_agenda,
    candidate_rows,
    open_outcomes_before,
    person_history,
    record_outcome,
    validated_list,
)
from referentiel.models import Departement, Organisation
from tests.factories import make_list
from tests.helpers import assert_constant_queries, login

from .conftest import aware


def _item(meeting, key="key-0", category=Category.BPI, **kw):
    return AgendaItem.objects.create(meeting=meeting, identity_key=key, category=category, **kw)


# --- the month's list is the list of the meeting's département ------------------------------


def test_a_dt_s_other_departement_list_is_not_this_agenda_s(demo, make_meeting):
    """DT Lyon uses the lists of the Ain (01) and of the Rhône (69): a validated list of the Ain
    for November does not feed the Rhône's November commission."""
    make_list("01", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2, start=50)
    meeting = make_meeting()
    assert validated_list(demo["dt.lyon"], meeting) is None
    assert list(candidate_rows(demo["dt.lyon"], meeting)) == []
    result = build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    assert (result.added, result.monthly_list) == (0, None)
    assert result.warnings == [
        "Aucune liste validée pour 2026-11 : l’ordre du jour ne contient que les situations reportées "
        "et les points divers."
    ]
    rhone = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    assert validated_list(demo["dt.lyon"], meeting) == rhone


# --- which outcome is the latest ------------------------------------------------------------


def test_latest_outcome_is_the_latest_meeting_not_the_latest_record(demo, make_meeting):
    """December's outcome was entered before November's (a late entry): December's still
    decides. Open in December → carried to January, whatever November says."""
    user = demo["dt.lyon"]
    dec, nov = make_meeting(aware(2026, 12, 15)), make_meeting(aware(2026, 11, 17))
    dec_outcome, _ = record_outcome(user, _item(dec), decision=Decision.DNA, state=OutcomeState.OPEN)
    record_outcome(user, _item(nov), decision=Decision.DNA, state=OutcomeState.DONE)
    jan = make_meeting(aware(2027, 1, 19))
    result = build_agenda(user, jan, EVERYONE)
    assert (result.added, result.carried) == (1, 1)
    assert jan.items.get().carried_from == dec_outcome


def test_closed_in_the_latest_meeting_is_not_carried_even_if_entered_first(demo, make_meeting):
    user = demo["dt.lyon"]
    dec, nov = make_meeting(aware(2026, 12, 15)), make_meeting(aware(2026, 11, 17))
    record_outcome(user, _item(dec), decision=Decision.DNA, state=OutcomeState.DONE)
    record_outcome(user, _item(nov), decision=Decision.DNA, state=OutcomeState.OPEN)
    jan = make_meeting(aware(2027, 1, 19))
    assert build_agenda(user, jan, EVERYONE).carried == 0
    assert jan.items.count() == 0


def test_two_meetings_at_the_same_hour_the_last_recorded_decides(demo, make_meeting):
    """Two commissions of the same département at the same hour (e.g. one moved onto the
    other): the outcome recorded last is the latest."""
    user = demo["dt.lyon"]
    first, second = make_meeting(aware(2026, 11, 17)), make_meeting(aware(2026, 11, 17))
    record_outcome(user, _item(first), decision=Decision.DNA, state=OutcomeState.OPEN)
    record_outcome(user, _item(second), decision=Decision.DNA, state=OutcomeState.DONE)
    dec = make_meeting(aware(2026, 12, 15))
    assert list(open_outcomes_before(user, dec)) == []
    assert build_agenda(user, dec, EVERYONE).carried == 0


def test_an_outcome_in_another_departement_does_not_close_this_one(demo, make_meeting):
    """The person was also examined in the Ain (01, same DT) later in November, and that
    outcome is closed: the Rhône's open outcome still comes back to the Rhône."""
    user = demo["dt.lyon"]
    nov = make_meeting(aware(2026, 11, 17))
    ain = make_meeting(aware(2026, 11, 24), departement=Departement.objects.get(code="01"))
    open_69, _ = record_outcome(user, _item(nov), decision=Decision.SPADA, state=OutcomeState.OPEN)
    record_outcome(user, _item(ain), decision=Decision.SPADA, state=OutcomeState.DONE)
    dec = make_meeting(aware(2026, 12, 15))
    assert list(open_outcomes_before(user, dec)) == [open_69]
    assert build_agenda(user, dec, EVERYONE).carried == 1
    assert dec.items.get().carried_from == open_69


def test_a_later_month_s_outcome_does_not_hide_an_earlier_open_one(demo, make_meeting):
    """January was already held when December's agenda is (re)built: December carries what was
    still open before December (November), not what January decided."""
    user = demo["dt.lyon"]
    nov, jan = make_meeting(aware(2026, 11, 17)), make_meeting(aware(2027, 1, 19))
    open_nov, _ = record_outcome(user, _item(nov), decision=Decision.CPH, state=OutcomeState.OPEN)
    record_outcome(user, _item(jan), decision=Decision.CPH, state=OutcomeState.DONE)
    dec = make_meeting(aware(2026, 12, 15))
    assert list(open_outcomes_before(user, dec)) == [open_nov]
    build_agenda(user, dec, EVERYONE)
    assert dec.items.get().carried_from == open_nov


def test_a_free_point_s_open_outcome_is_not_carried(demo, make_meeting):
    """A free point ("Points divers") has no person: its open outcome never comes back as a
    situation of the next month."""
    user = demo["dt.lyon"]
    nov = make_meeting(aware(2026, 11, 17))
    record_outcome(user, add_free_item(nov, text="Places CADA"), decision=Decision.OTHER, state=OutcomeState.OPEN)
    dec = make_meeting(aware(2026, 12, 15))
    assert list(open_outcomes_before(user, dec)) == []
    result = build_agenda(user, dec, EVERYONE)
    assert (result.added, result.carried) == (0, 0)
    assert dec.items.count() == 0


def test_carried_situations_are_read_in_constant_queries(demo, make_meeting):
    """Building reads, for each open outcome, its item's category and last list row."""
    user = demo["dt.lyon"]
    nov, dec = make_meeting(aware(2026, 11, 17)), make_meeting(aware(2026, 12, 15))
    counter = iter(range(100))

    def grow():
        n = next(counter)
        ml = make_list("69", f"20{10 + n}-01", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1,
                       start=500 + n)
        row = ListRow.objects.get(monthly_list=ml)
        record_outcome(user, _item(nov, row.identity_key, list_row=row), decision=Decision.DNA)

    def fetch():
        return [(o.agenda_item.category, o.agenda_item.list_row.last_name) for o in open_outcomes_before(user, dec)]

    grow()
    assert fetch() == [(Category.BPI, "NOM500")]
    assert_constant_queries(fetch, grow)
    assert sorted(fetch()) == [(Category.BPI, "NOM500"), (Category.BPI, "NOM501"), (Category.BPI, "NOM502")]


# --- the agenda: withdrawn items, free points -----------------------------------------------


def test_withdrawn_items_only_when_asked(demo, make_meeting):
    meeting = make_meeting()
    kept, withdrawn = _item(meeting, "key-0"), _item(meeting, "key-1", excluded=True)
    assert list(agenda_items(demo["dt.lyon"], meeting)) == [kept]
    assert list(agenda_items(demo["dt.lyon"], meeting, include_excluded=True)) == [kept, withdrawn]


def test_free_point_keeps_its_text_and_priority(demo, make_meeting):
    meeting = make_meeting()
    plain = add_free_item(meeting, text="Point sur les places CADA disponibles")
    urgent = add_free_item(meeting, text="Hébergement d’urgence saturé", category=Category.BPI, priority=7)
    plain.refresh_from_db()
    urgent.refresh_from_db()
    assert (plain.text, plain.category, plain.priority) == ("Point sur les places CADA disponibles", Category.FREE, 0)
    assert (urgent.text, urgent.category, urgent.priority) == ("Hébergement d’urgence saturé", Category.BPI, 7)


def test_agenda_page_with_carried_situations_in_constant_queries(client, demo, make_meeting):
    """The agenda page shows, for a carried-over situation, last month's decision."""
    nov, dec = make_meeting(aware(2026, 11, 17)), make_meeting(aware(2026, 12, 15))
    login(client, demo["dt.lyon"])
    counter = iter(range(100))

    def grow():
        key = f"key-{next(counter)}"
        previous, _ = record_outcome(demo["dt.lyon"], _item(nov, key), decision=Decision.DPAR)
        _item(dec, key, carried_over=True, carried_from=previous)

    grow()
    url = reverse("meetings:agenda", args=[dec.pk])
    assert "Le mois précédent : " in client.get(url).content.decode()
    assert_constant_queries(lambda: client.get(url), grow)


# --- the one-by-one picker ------------------------------------------------------------------


def test_picker_orders_namesakes_by_line_number(demo, make_meeting, validated_list):
    """Two persons with the same name: the one on the earlier line of the list comes first."""
    ml = validated_list("2026-11", rows=2)
    first, second = ListRow.objects.filter(monthly_list=ml).order_by("pk")
    ListRow.objects.filter(pk=first.pk).update(last_name="MARTIN", first_name="Awa", line_number=9)
    ListRow.objects.filter(pk=second.pk).update(last_name="MARTIN", first_name="Awa", line_number=4)
    meeting = make_meeting()
    assert [r.line_number for r in candidate_rows(demo["dt.lyon"], meeting)] == [4, 9]


# --- a person's history ---------------------------------------------------------------------


def test_history_reads_by_meeting_date_in_this_departement_only(demo, make_meeting):
    """History is month by month even when a month was entered late, and leaves out the other
    départements of the same DT."""
    user = demo["dt.lyon"]
    dec, nov = make_meeting(aware(2026, 12, 15)), make_meeting(aware(2026, 11, 17))
    dec_item, nov_item = _item(dec), _item(nov)
    _item(make_meeting(aware(2026, 11, 24), departement=Departement.objects.get(code="01")))
    assert list(person_history(user, dec_item)) == [nov_item, dec_item]


def test_history_page_grows_month_by_month_in_constant_queries(client, demo, make_meeting, validated_list):
    """The same person, one more month each time, with list row, outcome and organisation."""
    user = demo["dt.lyon"]
    login(client, user)
    dt_lyon = Organisation.objects.get(name="OFII — DT Lyon")
    ml = validated_list("2026-11", rows=1)
    row = ListRow.objects.get(monthly_list=ml)
    months = iter(range(100))

    def grow():
        n = next(months)
        meeting = make_meeting(aware(2027 + n // 12, n % 12 + 1, 12))
        item = _item(meeting, row.identity_key, list_row=row, on_current_list=True)
        record_outcome(user, item, decision=Decision.CPH, responsible_organisation=dt_lyon)
        return item

    first = grow()
    url = reverse("meetings:history", args=[first.pk])
    page = client.get(url).content.decode()
    assert "12/01/2027" in page and "OFII — DT Lyon" in page
    assert_constant_queries(lambda: client.get(url), grow)
    assert client.get(url).content.decode().count("OFII — DT Lyon") == 3

import pytest

from exchanges.models import ListState, Movement, Status
from meetings.models import AgendaItem, Category, Decision, Outcome, OutcomeState
from meetings.services.agenda import (
    add_free_item,
    agenda_items,
    EVERYONE,
    AgendaCriteria,
    build_agenda,
    group_by_category,
    person_history,
    record_outcome,
)
from tests.factories import make_list

from .conftest import aware


def _keys(items):
    return [i.identity_key for i in items]


def test_agenda_from_validated_list_with_default_categories_and_priority(demo, make_meeting, validated_list):
    # make_list statuses cycle DA, REFUGIE, PS: rows 0 and 3 are DA; 1, 2, 4 BPI.
    validated_list("2026-11", rows=5, facts={
        0: {"continuous_months": 2},
        1: {"continuous_months": 1, "movement": Movement.NEW},
        2: {"continuous_months": 7},
        3: {"continuous_months": 3, "ada_flag": True},
        4: {"continuous_months": 1},
    })
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=2, start=100)
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"], rows=2, start=200)
    make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2, start=300)
    meeting = make_meeting()
    result = build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    assert result.added == 5 and result.carried == 0 and not result.warnings
    items = list(agenda_items(demo["prefecture.69"], meeting))
    by_key = {i.identity_key: i for i in items}
    assert set(by_key) == {f"key-{i}" for i in range(5)}
    assert by_key["key-0"].category == Category.ASYLUM_SEEKER
    assert by_key["key-3"].category == Category.ASYLUM_SEEKER
    assert {by_key[k].category for k in ("key-1", "key-2", "key-4")} == {Category.BPI}
    # ADA flag first, then longer stay; new arrival before same-length stay
    assert _keys(items) == ["key-3", "key-0", "key-2", "key-1", "key-4"]
    groups = group_by_category(items)
    assert [c for c, _ in groups] == [Category.ASYLUM_SEEKER, Category.BPI]


def test_build_is_idempotent_and_keeps_agent_choices(demo, make_meeting, validated_list):
    validated_list("2026-11", rows=3)
    meeting = make_meeting()
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    item = meeting.items.get(identity_key="key-0")
    item.category, item.priority = Category.REJECTED, 999
    item.save()
    result = build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    assert result.added == 0
    assert meeting.items.count() == 3
    item.refresh_from_db()
    assert (item.category, item.priority) == (Category.REJECTED, 999)


def test_no_validated_list_warns_and_outsider_builds_nothing(demo, make_meeting, validated_list):
    from django.core.exceptions import PermissionDenied

    meeting = make_meeting()
    result = build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    assert result.added == 0 and "Aucune liste validée" in result.warnings[0]
    validated_list("2026-11", rows=3)
    # A user outside 69 does not reach the list (perimeter rule).
    with pytest.raises(PermissionDenied):
        build_agenda(demo["dt.paris"], meeting, EVERYONE)
    assert meeting.items.count() == 0
    assert build_agenda(demo["dt.lyon"], meeting, EVERYONE).added == 3


def test_only_ofii_takes_the_whole_list(demo, make_meeting, validated_list):
    """The SIAO places persons by OFII's criteria or one by one; "everyone" is OFII's choice only."""
    validated_list("2026-11", rows=4, facts={0: {"movement": Movement.NEW}, 1: {"continuous_months": 1},
                                             2: {"continuous_months": 1}, 3: {"continuous_months": 1}})
    meeting = make_meeting()
    result = build_agenda(demo["siao.69"], meeting, EVERYONE)
    assert result.added == 1  # only the new arrival: the "everyone" choice is ignored
    assert "Seul l’OFII peut inscrire toutes les personnes" in result.warnings[0]
    assert {i.identity_key for i in meeting.items.all()} == {"key-0"}


def test_free_items(demo, make_meeting):
    meeting = make_meeting()
    item = add_free_item(meeting, text="Point sur les places CADA disponibles")
    assert item.is_free and item.category == Category.FREE
    assert list(agenda_items(demo["siao.69"], meeting)) == [item]
    assert list(agenda_items(demo["siao.75"], meeting)) == []


def test_open_outcomes_carried_over_two_months_until_closed(demo, make_meeting, validated_list):
    user = demo["dt.lyon"]
    # November: three persons (key-0 DA, key-1 BPI, key-2 BPI).
    validated_list("2026-11", rows=3)
    nov = make_meeting(aware(2026, 11, 17))
    build_agenda(user, nov, EVERYONE)
    items = {i.identity_key: i for i in nov.items.all()}
    record_outcome(user, items["key-0"], decision=Decision.DNA, state=OutcomeState.OPEN)
    record_outcome(user, items["key-1"], decision=Decision.CPH, state=OutcomeState.DONE)
    items["key-2"].category = Category.REJECTED  # re-categorised by the agent
    items["key-2"].save()
    record_outcome(user, items["key-2"], decision=Decision.DPAR, state=OutcomeState.OPEN)

    # December: key-0 still on the list, key-2 has left it; key-1's outcome is closed.
    validated_list("2026-12", rows=2, start=0, facts={0: {"movement": Movement.PRESENT, "continuous_months": 3}})
    dec = make_meeting(aware(2026, 12, 15))
    result = build_agenda(user, dec, EVERYONE)
    dec_items = {i.identity_key: i for i in dec.items.all()}
    assert set(dec_items) == {"key-0", "key-1", "key-2"}
    assert dec_items["key-0"].carried_over and dec_items["key-0"].on_current_list
    assert dec_items["key-0"].carried_from == items["key-0"].outcome
    assert not dec_items["key-1"].carried_over  # on the list again, but its outcome was closed
    assert dec_items["key-2"].carried_over and not dec_items["key-2"].on_current_list
    assert dec_items["key-2"].category == Category.REJECTED  # category carried with the situation
    assert dec_items["key-2"].list_row == items["key-2"].list_row  # last row known
    assert result.carried == 2
    # December: key-0 done; key-2 still open (re-recorded); nothing recorded for... nobody else.
    o0, _ = record_outcome(user, dec_items["key-0"], decision=Decision.DNA, state=OutcomeState.DONE)
    assert o0.previous == items["key-0"].outcome
    record_outcome(user, dec_items["key-2"], decision=Decision.VOLUNTARY_RETURN, state=OutcomeState.OPEN)

    # January: no list validated yet; key-2 comes back (second carry-over), key-0 does not.
    jan = make_meeting(aware(2027, 1, 19))
    result = build_agenda(user, jan, EVERYONE)
    assert _keys(jan.items.all()) == ["key-2"]
    jan_item = jan.items.get()
    assert jan_item.carried_over and jan_item.carried_from.decision == Decision.VOLUNTARY_RETURN
    record_outcome(user, jan_item, decision=Decision.VOLUNTARY_RETURN, state=OutcomeState.DROPPED)

    # February: everything closed → nothing carried.
    feb = make_meeting(aware(2027, 2, 16))
    assert build_agenda(user, feb, EVERYONE).carried == 0
    assert feb.items.count() == 0

    # The person's history, month by month.
    history = list(person_history(user, jan_item))
    assert [h.meeting for h in history] == [nov, dec, jan]
    assert [h.outcome.state for h in history] == [OutcomeState.OPEN, OutcomeState.OPEN, OutcomeState.DROPPED]
    assert list(person_history(demo["dt.paris"], jan_item)) == []


def test_outcome_not_carried_when_not_recorded_month_before_is_closed(demo, make_meeting, validated_list):
    """A month without a new record keeps the older open outcome as the latest: still carried."""
    user = demo["dt.lyon"]
    validated_list("2026-11", rows=1)
    nov = make_meeting(aware(2026, 11, 17))
    build_agenda(user, nov, EVERYONE)
    record_outcome(user, nov.items.get(), decision=Decision.SPADA)
    dec = make_meeting(aware(2026, 12, 16))
    build_agenda(user, dec, EVERYONE)  # carried, but no outcome recorded in December
    jan = make_meeting(aware(2027, 1, 19))
    build_agenda(user, jan, EVERYONE)
    assert jan.items.get().carried_from == nov.items.get().outcome


def test_record_outcome_updates_existing(demo, make_meeting):
    meeting = make_meeting()
    item = add_free_item(meeting, text="x")
    o1, created1 = record_outcome(demo["dt.lyon"], item, decision=Decision.OTHER)
    o2, created2 = record_outcome(demo["dt.lyon"], item, decision=Decision.CPH, state=OutcomeState.DONE)
    assert created1 and not created2 and o1.pk == o2.pk
    assert Outcome.objects.get().decision == Decision.CPH


def test_one_item_per_person_per_meeting(demo, make_meeting):
    from django.db import IntegrityError, transaction

    meeting = make_meeting()
    AgendaItem.objects.create(meeting=meeting, identity_key="k", category=Category.BPI)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(meeting=meeting, identity_key="k", category=Category.BPI)
    # free items (no identity) are not limited
    add_free_item(meeting, text="a")
    add_free_item(meeting, text="b")


def test_status_da_vs_bpi_mapping():
    from meetings.services.agenda import default_category

    class Row:
        status = Status.PROTECTION_SUBSIDIAIRE
    assert default_category(Row) == Category.BPI
    Row.status = Status.DA
    assert default_category(Row) == Category.ASYLUM_SEEKER


def test_default_criteria_keep_only_what_the_meeting_needs(demo, make_meeting, validated_list):
    user = demo["siao.69"]
    validated_list("2026-10", rows=6, start=0)
    octo = make_meeting(aware(2026, 10, 20))
    build_agenda(demo["dt.lyon"], octo, EVERYONE)
    record_outcome(user, octo.items.get(identity_key="key-5"), decision=Decision.DNA)  # open
    validated_list("2026-11", rows=6, start=0, facts={
        0: {"movement": Movement.NEW, "continuous_months": 1},
        1: {"movement": Movement.STATUS_CHANGED},
        2: {"ada_flag": True},
        3: {"continuous_months": 3},
        4: {"continuous_months": 2},
        5: {"continuous_months": 1},
    })
    nov = make_meeting()
    result = build_agenda(user, nov)
    assert sorted(_keys(nov.items.all())) == ["key-0", "key-1", "key-2", "key-3", "key-5"]
    assert result.carried == 1 and nov.items.get(identity_key="key-5").carried_over
    # narrower: only ADA and long stays of 4 months or more (key-5 still comes back: open outcome)
    dec_meeting = make_meeting(aware(2026, 11, 26))
    build_agenda(user, dec_meeting, AgendaCriteria(new_arrivals=False, status_changed=False, min_months=4))
    assert sorted(_keys(dec_meeting.items.all())) == ["key-2", "key-5"]

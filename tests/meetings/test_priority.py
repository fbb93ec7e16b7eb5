"""The order of the agenda (instruction I.B: OFII examines first who costs the ADA a day's
supplement, then the longest stays, then new arrivals) and the default I.B category, with the
weights written out as literals: a changed weight or a lost term changes these numbers."""

from types import SimpleNamespace

import pytest

from exchanges.models import ListRow, ListState, Movement, Status
from meetings.models import Category
from meetings.services.agenda import AgendaCriteria, build_agenda, candidate_rows, default_category, priority_for
from tests.factories import make_list


def row(ada=False, months=None, movement=Movement.PRESENT, status=Status.DA):
    return SimpleNamespace(ada_flag=ada, continuous_months=months, movement=movement, status=status)


@pytest.mark.parametrize("person, carried, expected", [
    (None, False, 0),
    (None, True, 3),                                    # a free point carried over from last month
    (row(), False, 0),                                  # no month known, not new, no ADA
    (row(months=1), False, 10),
    (row(months=7), False, 70),
    (row(months=60), False, 600),
    (row(months=61), False, 600),                       # capped at five years
    (row(months=200), True, 603),
    (row(movement=Movement.NEW, months=1), False, 15),
    (row(ada=True, months=2), False, 1020),             # ADA first: above any length of stay
    (row(ada=True, months=3, movement=Movement.NEW), True, 1038),
])
def test_priority_is_the_sum_of_its_reasons(person, carried, expected):
    assert priority_for(person, carried_over=carried) == expected


def test_priority_defaults_to_not_carried_over():
    assert priority_for(row(months=2)) == 20
    assert priority_for(None) == 0


def test_ada_outranks_the_longest_stay_and_a_new_arrival():
    assert priority_for(row(ada=True, months=2)) > priority_for(row(months=60, movement=Movement.NEW), True)


@pytest.mark.parametrize("person, expected", [
    (None, Category.ASYLUM_SEEKER),
    (row(status=""), Category.ASYLUM_SEEKER),
    (row(status=Status.DA), Category.ASYLUM_SEEKER),
    (row(status=Status.REFUGIE), Category.BPI),
    (row(status=Status.PROTECTION_SUBSIDIAIRE), Category.BPI),
    (row(status=Status.BPI), Category.BPI),
])
def test_default_category_follows_the_transmitted_status(person, expected):
    assert default_category(person) == expected


# --- the one-by-one picker (meetings.services.agenda.candidate_rows) --------------------------


def _names(rows):
    return [(r.last_name, r.first_name, r.line_number) for r in rows]


@pytest.mark.django_db
def test_candidates_are_the_rows_of_the_month_not_yet_on_the_agenda_in_name_order(demo, make_meeting, validated_list):
    ml = validated_list("2026-11", rows=4)
    rows = list(ListRow.objects.filter(monthly_list=ml).order_by("line_number"))
    # Same last name twice: the first name decides, then the line; a row without identity key
    # (an unidentifiable person) is never offered.
    for row, (last, first) in zip(rows, [("MARTIN", "Zoé"), ("ABDI", "Samir"), ("MARTIN", "Ali"), ("BAH", "Awa")]):
        row.last_name, row.first_name = last, first
        row.save()
    ListRow.objects.filter(pk=rows[3].pk).update(identity_key="")
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=2, start=100)  # a draft
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], validated_by=demo["siao.75"], rows=2, start=200)
    meeting = make_meeting()
    first_line = rows[0].line_number
    assert _names(candidate_rows(demo["dt.lyon"], meeting)) == [
        ("ABDI", "Samir", first_line + 1), ("MARTIN", "Ali", first_line + 2), ("MARTIN", "Zoé", first_line)]
    assert _names(candidate_rows(demo["siao.69"], meeting)) == _names(candidate_rows(demo["dt.lyon"], meeting))
    # Once placed on the agenda, a person is no longer a candidate.
    build_agenda(demo["dt.lyon"], meeting, AgendaCriteria(new_arrivals=False, status_changed=False, ada_flag=False,
                                                          min_months=None, row_ids=frozenset({rows[1].pk})))
    assert _names(candidate_rows(demo["dt.lyon"], meeting)) == [
        ("MARTIN", "Ali", first_line + 2), ("MARTIN", "Zoé", first_line)]


@pytest.mark.django_db
def test_no_candidate_for_the_prefecture_another_departement_or_without_a_validated_list(demo, make_meeting,
                                                                                         validated_list):
    meeting = make_meeting()
    assert list(candidate_rows(demo["dt.lyon"], meeting)) == []  # no validated list yet
    validated_list("2026-11", rows=2)
    assert len(candidate_rows(demo["dt.lyon"], meeting)) == 2
    assert list(candidate_rows(demo["prefecture.69"], meeting)) == []  # instruction I.A, II.A.2
    assert list(candidate_rows(demo["dt.paris"], meeting)) == []
    assert list(candidate_rows(demo["siao.75"], meeting)) == []

"""Derived facts, pure functions, literal expectations: the ADA flag's boundary ("hébergé de
manière continue depuis plus d'un mois", instruction II.A.3 / art. D.744-26) at every month
length, continuous months, movements and the persons who left."""

import datetime

import pytest

from exchanges.models import Movement, Status
from exchanges.services.derive import add_one_month, derive_rows, months_since
from exchanges.services.identity import name_key

D = datetime.date


@pytest.mark.parametrize("day, expected", [
    (D(2026, 1, 15), D(2026, 2, 15)),
    (D(2026, 1, 31), D(2026, 2, 28)),
    (D(2028, 1, 31), D(2028, 2, 29)),
    (D(2026, 3, 31), D(2026, 4, 30)),
    (D(2026, 12, 31), D(2027, 1, 31)),
    (D(2026, 12, 1), D(2027, 1, 1)),
    (D(2026, 11, 30), D(2026, 12, 30)),
])
def test_add_one_month(day, expected):
    assert add_one_month(day) == expected


def _row(entry, status=Status.DA, key="k1", **kw):
    return {"identity_key": key, "status": status, "entry_date": entry, "last_name": kw.get("last_name", "DUPONT"),
            "first_name": "Ana", "birth_date": kw.get("birth_date", D(1990, 1, 1)), "sex": "F"}


# period, entry landing exactly one month before the last day (not ADA), one day earlier (ADA)
ADA_BOUNDARIES = [
    ("2026-11", D(2026, 10, 30), D(2026, 10, 29)),  # 30-day month
    # 31-day month after a 30-day one: no entry in November lands on 31 December; 30 November
    # + 1 month = 30 December < 31 December, more than one month.
    ("2026-12", D(2026, 12, 1), D(2026, 11, 30)),
    ("2026-08", D(2026, 7, 31), D(2026, 7, 30)),  # 31-day month after a 31-day one
    ("2026-02", D(2026, 1, 28), D(2026, 1, 27)),  # 28-day February (and 29, 30, 31 January)
    ("2028-02", D(2028, 1, 29), D(2028, 1, 28)),  # 29-day February
    ("2026-04", D(2026, 3, 30), D(2026, 3, 29)),  # 30-day April after a 31-day March
    ("2027-01", D(2026, 12, 31), D(2026, 12, 30)),  # across the year
]


@pytest.mark.parametrize("period, exactly_one_month, more_than_one_month", ADA_BOUNDARIES)
def test_ada_flag_needs_strictly_more_than_one_month(period, exactly_one_month, more_than_one_month):
    rows = [_row(exactly_one_month, key="a"), _row(more_than_one_month, key="b")]
    derive_rows(rows, period, {})
    assert [r["ada_flag"] for r in rows] == [False, True]


@pytest.mark.parametrize("entry", [D(2026, 1, 29), D(2026, 1, 30), D(2026, 1, 31)])
def test_ada_february_end_of_january_entries_are_exactly_one_month(entry):
    """29, 30 and 31 January + 1 month all land on 28 February (2026): not more than one month."""
    rows = [_row(entry)]
    derive_rows(rows, "2026-02", {})
    assert rows[0]["ada_flag"] is False


@pytest.mark.parametrize("status", [Status.REFUGIE, Status.PROTECTION_SUBSIDIAIRE, Status.BPI])
def test_ada_flag_only_for_asylum_seekers(status):
    rows = [_row(D(2025, 1, 1), status=status)]
    derive_rows(rows, "2026-11", {})
    assert rows[0]["ada_flag"] is False


def test_ada_flag_without_entry_date_or_entered_this_month():
    rows = [_row(None, key="a"), _row(D(2026, 11, 1), key="b"), _row(D(2026, 11, 30), key="c")]
    derive_rows(rows, "2026-11", {})
    assert [r["ada_flag"] for r in rows] == [False, False, False]


@pytest.mark.parametrize("entry, expected", [
    (D(2026, 11, 1), 1), (D(2026, 11, 30), 1), (D(2026, 10, 31), 2), (D(2026, 10, 1), 2),
    (D(2025, 11, 30), 13), (D(2025, 12, 1), 12), (D(2026, 12, 1), 1), (D(2027, 3, 1), 1), (None, 1),
])
def test_months_since(entry, expected):
    assert months_since(entry, D(2026, 11, 1)) == expected


def test_months_since_february():
    assert months_since(D(2026, 1, 31), D(2026, 2, 1)) == 2
    assert months_since(D(2026, 2, 28), D(2026, 2, 1)) == 1
    assert months_since(D(2026, 3, 1), D(2026, 2, 1)) == 1


def test_movements_months_and_left_against_the_previous_month():
    previous = {
        "same": (Status.DA, 4, name_key("MARTIN", "Ana", D(1990, 1, 1), "F"), 101),
        "changed": (Status.DA, 1, name_key("DIALLO", "Ana", D(1990, 1, 1), "F"), 102),
        "gone": (Status.BPI, 2, name_key("GONE", "Ana", D(1990, 1, 1), "F"), 103),
    }
    rows = [
        _row(D(2026, 11, 2), key="same", last_name="MARTIN"),
        _row(D(2026, 9, 1), status=Status.REFUGIE, key="changed", last_name="DIALLO"),
        _row(D(2026, 11, 5), key="new", last_name="NOUVEAU"),
    ]
    left = derive_rows(rows, "2026-11", previous)
    assert [r["movement"] for r in rows] == [Movement.PRESENT, Movement.STATUS_CHANGED, Movement.NEW]
    # max(entry-based count, previous count + 1)
    assert [r["continuous_months"] for r in rows] == [5, 3, 1]
    assert left == [103]


def test_a_person_whose_key_changed_is_found_by_name_and_birth_date():
    """A row that gained an AGDREF number changes identity key: matched by name, birth date, sex."""
    previous = {"old-key": (Status.DA, 3, name_key("MARTIN", "Ana", D(1990, 1, 1), "F"), 7)}
    rows = [_row(D(2026, 8, 1), key="agdref-key", last_name="MARTIN")]
    left = derive_rows(rows, "2026-11", previous)
    assert rows[0]["movement"] == Movement.PRESENT and rows[0]["continuous_months"] == 4
    assert left == []
    other = [_row(D(2026, 8, 1), key="agdref-key", last_name="MARTIN", birth_date=D(1990, 1, 2))]
    assert derive_rows(other, "2026-11", previous) == [7]
    assert other[0]["movement"] == Movement.NEW


def test_continuous_months_are_capped_for_the_database():
    previous = {"k1": (Status.DA, 32767, "", 1)}
    rows = [_row(D(1900, 1, 1))]
    derive_rows(rows, "2026-11", previous)
    assert rows[0]["continuous_months"] == 32767


# --- stored lists: derive() on the database, its report, and re-derivation on validation ----

def _stored(demo, period, people, state):
    """A list of 69 whose rows are ``people``: [(identity_key, status, entry_date)]."""
    from exchanges.models import ListRow, MonthlyList
    from referentiel.models import Departement

    ml = MonthlyList.objects.create(departement=Departement.objects.get(code="69"), period=period, version=1,
                                    state=state, uploaded_by=demo["siao.69"], row_count=len(people), progress=100)
    ListRow.objects.bulk_create(
        ListRow(monthly_list=ml, line_number=i + 2, last_name=f"NOM{key}", first_name="P", birth_date=D(1990, 1, 1),
                sex="F", status=status, shelter_address="1 rue, 69001 Lyon", entry_date=entry, identity_key=key)
        for i, (key, status, entry) in enumerate(people))
    return ml


def test_derive_stored_rows_and_report(demo):
    from exchanges.models import ListRow, ListState
    from exchanges.services.derive import derive

    previous = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1)), ("b", Status.DA, D(2026, 9, 1)),
                                         ("gone", Status.BPI, D(2026, 1, 1))], ListState.VALIDATED)
    _stored(demo, "2026-10", [("x", Status.DA, D(2026, 9, 1))], ListState.DRAFT)  # not the validated one
    ListRow.objects.filter(monthly_list=previous, identity_key="a").update(continuous_months=7)
    ml = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1)), ("b", Status.REFUGIE, D(2026, 9, 1)),
                                   ("new", Status.DA, D(2026, 10, 29)), ("x", Status.DA, D(2026, 11, 2))],
                 ListState.DRAFT)
    derive(ml)
    rows = {r.identity_key: r for r in ml.rows.all()}
    assert {k: (r.movement, r.continuous_months, r.ada_flag) for k, r in rows.items()} == {
        "a": (Movement.PRESENT, 8, True), "b": (Movement.STATUS_CHANGED, 3, False),
        "new": (Movement.NEW, 2, True), "x": (Movement.NEW, 1, False)}
    gone = ListRow.objects.get(monthly_list=previous, identity_key="gone")
    assert ml.report == {"previous_list_id": previous.pk, "previous_row_count": 3, "left_count": 1,
                         "left_row_ids": [gone.pk], "new_count": 2, "ada_count": 2, "counts_current": True}


def test_archive_counts_reuse_the_report_until_a_row_changes(demo, monkeypatch):
    """The archive's arrivals/departures/ADA counts: the report's while they hold (same previous
    list, no row changed), recounted from the rows once an agent removed or fixed one."""
    from exchanges.models import ListState, MonthlyList
    from exchanges.services import derive as derive_mod
    from exchanges.services import workflow

    previous = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1)), ("gone", Status.BPI, D(2026, 1, 1))],
                       ListState.VALIDATED)
    ml = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1)), ("new", Status.DA, D(2026, 10, 29))],
                 ListState.DRAFT)
    derive_mod.derive(ml)
    ml.save(update_fields=["report"])
    real = derive_mod.Deriver.__call__
    calls = []
    monkeypatch.setattr(derive_mod.Deriver, "__call__", lambda *a: calls.append(1) or real(*a))
    assert derive_mod.movement_counts(MonthlyList.objects.get(pk=ml.pk)) == (1, 1, 2)
    assert calls == []  # taken from the report
    workflow.delete_row(ml.rows.get(identity_key="a"), user=demo["siao.69"])
    fresh = MonthlyList.objects.get(pk=ml.pk)
    assert fresh.report["counts_current"] is False
    assert derive_mod.movement_counts(fresh) == (1, 2, 1)  # "a" removed: two left, one ADA
    assert calls == [1]
    # A previous month validated again (another list) also makes the report's counts stale.
    MonthlyList.objects.filter(pk=previous.pk).update(state=ListState.SUPERSEDED)
    derive_mod.derive(fresh)
    fresh.report["previous_list_id"] = previous.pk  # as recorded before the previous list changed
    assert derive_mod.movement_counts(fresh) == (1, 0, 1)
    assert calls == [1, 1, 1]


def test_derive_without_previous_validated_list(demo):
    from exchanges.models import ListState
    from exchanges.services.derive import derive, previous_index, previous_validated_list

    _stored(demo, "2026-09", [("a", Status.DA, D(2026, 9, 1))], ListState.VALIDATED)  # two months back
    _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1))], ListState.SUPERSEDED)
    ml = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1))], ListState.DRAFT)
    assert previous_validated_list(ml) is None and previous_index(None) == {}
    derive(ml)
    assert ml.report == {"previous_list_id": None, "previous_row_count": None, "left_count": 0,
                         "left_row_ids": [], "new_count": 1, "ada_count": 1, "counts_current": True}
    assert ml.rows.get().continuous_months == 3


def test_previous_index_skips_rows_without_key(demo):
    from exchanges.models import ListState
    from exchanges.services.derive import previous_index

    ml = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1)), ("", Status.DA, D(2026, 9, 1))],
                 ListState.VALIDATED)
    index = previous_index(ml)
    row = ml.rows.get(identity_key="a")
    assert index == {"a": (Status.DA, 1, name_key("NOMa", "P", D(1990, 1, 1), "F"), row.pk)}


def test_identity_key_match_wins_over_a_name_match():
    """Found by key: the name fallback is not consulted (two previous persons may share a name
    and birth date, e.g. an AGDREF number that differs)."""
    same_name = name_key("DUPONT", "Ana", D(1990, 1, 1), "F")
    previous = {"k1": (Status.DA, 5, same_name, 1), "k2": (Status.BPI, 2, same_name, 2)}
    rows = [_row(D(2026, 8, 1), key="k1")]
    assert derive_rows(rows, "2026-11", previous) == [2]
    assert (rows[0]["movement"], rows[0]["continuous_months"]) == (Movement.PRESENT, 6)
    other = {"k1": (Status.DA, 2, name_key("AUTRE", "Ana", D(1990, 1, 1), "F"), 9)}
    rows = [_row(D(2026, 8, 1), key="k1")]
    assert derive_rows(rows, "2026-11", other) == []
    assert rows[0]["movement"] == Movement.PRESENT


def test_previous_list_is_the_same_departements(demo):
    from exchanges.models import ListState
    from exchanges.services.derive import previous_validated_list
    from referentiel.models import Departement

    other = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1))], ListState.VALIDATED)
    other.departement = Departement.objects.get(code="75")
    other.save()
    ml = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1))], ListState.DRAFT)
    assert previous_validated_list(ml) is None
    mine = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1))], ListState.VALIDATED)
    assert previous_validated_list(ml) == mine


def test_derive_reads_stored_rows_in_a_constant_number_of_queries(demo, django_assert_num_queries):
    from exchanges.models import ListState
    from exchanges.services.derive import derive

    _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1))], ListState.VALIDATED)
    small = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1))], ListState.DRAFT)
    big = _stored(demo, "2026-11", [(f"k{i}", Status.DA, D(2026, 9, 1)) for i in range(6)], ListState.DRAFT)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        derive(small)
    with CaptureQueriesContext(connection) as six:
        derive(big)
    def reads(ctx):
        return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]

    assert len(reads(one)) == len(reads(six))  # no field read lazily row by row


def test_a_previous_month_validated_late_rederives_the_following_one_and_its_archive_counts(demo):
    """November was validated first (compared with nothing); October then validated late: November
    is compared again with it, and its archive's counts follow. Nothing happens when there is no
    validated next month (a draft, another département) or when it was already compared."""
    from exchanges.extracts.services import build_for_list
    from exchanges.models import Extract, ListState, MonthlyList
    from exchanges.services.derive import derive, rederive_following

    november = _stored(demo, "2026-11", [("a", Status.DA, D(2026, 9, 1)), ("new", Status.DA, D(2026, 10, 29))],
                       ListState.VALIDATED)
    derive(november)
    november.save(update_fields=["report"])
    build_for_list(november.pk)
    assert Extract.objects.values_list("new_count", "left_count", "ada_count").get() == (2, 0, 2)
    october = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1)), ("gone", Status.BPI, D(2026, 1, 1))],
                      ListState.VALIDATED)
    assert rederive_following(october) == november
    november = MonthlyList.objects.get(pk=november.pk)
    gone = october.rows.get(identity_key="gone")
    assert november.report == {"previous_list_id": october.pk, "previous_row_count": 2, "left_count": 1,
                               "left_row_ids": [gone.pk], "new_count": 1, "ada_count": 2, "counts_current": True}
    assert Extract.objects.values_list("new_count", "left_count", "ada_count").get() == (1, 1, 2)
    assert rederive_following(october) is None  # already compared with it
    september = _stored(demo, "2026-09", [("a", Status.DA, D(2026, 9, 1))], ListState.VALIDATED)
    assert rederive_following(september) == october  # the month after September, not November
    assert MonthlyList.objects.get(pk=november.pk).report["previous_list_id"] == october.pk
    assert rederive_following(november) is None  # no December list
    from tests.factories import make_list

    make_list("75", "2026-12", uploaded_by=demo["siao.75"], rows=1)
    assert rederive_following(november) is None  # another département's December
    _stored(demo, "2026-12", [("a", Status.DA, D(2026, 9, 1))], ListState.DRAFT)
    assert rederive_following(november) is None  # a draft is not compared


def test_a_list_derived_slice_after_slice_is_derived_as_a_whole():
    """The import derives 1,000 rows at a time (``Deriver``): a person of last month matched in
    the first slice is not "left" at the end, one matched only in the last slice neither, and
    the one nobody matched is."""
    from exchanges.services.derive import Deriver

    previous = {"first": (Status.DA, 2, "", 101), "last": (Status.DA, 6, "", 102), "gone": (Status.BPI, 1, "", 103)}
    deriver = Deriver("2026-11", previous)
    first = [_row(D(2026, 10, 1), key="first"), _row(D(2026, 11, 3), key="new")]
    last = [_row(D(2026, 10, 20), status=Status.BPI, key="last")]
    deriver(first)
    deriver(last)
    assert deriver.left() == [103]
    assert [(r["movement"], r["continuous_months"], r["ada_flag"]) for r in first + last] == [
        (Movement.PRESENT, 3, True), (Movement.NEW, 1, False), (Movement.STATUS_CHANGED, 7, False)]


def test_a_row_without_entry_date_does_not_lend_its_facts_to_the_next_ones():
    """The facts are memoised per entry date: a row with none (1 month, no ADA) comes first,
    the rows after it keep their own."""
    rows = [_row(None, key="a"), _row(D(2026, 8, 1), key="b"), _row(None, key="c")]
    derive_rows(rows, "2026-11", {})
    assert [(r["continuous_months"], r["ada_flag"]) for r in rows] == [(1, False), (4, True), (1, False)]


def test_the_report_of_a_list_derived_slice_after_slice_counts_every_slice(demo):
    """``Derivation`` (the import's, 1,000 rows at a time): arrivals and ADA flags of every
    slice are added up, and the person of last month found in no slice is the one who left."""
    from exchanges.models import ListState
    from exchanges.services.derive import Derivation

    previous = _stored(demo, "2026-10", [("a", Status.DA, D(2026, 9, 1)), ("gone", Status.BPI, D(2026, 1, 1))],
                       ListState.VALIDATED)
    ml = _stored(demo, "2026-11", [], ListState.DRAFT)
    derivation = Derivation(ml)
    derivation.add([_row(D(2026, 9, 1), key="a"), _row(D(2026, 11, 3), key="n1")])
    derivation.add([_row(D(2026, 10, 1), key="n2"), _row(D(2026, 10, 1), status=Status.BPI, key="n3")])
    assert derivation.finish() is ml
    gone = previous.rows.get(identity_key="gone")
    assert ml.report == {"previous_list_id": previous.pk, "previous_row_count": 2, "left_count": 1,
                         "left_row_ids": [gone.pk], "new_count": 3, "ada_count": 2, "counts_current": True}

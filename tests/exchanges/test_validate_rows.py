"""``RowValidator.validate_rows`` (a file's rows validated column by column, issue 15) gives,
row for row, what ``validate`` gives for each row of ``raw_cells`` — values, messages and their
order, duplicate warnings across the slices of one file — and what the plain version kept in
test_validation_equivalence.py gives.

Tables are drawn from mostly clean rows (so that the column-wise path assembles most rows
itself) with a few messy cells (the values of the equivalence test: 1, 1.0 and True, blanks,
control characters, dates as objects, serials and text, values too long, unknown statuses),
short rows, unmapped columns and repeated persons."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.services.identity import identity_key
from exchanges.services.validation import RowValidator, _identity_keys, raw_cells
from tests.exchanges.test_validation_equivalence import TODAY, VALUES, PlainValidator

D, DT = datetime.date, datetime.datetime
FIELDS = list(VALUES)
CLEAN = {
    "last_name": ["DUPONT", "Martin", "N’Diaye", "LE GALL"],
    "first_name": ["Élodie", "Jean-Pierre", "Awa"],
    "birth_date": [D(1990, 2, 3), DT(1985, 6, 1), "03/02/1990", D(2001, 12, 31)],
    "sex": ["F", "M", "Homme"],
    "status": ["DA", "BPI", "réfugié"],
    "shelter_address": ["12 rue des Lilas", "3, place Bellecour"],
    "address_postcode": ["69003", 69002.0, ""],
    "address_town": ["Lyon", "Villeurbanne", ""],
    "entry_date": [D(2026, 10, 1), "01/09/2026", D(2025, 1, 31)],
    "agdref": ["1234567890", ""],
    "nationality": ["Afghane", ""],
}
WIDTH = len(FIELDS) + 2


@st.composite
def tables(draw):
    unmapped = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=2))
    fields = [f for f in FIELDS if f not in unmapped]
    positions = draw(st.permutations(range(WIDTH)))
    columns = {f: positions[k] for k, f in enumerate(fields)}
    table = []
    for line in range(2, 2 + draw(st.integers(1, 12))):
        values = {f: draw(st.sampled_from(CLEAN[f])) for f in FIELDS}
        for f in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
            values[f] = draw(st.sampled_from(VALUES[f]))
        cells = ["?"] * WIDTH
        for f, i in columns.items():
            cells[i] = values[f]
        table.append((line, cells[:draw(st.integers(0, WIDTH))] if draw(st.integers(0, 5)) == 0 else cells))
    if draw(st.booleans()):  # the same persons again, further down
        table += [(line + len(table), list(cells)) for line, cells in table]
    return columns, table


def one_by_one(validator, table, columns):
    return [validator.validate(line, raw) for line, raw in raw_cells(table, columns)]


@pytest.mark.parametrize("with_agdref", [False, True])
def test_every_messy_cell_alone_in_a_clean_row(with_agdref):
    """One table, every column mapped: a clean row, then one row per messy value of each
    column (each alone in an otherwise clean row), then the clean row again (a duplicate)."""
    columns = {f: i for i, f in enumerate(reversed(FIELDS))}
    clean = {f: CLEAN[f][0] for f in FIELDS}
    variants = [clean] + [{**clean, f: value} for f in FIELDS for value in VALUES[f] + CLEAN[f]] + [clean]
    variants += [{**clean, "birth_date": D(2026, 10, 2)}, {**clean, "birth_date": "02/10/2026", "entry_date": 46296},
                 {**clean, "shelter_address": "", "address_postcode": "", "address_town": ""},
                 {**clean, "shelter_address": "", "address_postcode": "", "address_town": "Lyon"},
                 {**clean, "shelter_address": "a" * 490, "address_town": "Villeurbanne"}]
    table = [(line, [values[f] for f in reversed(FIELDS)]) for line, values in enumerate(variants, 2)]
    new, fast, plain = (cls("2026-11", column_names={"sex": "Genre"}, with_agdref=with_agdref, today=TODAY)
                        for cls in (RowValidator, RowValidator, PlainValidator))
    rows = new.validate_rows(table, columns)
    assert rows == one_by_one(fast, table, columns)
    assert rows == one_by_one(plain, table, columns)
    assert rows[0]["errors"] == rows[0]["warnings"] == [] and len(rows) == len(variants)
    assert rows[len(variants) - 6]["warnings"] == [
        {"column": "Nom", "field": "last_name", "message": "même personne qu’à la ligne 2 (doublon dans le fichier)"}]
    assert rows[-5]["errors"] == [{"column": "Date de naissance", "field": "birth_date", "message":
                                   "date de naissance (02/10/2026) postérieure à la date d’entrée (01/10/2026)"}]
    assert rows[-1]["errors"] == [{"column": "Adresse de l’hébergement", "field": "shelter_address",
                                   "message": "valeur trop longue (510 caractères, 500 au plus)"}]


@settings(deadline=None)  # examples: the profile (100; 25 under mutation)
@given(tables(), st.booleans(), st.sampled_from(["2026-11", "2026-10"]), st.integers(0, 30))
def test_validate_rows_gives_what_validate_gives_row_by_row(drawn, with_agdref, period, cut):
    columns, table = drawn
    names = {"last_name": "NOM", "status": "Situation"}
    new, fast, plain = (cls(period, column_names=names, with_agdref=with_agdref, today=TODAY)
                        for cls in (RowValidator, RowValidator, PlainValidator))
    # Two slices of one file, one validator: duplicates are found across them.
    rows = new.validate_rows(table[:cut], columns) + new.validate_rows(table[cut:], columns)
    assert rows == one_by_one(fast, table, columns)
    assert rows == one_by_one(plain, table, columns)


def test_a_clean_file_and_its_duplicates_word_for_word():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "address_postcode": 6, "address_town": 7, "entry_date": 8}
    person = ["DUPONT", "Élodie", D(1990, 2, 3), "F", "DA", "12 rue des Lilas", 69003.0, "Lyon", D(2026, 10, 1)]
    other = ["MARTIN", "Awa", "03/02/1991", "Femme", "BPI", "3 place X", "", "", "01/09/2026"]
    validator = RowValidator("2026-11", column_names={"last_name": "NOM"}, today=TODAY)
    first = validator.validate_rows([(2, person), (3, other)], columns)
    second = validator.validate_rows([(4, list(person)), (5, other[:5])], columns)
    assert [(r["line_number"], r["errors"], r["warnings"]) for r in first] == [(2, [], []), (3, [], [])]
    assert first[0] == {
        "line_number": 2, "raw": {"last_name": "DUPONT", "first_name": "Élodie", "birth_date": "03/02/1990",
                                  "sex": "F", "status": "DA", "shelter_address": "12 rue des Lilas",
                                  "address_postcode": "69003", "address_town": "Lyon", "entry_date": "01/10/2026"},
        "errors": [], "warnings": [], "last_name": "DUPONT", "first_name": "Élodie", "nationality": "", "agdref": "",
        "shelter_address": "12 rue des Lilas, 69003 Lyon", "sex": "F", "status": "DA", "birth_date": D(1990, 2, 3),
        "entry_date": D(2026, 10, 1),
        # sha256("N|DUPONT|ELODIE|1990-02-03|F"), computed outside the application
        "identity_key": "47a4a13f6ffee92d9410c4fdb904c21640166e7ca0474f4e36ed8602f39ecf82",
    }
    assert second[0]["warnings"] == [{"column": "NOM", "field": "last_name",
                                      "message": "même personne qu’à la ligne 2 (doublon dans le fichier)"}]
    assert second[0]["identity_key"] == first[0]["identity_key"] and second[0]["errors"] == []
    assert [(e["column"], e["message"]) for e in second[1]["errors"]] == [
        ("Date d’entrée", "valeur manquante"), ("Adresse de l’hébergement", "valeur manquante")]
    assert second[1]["shelter_address"] == "" and second[1]["entry_date"] is None
    assert second[1]["identity_key"] == first[1]["identity_key"]
    assert second[1]["warnings"] == [{"column": "NOM", "field": "last_name",
                                      "message": "même personne qu’à la ligne 3 (doublon dans le fichier)"}]


def test_a_birth_after_the_entry_in_a_file_without_blank_dates():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6}
    table = [(2, ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1)]),
             (3, ["C", "D", D(2026, 10, 5), "M", "DA", "rue", D(2026, 10, 4)])]
    rows = RowValidator("2026-11", today=TODAY).validate_rows(table, columns)
    assert [r["errors"] for r in rows] == [[], [{"column": "Date de naissance", "field": "birth_date", "message":
                                                 "date de naissance (05/10/2026) postérieure à la date d’entrée "
                                                 "(04/10/2026)"}]]


def test_identity_keys_of_a_column_are_those_of_identity_key():
    """The helper alone, on rows ``validate_rows`` always checks one by one as well (no birth
    date, no last name): an AGDREF number first, then the names, no key without a birth date."""
    last = ["Dupont", "", "Dupont", "Dupont", "", "Ébé"]
    first = ["Élodie", "Awa", "", "Élodie", "Awa", "Zoé"]
    births = [D(1990, 2, 3), D(1990, 2, 3), D(1991, 1, 1), None, D(1990, 2, 3), D(2000, 1, 1)]
    sexes = ["F", None, "M", "F", "F", None]
    agdrefs = ["", "", "", "1234567890", "12-34", "0"]
    expected = [identity_key(*row) if row[2] else "" for row in zip(last, first, births, sexes, agdrefs)]
    assert _identity_keys(RowValidator("2026-11")._key_memos, last, first, births, sexes, agdrefs) == expected
    assert expected[1] == expected[3] == "" and expected[4] == identity_key("X", "Y", D(1, 1, 1), None, "1234")


def test_zero_and_minus_zero_dates_are_reported_as_validate_reports_them():
    """0.0 and -0.0 are one memo key with two messages: the column-wise fill keeps the order
    in which ``validate`` meets the two date cells of each row."""
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6}
    base = ["A", "B", None, "F", "DA", "rue", None]
    for pairs in ([(5.0, -0.0), (0.0, 5.0)], [(-0.0, 0.0), (0.0, -0.0)], [(0.0, 33000.0), (33000.0, -0.0)]):
        table = [(line, base[:2] + [birth] + base[3:6] + [entry]) for line, (birth, entry) in enumerate(pairs, 2)]
        expected = one_by_one(RowValidator("2026-11", today=TODAY), table, columns)
        assert RowValidator("2026-11", today=TODAY).validate_rows(table, columns) == expected


def test_an_unhashable_cell_goes_through_the_row_checks():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6}
    good = ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1)]
    table = [(2, good)] + [(line, good[:i] + [[good[i]]] + good[i + 1:]) for line, i in enumerate(range(7), 3)]
    expected = one_by_one(PlainValidator("2026-11", today=TODAY), table, columns)
    assert RowValidator("2026-11", today=TODAY).validate_rows(table, columns) == expected
    assert RowValidator("2026-11", today=TODAY).validate_rows([], columns) == []


def test_columns_of_one_type_each_keep_1_and_true_apart():
    """1 and True are equal in Python: a column of integers, a column of booleans and a column
    of both (two types), in one file, are cleaned and parsed as ``validate`` does."""
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6}
    table = [(line, [True, 1, D(1990, 1, 1), sex, "DA", "rue", D(2026, 10, 1)])
             for line, sex in enumerate([1, True, 2, 1], 2)]
    rows = RowValidator("2026-11", today=TODAY).validate_rows(table, columns)
    assert rows == one_by_one(RowValidator("2026-11", today=TODAY), table, columns)
    assert [(r["last_name"], r["first_name"], r["sex"]) for r in rows] == [
        ("True", "1", "M"), ("True", "1", None), ("True", "1", "F"), ("True", "1", "M")]
    assert rows[1]["errors"] == [{"column": "Sexe", "field": "sex",
                                  "message": "sexe inconnu « True » (valeurs admises : F, M, H, Femme, Homme)"}]


def test_unmapped_columns_are_missing_on_every_row():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "shelter_address": 5}
    table = [(2, ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1)]),
             (3, ["C", "D", D(1991, 1, 1), "M", "DA", "rue", D(2026, 10, 1)])]
    for unmapped in (columns, {f: i for f, i in columns.items() if f not in ("sex", "birth_date")}):
        rows = RowValidator("2026-11", today=TODAY).validate_rows(table, unmapped)
        assert rows == one_by_one(RowValidator("2026-11", today=TODAY), table, unmapped)
        assert all(r["status"] is None and r["entry_date"] is None for r in rows)
        assert [(e["column"], e["message"]) for e in rows[0]["errors"]][-2:] == [
            ("Statut", "valeur manquante"), ("Date d’entrée", "valeur manquante")]


def test_an_unhashable_cell_in_an_optional_column():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6, "address_town": 7}
    good = ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1), "Lyon"]
    table = [(2, good), (3, good[:7] + [["Lyon"]])]
    rows = RowValidator("2026-11", today=TODAY).validate_rows(table, columns)
    assert rows == one_by_one(PlainValidator("2026-11", today=TODAY), table, columns)
    assert rows[1]["shelter_address"] == "rue, ['Lyon']" and rows[1]["errors"] == []


@pytest.mark.parametrize("with_agdref", [False, True])
def test_lengths_at_the_limit_and_partial_address_columns(with_agdref):
    """Values one character over each limit, and files where the address is split over a
    postcode column only (no town), the AGDREF column absent while it is collected."""
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6, "address_postcode": 7, "nationality": 8}
    good = ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1), "69003", "Afghane"]
    variants = [{}, {1: "x" * 151}, {0: "y" * 150, 1: "x" * 150}, {5: "a" * 494}, {5: "a" * 493}, {7: ""},
                {5: "", 7: "69003"}, {8: "n" * 101}, {8: "n" * 100}]
    table = [(line, [change.get(i, cell) for i, cell in enumerate(good)]) for line, change in enumerate(variants, 2)]
    rows = RowValidator("2026-11", with_agdref=with_agdref, today=TODAY).validate_rows(table, columns)
    assert rows == one_by_one(PlainValidator("2026-11", with_agdref=with_agdref, today=TODAY), table, columns)
    assert [len(r["shelter_address"]) for r in rows[3:5]] == [500, 500]
    assert [r["shelter_address"] for r in (rows[0], rows[5], rows[6])] == ["rue, 69003", "rue", "69003"]
    assert [bool(r["errors"]) for r in rows] == [False, True, False, True, False, False, False, with_agdref, False]


def test_agdref_numbers_and_a_file_without_mapped_columns():
    columns = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
               "entry_date": 6, "agdref": 7}
    good = ["A", "B", D(1990, 1, 1), "F", "DA", "rue", D(2026, 10, 1)]
    table = [(2, good + ["1234567890"]), (3, good + ["12345678901"]), (4, good + ["ab"]), (5, good + [""])]
    rows = RowValidator("2026-11", with_agdref=True, today=TODAY).validate_rows(table, columns)
    assert rows == one_by_one(PlainValidator("2026-11", with_agdref=True, today=TODAY), table, columns)
    assert rows[0]["identity_key"] == identity_key("X", "Y", None, None, "1234567890") != ""
    assert [len(r["warnings"]) for r in rows] == [0, 1, 1, 1]  # the last: same person as line 4 (name key)
    nothing = RowValidator("2026-11", today=TODAY).validate_rows(table[:2], {})
    assert nothing == one_by_one(RowValidator("2026-11", today=TODAY), table[:2], {})
    assert [r["raw"] for r in nothing] == [{}, {}]


def test_identity_keys_without_blank_names_nor_dates():
    last, first, births, sexes = ["Dupont", "Ébé"], ["Élodie", "Zoé"], [D(1990, 2, 3), D(2000, 1, 1)], ["F", None]
    for agdrefs in (["", ""], ["1234567890", "ab"]):
        expected = [identity_key(*row) for row in zip(last, first, births, sexes, agdrefs)]
        assert _identity_keys(RowValidator("2026-11")._key_memos, last, first, births, sexes, agdrefs) == expected

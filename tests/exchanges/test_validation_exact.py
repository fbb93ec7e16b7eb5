"""Row validation word for word (exchanges/services/validation.py): the row dict a monthly list's
row becomes, every message with its column, every limit on both sides, the same value met again
later in the file, and the return flow's shared parsing (``BaseRowValidator``).

Through the public API only (``RowValidator(...).validate(line, raw)`` and its output), so that
the tests hold whatever the inside of ``validate`` becomes. No database: pure functions.
Expected identity keys are SHA-256 digests of literal payloads (``A|<agdref>`` or
``N|<NAME>|<FIRST NAME>|<ISO birth date>|<sex>``), computed here with hashlib.
"""

import collections
import datetime
import hashlib

import pytest

from exchanges.models import Sex, Status
from exchanges.returns.validation import ReturnRowValidator
from exchanges.services import validation as validation_module
from exchanges.services.validation import RowValidator, raw_cells

D, DT = datetime.date, datetime.datetime
TODAY = D(2026, 11, 24)  # FROZEN_NOW's date (tests/conftest.py)
GOOD = {"last_name": "DUPONT", "first_name": "Élodie", "birth_date": "03/02/1990", "sex": "F", "status": "DA",
        "shelter_address": "12 rue des Lilas, 69003 Lyon", "entry_date": "01/10/2026"}
MISSING = "valeur manquante"
SEX_VALUES = "(valeurs admises : F, M, H, Femme, Homme)"
STATUS_VALUES = "(valeurs admises : DA, demandeur d’asile, réfugié, protection subsidiaire, BPI)"
NOT_TRANSMITTED = ("non transmissible : seuls les demandeurs d’asile et les bénéficiaires d’une protection "
                   "internationale sont transmis à l’OFII (article L.744-6 du CESEDA) ; retirez cette ligne")


def sha(payload):
    return hashlib.sha256(payload.encode()).hexdigest()


DUPONT_KEY = sha("N|DUPONT|ELODIE|1990-02-03|F")


def validator(period="2026-11", **kwargs):
    kwargs.setdefault("today", TODAY)
    return RowValidator(period, **kwargs)


def check(overrides=None, *, line=2, drop=(), **kwargs):
    raw = {f: v for f, v in {**GOOD, **(overrides or {})}.items() if f not in drop}
    return validator(**kwargs).validate(line, raw)


def msgs(row, kind="errors"):
    return [(m["column"], m["message"]) for m in row[kind]]


def err(column, field, message):
    return {"column": column, "field": field, "message": message}


# --- the row dict ---------------------------------------------------------------------------

def test_a_good_row_gives_exactly_this_row():
    assert check() == {
        "line_number": 2, "raw": dict(GOOD), "errors": [], "warnings": [],
        "last_name": "DUPONT", "first_name": "Élodie", "nationality": "", "agdref": "",
        "shelter_address": "12 rue des Lilas, 69003 Lyon", "sex": Sex.F, "status": Status.DA,
        "birth_date": D(1990, 2, 3), "entry_date": D(2026, 10, 1), "identity_key": DUPONT_KEY,
    }


def test_cells_are_cleaned_and_raw_keeps_the_cleaned_text_of_every_cell_read():
    row = check({"last_name": "  DU\x00PONT ", "first_name": "Élodie\t Marie", "sex": " f ", "status": "  da",
                 "birth_date": D(1990, 2, 3), "entry_date": DT(2026, 10, 1), "shelter_address": "12 rue\xa0des  Lilas",
                 "address_postcode": 69003.0, "address_town": "Lyon\n", "agdref": "7501234567"}, line=9)
    assert row["raw"] == {"last_name": "DUPONT", "first_name": "Élodie Marie", "birth_date": "03/02/1990",
                          "sex": "f", "status": "da", "shelter_address": "12 rue des Lilas",
                          "entry_date": "01/10/2026", "address_postcode": "69003", "address_town": "Lyon",
                          "agdref": "7501234567"}
    assert row["line_number"] == 9 and row["errors"] == [] and row["warnings"] == []
    assert (row["last_name"], row["first_name"]) == ("DUPONT", "Élodie Marie")
    assert row["shelter_address"] == "12 rue des Lilas, 69003 Lyon"
    assert (row["agdref"], row["nationality"]) == ("", "")  # not collected
    assert (row["sex"], row["status"], row["birth_date"], row["entry_date"]) == (Sex.F, Status.DA, D(1990, 2, 3),
                                                                                 D(2026, 10, 1))
    assert row["identity_key"] == sha("N|DUPONT|ELODIEMARIE|1990-02-03|F")


def test_numbers_and_booleans_as_cells():
    rows = [validator().validate(n, {**GOOD, "first_name": v, "sex": s})
            for n, (v, s) in enumerate([(1, 1), (1.0, 1.0), (True, True), (1.5, 2), (2.0, 2.0)], 2)]
    assert [r["first_name"] for r in rows] == ["1", "1", "True", "1.5", "2"]
    assert [r["sex"] for r in rows] == [Sex.M, Sex.M, None, Sex.F, Sex.F]
    assert [msgs(r) for r in rows] == [[], [], [("Sexe", f"sexe inconnu « True » {SEX_VALUES}")], [], []]


def test_the_person_key_uses_the_agdref_number_only_when_collected():
    assert check({"agdref": "7501234567"})["identity_key"] == DUPONT_KEY
    row = check({"agdref": "7501234567", "nationality": "Afghane"}, with_agdref=True)
    assert (row["agdref"], row["nationality"], row["identity_key"]) == ("7501234567", "Afghane",
                                                                       sha("A|7501234567"))
    assert row["raw"]["agdref"] == "7501234567" and row["warnings"] == []
    assert check({"nationality": "Afghane"}, with_agdref=True)["identity_key"] == DUPONT_KEY
    male = check({"sex": "H", "first_name": "Jean-Luc"})
    assert male["identity_key"] == sha("N|DUPONT|JEANLUC|1990-02-03|M")


def test_no_birth_date_no_person_key():
    for birth in ("", "31/02/1990", None):
        assert check({"birth_date": birth})["identity_key"] == ""
        assert check({"birth_date": birth, "agdref": "7501234567"}, with_agdref=True)["identity_key"] == ""


def test_agdref_and_nationality_collected_but_not_in_the_file():
    row = check(with_agdref=True)
    assert (row["agdref"], row["nationality"], row["errors"], row["warnings"]) == ("", "", [], [])
    assert row["identity_key"] == DUPONT_KEY and "agdref" not in row["raw"]


# --- addresses ------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "postcode", "town", "expected"), [
    ("12 rue A", "", "", "12 rue A"),
    ("12 rue A", "69003", "", "12 rue A, 69003"),
    ("12 rue A", "", "Lyon", "12 rue A, Lyon"),
    ("12 rue A", "69003", "Lyon", "12 rue A, 69003 Lyon"),
    ("", "69003", "Lyon", "69003 Lyon"),
    ("", "69003", "", "69003"),
    ("", "", "Lyon", "Lyon"),
    (None, 69003, " Lyon ", "69003 Lyon"),
])
def test_the_shelter_address_from_its_columns(address, postcode, town, expected):
    row = check({"shelter_address": address, "address_postcode": postcode, "address_town": town})
    assert row["shelter_address"] == expected and row["errors"] == []


def test_no_address_at_all_is_missing_on_the_address_column():
    names = {"shelter_address": "Adresse CHU"}
    for cells in ({"shelter_address": ""}, {"shelter_address": "  ", "address_postcode": "", "address_town": None}):
        row = check(cells, column_names=names)
        assert row["errors"] == [err("Adresse CHU", "shelter_address", MISSING)] and row["shelter_address"] == ""
    assert msgs(check(drop=["shelter_address"])) == [("Adresse de l’hébergement", MISSING)]


# --- missing values -------------------------------------------------------------------------

def test_every_missing_value_in_field_order_then_the_address():
    row = validator().validate(4, {})
    assert row["errors"] == [
        err("Nom", "last_name", MISSING), err("Prénom", "first_name", MISSING),
        err("Date de naissance", "birth_date", MISSING), err("Sexe", "sex", MISSING),
        err("Statut", "status", MISSING), err("Date d’entrée", "entry_date", MISSING),
        err("Adresse de l’hébergement", "shelter_address", MISSING),
    ]
    assert row["warnings"] == [] and row["raw"] == {}
    assert (row["sex"], row["status"], row["birth_date"], row["entry_date"], row["identity_key"]) == (
        None, None, None, None, "")
    assert (row["last_name"], row["first_name"], row["shelter_address"]) == ("", "", "")


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", "\x00\x07", "\xa0"])
@pytest.mark.parametrize(("field", "label"), [
    ("last_name", "Nom"), ("first_name", "Prénom"), ("birth_date", "Date de naissance"), ("sex", "Sexe"),
    ("status", "Statut"), ("entry_date", "Date d’entrée"), ("shelter_address", "Adresse de l’hébergement"),
])
def test_a_blank_cell_is_one_missing_value_and_nothing_else(field, label, blank):
    row = check({field: blank})
    assert row["errors"] == [err(label, field, MISSING)], row["errors"]
    assert row["warnings"] == []


def test_a_zero_is_a_value_not_a_missing_one():
    row = check({"last_name": 0, "first_name": 0.0})
    assert (row["last_name"], row["first_name"], row["errors"]) == ("0", "0", [])


def test_columns_are_named_as_in_the_agents_file_or_by_their_label():
    names = {"last_name": "NOM", "first_name": "", "birth_date": None, "sex": "Genre", "status": "Situation",
             "entry_date": "Arrivée", "shelter_address": "Lieu"}
    row = validator(column_names=names).validate(2, {})
    assert [m["column"] for m in row["errors"]] == ["NOM", "Prénom", "Date de naissance", "Genre", "Situation",
                                                    "Arrivée", "Lieu"]


# --- values too long ------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "label", "limit"), [
    ("last_name", "Nom", 150), ("first_name", "Prénom", 150), ("shelter_address", "Adresse de l’hébergement", 500),
    ("agdref", "Numéro AGDREF", 20), ("nationality", "Nationalité", 100),
])
def test_a_value_at_its_limit_passes_and_one_more_character_is_an_error(field, label, limit):
    at_limit = check({field: "7" * limit}, with_agdref=True)
    assert at_limit["errors"] == [] and at_limit[field] == "7" * limit
    over = check({field: "7" * (limit + 1)}, with_agdref=True)
    assert over["errors"] == [err(label, field, f"valeur trop longue ({limit + 1} caractères, {limit} au plus)")]
    assert over[field] == "7" * limit and over["raw"][field] == "7" * (limit + 1)


def test_the_address_limit_counts_the_postcode_and_the_town():
    # 490 + ", " + "69003" + " " + "Lyo" = 501 characters.
    row = check({"shelter_address": "a" * 490, "address_postcode": "69003", "address_town": "Lyo"})
    assert msgs(row) == [("Adresse de l’hébergement", "valeur trop longue (501 caractères, 500 au plus)")]
    assert row["shelter_address"] == "a" * 490 + ", 69003 Ly"
    assert check({"shelter_address": "a" * 490, "address_postcode": "69003", "address_town": "Ly"})["errors"] == []


def test_every_value_too_long_in_one_row_in_column_order_and_the_key_from_the_cut_values():
    row = check({"last_name": "N" * 160, "first_name": "P" * 151, "shelter_address": "A" * 600,
                 "agdref": "1" * 25, "nationality": "Y" * 101}, with_agdref=True)
    assert msgs(row) == [
        ("Nom", "valeur trop longue (160 caractères, 150 au plus)"),
        ("Prénom", "valeur trop longue (151 caractères, 150 au plus)"),
        ("Adresse de l’hébergement", "valeur trop longue (600 caractères, 500 au plus)"),
        ("Numéro AGDREF", "valeur trop longue (25 caractères, 20 au plus)"),
        ("Nationalité", "valeur trop longue (101 caractères, 100 au plus)"),
    ]
    assert (row["last_name"], row["first_name"], row["shelter_address"], row["agdref"], row["nationality"]) == (
        "N" * 150, "P" * 150, "A" * 500, "1" * 20, "Y" * 100)
    assert msgs(row, "warnings") == [("Numéro AGDREF", "numéro AGDREF inattendu (10 chiffres attendus)")]
    assert row["identity_key"] == sha("A|" + "1" * 20)


def test_one_value_too_long_leaves_the_others_untouched():
    row = check({"nationality": "Y" * 101, "agdref": "7501234567"}, with_agdref=True)
    assert msgs(row) == [("Nationalité", "valeur trop longue (101 caractères, 100 au plus)")]
    assert (row["last_name"], row["first_name"], row["shelter_address"], row["agdref"], row["nationality"]) == (
        "DUPONT", "Élodie", "12 rue des Lilas, 69003 Lyon", "7501234567", "Y" * 100)
    row = check({"last_name": "D" * 151, "nationality": "Afghane"}, with_agdref=True)
    assert (row["first_name"], row["nationality"], row["agdref"]) == ("Élodie", "Afghane", "")
    assert row["identity_key"] == sha("N|" + "D" * 150 + "|ELODIE|1990-02-03|F")


def test_a_value_at_its_limit_next_to_one_over_its_own():
    row = check({"last_name": "N" * 150, "first_name": "P" * 151, "shelter_address": "A" * 500,
                 "agdref": "1" * 20, "nationality": "Y" * 100}, with_agdref=True)
    assert msgs(row) == [("Prénom", "valeur trop longue (151 caractères, 150 au plus)")]
    assert (row["last_name"], row["shelter_address"], row["agdref"], row["nationality"]) == (
        "N" * 150, "A" * 500, "1" * 20, "Y" * 100)


def test_agdref_and_nationality_not_collected_are_never_checked():
    row = check({"agdref": "1" * 25, "nationality": "Y" * 101})
    assert (row["errors"], row["warnings"], row["agdref"], row["nationality"]) == ([], [], "", "")
    assert row["raw"]["agdref"] == "1" * 25


# --- AGDREF ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("agdref", "warned"), [
    ("7501234567", False), (7501234567, False), ("750123456", True), ("75012345678", True), ("750123456A", True),
    ("75 0123456", True), ("", False),
])
def test_an_agdref_number_is_ten_digits(agdref, warned):
    row = check({"agdref": agdref}, with_agdref=True)
    expected = [("Numéro AGDREF", "numéro AGDREF inattendu (10 chiffres attendus)")] if warned else []
    assert msgs(row, "warnings") == expected and row["errors"] == []


# --- cells the parsers refuse ---------------------------------------------------------------

def test_the_four_parsed_cells_refused_in_this_order_with_their_columns():
    names = {"sex": "Genre", "status": "Situation", "birth_date": "DDN", "entry_date": "Arrivée"}
    row = check({"sex": "X", "status": "touriste", "birth_date": "31/02/1990", "entry_date": "le 3 mars"},
                column_names=names)
    assert row["errors"] == [
        err("Genre", "sex", f"sexe inconnu « X » {SEX_VALUES}"),
        err("Situation", "status", f"statut inconnu « touriste » {STATUS_VALUES}"),
        err("DDN", "birth_date", "date impossible « 31/02/1990 »"),
        err("Arrivée", "entry_date", "« le 3 mars » n’est pas une date (format attendu JJ/MM/AAAA)"),
    ]
    assert (row["sex"], row["status"], row["birth_date"], row["entry_date"], row["identity_key"]) == (
        None, None, None, None, "")
    assert row["warnings"] == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sex", "Z", f"sexe inconnu « Z » {SEX_VALUES}"),
    ("sex", "?", MISSING),  # nothing but punctuation: no value given
    ("status", "Débouté", f"statut « Débouté » {NOT_TRANSMITTED}"),
    ("status", "OQTF", f"statut « OQTF » {NOT_TRANSMITTED}"),
    ("birth_date", 1990, "« 1990 » ressemble à une année seule : indiquez la date complète (JJ/MM/AAAA)"),
    ("entry_date", "01/01/1850", "date impossible « 01/01/1850 » (année 1850)"),
])
def test_one_refused_cell_is_one_error_on_its_column(field, value, message):
    label = {"sex": "Sexe", "status": "Statut", "birth_date": "Date de naissance", "entry_date": "Date d’entrée"}
    row = check({field: value})
    assert row["errors"] == [err(label[field], field, message)] and row[field] is None


def test_control_characters_are_dropped_before_a_date_is_read():
    """A stray control character (a NUL after a date in a UTF-16 file) is not part of the date,
    and never reaches a message (PostgreSQL cannot store a NUL)."""
    row = check({"birth_date": "03/02/1990\x00", "entry_date": "\x0701/10/2026 08:30"})
    assert (row["birth_date"], row["entry_date"], row["errors"]) == (D(1990, 2, 3), D(2026, 10, 1), [])
    assert msgs(check({"entry_date": "le\x00 3\x1f mars"})) == [
        ("Date d’entrée", "« le 3 mars » n’est pas une date (format attendu JJ/MM/AAAA)")]


def test_the_parsed_values():
    row = check({"sex": "Homme", "status": "réfugiée", "birth_date": 32907, "entry_date": "2026-10-01 08:30"})
    assert (row["sex"], row["status"], row["birth_date"], row["entry_date"]) == (
        Sex.M, Status.REFUGIE, D(1990, 2, 3), D(2026, 10, 1))
    assert row["raw"]["birth_date"] == "32907" and row["errors"] == []


# --- dates against each other, the month and today ------------------------------------------

def test_birth_in_the_future_is_the_only_birth_message():
    row = check({"birth_date": "25/11/2026", "entry_date": "01/10/2026"})
    assert row["errors"] == [err("Date de naissance", "birth_date", "date de naissance dans le futur (25/11/2026)")]
    assert row["warnings"] == [] and row["birth_date"] == D(2026, 11, 25)
    assert row["identity_key"] == sha("N|DUPONT|ELODIE|2026-11-25|F")


def test_birth_after_entry_on_the_next_day_only():
    row = check({"birth_date": "02/10/2026", "entry_date": "01/10/2026"})
    assert row["errors"] == [err("Date de naissance", "birth_date",
                                 "date de naissance (02/10/2026) postérieure à la date d’entrée (01/10/2026)")]
    assert check({"birth_date": "01/10/2026", "entry_date": "01/10/2026"})["errors"] == []


def test_birth_judged_alone_when_the_entry_date_is_missing_or_refused():
    for entry, entry_errors in ((None, [("Date d’entrée", MISSING)]),
                                ("31/02/2026", [("Date d’entrée", "date impossible « 31/02/2026 »")])):
        row = check({"birth_date": "03/02/1990", "entry_date": entry})
        assert msgs(row) == entry_errors and row["warnings"] == []
        old = check({"birth_date": "29/11/1926", "entry_date": entry})
        assert msgs(old, "warnings") == [("Date de naissance",
                                          "personne de plus de 100 ans (née le 29/11/1926) : à vérifier")]


def test_after_entry_is_told_before_over_a_hundred():
    row = check({"birth_date": "02/01/1920", "entry_date": "01/01/1920"})
    assert msgs(row) == [("Date de naissance",
                          "date de naissance (02/01/1920) postérieure à la date d’entrée (01/01/1920)")]
    assert msgs(row, "warnings") == [("Date d’entrée", "entrée il y a plus de 5 ans (01/01/1920) : à vérifier")]


def test_over_a_hundred_the_day_before_the_end_of_the_month_a_hundred_years_back():
    assert check({"birth_date": "30/11/1926"})["warnings"] == []
    row = check({"birth_date": "29/11/1926"})
    assert row["warnings"] == [err("Date de naissance", "birth_date",
                                   "personne de plus de 100 ans (née le 29/11/1926) : à vérifier")]
    assert row["errors"] == [] and row["identity_key"] == sha("N|DUPONT|ELODIE|1926-11-29|F")


def test_entry_after_the_end_of_the_month_then_in_the_future_then_five_years_back():
    late = D(2026, 12, 3)  # a November list checked in December
    assert check({"entry_date": "30/11/2026"}, today=late)["errors"] == []
    row = check({"entry_date": "01/12/2026"}, today=late)
    assert row["errors"] == [err("Date d’entrée", "entry_date",
                                 "date d’entrée (01/12/2026) postérieure à la fin du mois de la liste (30/11/2026)")]
    # After the month and after today: the month is named, once.
    assert msgs(check({"entry_date": "02/12/2026"})) == [
        ("Date d’entrée", "date d’entrée (02/12/2026) postérieure à la fin du mois de la liste (30/11/2026)")]
    assert check({"entry_date": "24/11/2026"})["errors"] == []
    row = check({"entry_date": "25/11/2026"})
    assert row["errors"] == [err("Date d’entrée", "entry_date",
                                 "date d’entrée dans le futur (25/11/2026, nous sommes le 24/11/2026)")]
    assert row["warnings"] == [] and row["entry_date"] == D(2026, 11, 25)


def test_entry_five_years_back_is_a_warning_from_the_day_before():
    assert check({"entry_date": "30/11/2021"})["warnings"] == []
    row = check({"entry_date": "29/11/2021"})
    assert row["errors"] == [] and row["entry_date"] == D(2021, 11, 29)
    assert row["warnings"] == [err("Date d’entrée", "entry_date", "entrée il y a plus de 5 ans (29/11/2021) : à vérifier")]


def test_a_february_list_of_a_leap_year():
    """Period 2028-02 ends on 29/02/2028: five years back is 28/02/2023 (no 29th in 2023), a
    hundred years back 29/02/1928 (a leap year)."""
    v = validator("2028-02", today=D(2028, 2, 29))
    assert v.validate(2, {**GOOD, "entry_date": "28/02/2023", "birth_date": "29/02/1928"})["warnings"] == []
    row = v.validate(3, {**GOOD, "entry_date": "27/02/2023", "birth_date": "28/02/1928"})
    assert msgs(row, "warnings") == [
        ("Date de naissance", "personne de plus de 100 ans (née le 28/02/1928) : à vérifier"),
        ("Date d’entrée", "entrée il y a plus de 5 ans (27/02/2023) : à vérifier")]
    assert msgs(v.validate(4, {**GOOD, "entry_date": "01/03/2028"})) == [
        ("Date d’entrée", "date d’entrée (01/03/2028) postérieure à la fin du mois de la liste (29/02/2028)")]


def test_today_defaults_to_the_day_in_paris(time_machine):
    time_machine.move_to(DT(2026, 11, 30, 23, 30, tzinfo=datetime.UTC), tick=False)  # 1 December in Paris
    v = RowValidator("2026-12")
    assert v.validate(2, {**GOOD, "entry_date": "01/12/2026"})["errors"] == []
    assert msgs(v.validate(3, {**GOOD, "entry_date": "02/12/2026"})) == [
        ("Date d’entrée", "date d’entrée dans le futur (02/12/2026, nous sommes le 01/12/2026)")]


# --- the same person twice ------------------------------------------------------------------

def test_every_later_occurrence_names_the_first_line():
    v = validator()
    first = v.validate(2, dict(GOOD))
    other = v.validate(3, {**GOOD, "first_name": "Marie"})
    second = v.validate(5, {**GOOD, "last_name": "Dupont", "first_name": "ÉLODIE", "status": "BPI"})
    third = v.validate(8, {**GOOD, "last_name": "du pont", "first_name": "elodie"})
    assert first["warnings"] == [] and other["warnings"] == []
    duplicate = err("Nom", "last_name", "même personne qu’à la ligne 2 (doublon dans le fichier)")
    assert second["warnings"] == [duplicate] and third["warnings"] == [duplicate]
    assert second["errors"] == [] and second["identity_key"] == third["identity_key"] == DUPONT_KEY


def test_the_same_line_validated_again_is_not_its_own_duplicate():
    v = validator()
    assert v.validate(2, dict(GOOD))["warnings"] == []
    assert v.validate(2, {**GOOD, "status": "BPI"})["warnings"] == []
    assert v.validate(3, dict(GOOD))["warnings"] == [
        err("Nom", "last_name", "même personne qu’à la ligne 2 (doublon dans le fichier)")]


def test_duplicates_by_agdref_number_and_the_column_named_as_in_the_file():
    v = validator(with_agdref=True, column_names={"last_name": "NOM USAGE"})
    assert v.validate(2, {**GOOD, "agdref": "7501234567"})["warnings"] == []
    row = v.validate(3, {**GOOD, "last_name": "MARTIN", "first_name": "Paul", "sex": "M", "agdref": "7501234567"})
    assert row["warnings"] == [err("NOM USAGE", "last_name", "même personne qu’à la ligne 2 (doublon dans le fichier)")]


def test_no_birth_date_no_duplicate():
    v = validator()
    for line in (2, 3):
        row = v.validate(line, {**GOOD, "birth_date": "31/02/1990"})
        assert row["warnings"] == [] and row["identity_key"] == ""


def test_each_validator_is_one_file():
    assert validator().validate(2, dict(GOOD))["warnings"] == []
    assert validator().validate(3, dict(GOOD))["warnings"] == []


# --- a value met again later in the file ----------------------------------------------------

def test_the_same_cells_on_later_rows_give_the_same_values_and_messages_on_each_row():
    v = validator(column_names={"sex": "Genre"})
    bad = {**GOOD, "last_name": " DU  PONT ", "sex": "X", "status": "débouté", "birth_date": "31/02/1990",
           "entry_date": "le 3 mars"}
    expected_errors = [
        err("Genre", "sex", f"sexe inconnu « X » {SEX_VALUES}"),
        err("Statut", "status", f"statut « débouté » {NOT_TRANSMITTED}"),
        err("Date de naissance", "birth_date", "date impossible « 31/02/1990 »"),
        err("Date d’entrée", "entry_date", "« le 3 mars » n’est pas une date (format attendu JJ/MM/AAAA)"),
    ]
    rows = [v.validate(line, dict(bad)) for line in (2, 3, 7)]
    for line, row in zip((2, 3, 7), rows, strict=True):
        assert row["line_number"] == line and row["errors"] == expected_errors
        assert row["last_name"] == row["raw"]["last_name"] == "DU PONT"
        assert (row["sex"], row["status"], row["birth_date"], row["entry_date"]) == (None, None, None, None)
    good = [v.validate(line, dict(GOOD)) for line in (8, 9)]
    assert [r["errors"] for r in good] == [[], []]
    assert [(r["sex"], r["status"], r["birth_date"], r["entry_date"]) for r in good] == [
        (Sex.F, Status.DA, D(1990, 2, 3), D(2026, 10, 1))] * 2


def test_one_date_cell_as_birth_then_as_entry():
    v = validator()
    first = v.validate(2, {**GOOD, "birth_date": "01/10/2026", "entry_date": "01/10/2026"})
    assert (first["birth_date"], first["entry_date"], first["errors"]) == (D(2026, 10, 1), D(2026, 10, 1), [])
    bad = v.validate(3, {**GOOD, "birth_date": "32/01/1990", "entry_date": "32/01/1990"})
    assert msgs(bad) == [("Date de naissance", "date impossible « 32/01/1990 »"),
                         ("Date d’entrée", "date impossible « 32/01/1990 »")]


def test_one_and_one_point_zero_and_true_are_three_cells_in_one_file():
    v = validator()
    rows = [v.validate(n, {**GOOD, "birth_date": b, "sex": s, "first_name": s})
            for n, (b, s) in enumerate([(32907, 1), (32907.0, True), (32907.5, 1.0), (True, 1)], 2)]
    assert [r["sex"] for r in rows] == [Sex.M, None, Sex.M, Sex.M]
    assert [r["first_name"] for r in rows] == ["1", "True", "1", "1"]
    assert [r["birth_date"] for r in rows] == [D(1990, 2, 3), D(1990, 2, 3), D(1990, 2, 3), None]
    assert msgs(rows[1]) == [("Sexe", f"sexe inconnu « True » {SEX_VALUES}")]
    assert msgs(rows[3]) == [("Date de naissance", "« True » n’est pas une date")]


def test_the_number_one_and_true_as_status_and_dates_in_one_file():
    v = validator()
    rows = [v.validate(n, {**GOOD, "status": cell, "birth_date": cell, "entry_date": cell})
            for n, cell in enumerate([1, True, 1.0], 2)]
    assert [msgs(r) for r in rows] == [[
        ("Statut", f"statut inconnu « {status} » {STATUS_VALUES}"),
        ("Date de naissance", f"« {date} » n’est pas une date"),
        ("Date d’entrée", f"« {date} » n’est pas une date"),
    ] for status, date in (("1", "1"), ("True", "True"), ("1", "1.0"))]


def test_an_unhashable_cell_is_parsed_like_any_other():
    """No reader gives one today; a list in a cell must not break the row nor the file."""
    v = validator()
    row = v.validate(2, {**GOOD, "sex": ["X"], "status": "touriste", "birth_date": "31/02/1990"})
    assert row["errors"] == [
        err("Sexe", "sex", f"sexe inconnu « ['X'] » {SEX_VALUES}"),
        err("Statut", "status", f"statut inconnu « touriste » {STATUS_VALUES}"),
        err("Date de naissance", "birth_date", "date impossible « 31/02/1990 »"),
    ]
    assert row["raw"]["sex"] == "['X']"
    row = v.validate(3, {**GOOD, "sex": "F", "status": ["DA"], "entry_date": ["01/10/2026"]})
    assert (row["sex"], row["status"], row["entry_date"]) == (Sex.F, Status.DA, None)
    assert row["errors"] == [err("Date d’entrée", "entry_date",
                                 "« ['01/10/2026'] » n’est pas une date (format attendu JJ/MM/AAAA)")]
    row = v.validate(4, {**GOOD, "sex": [], "last_name": ["A"], "birth_date": ["x"], "entry_date": None})
    assert row["errors"] == [err("Date d’entrée", "entry_date", MISSING), err("Sexe", "sex", MISSING),
                             err("Date de naissance", "birth_date",
                                 "« ['x'] » n’est pas une date (format attendu JJ/MM/AAAA)")]
    assert row["last_name"] == "['A']" and row["raw"]["last_name"] == "['A']" and row["raw"]["sex"] == "[]"
    row = v.validate(5, {**GOOD, "status": [], "sex": " ", "birth_date": ""})
    assert msgs(row) == [("Date de naissance", MISSING), ("Sexe", MISSING), ("Statut", MISSING)]


def test_one_and_true_told_apart_in_rows_with_an_unhashable_cell():
    v = validator()
    rows = [v.validate(n, {**GOOD, "sex": s, "status": ["DA"], "birth_date": b})
            for n, (s, b) in enumerate([(1, 32907), (True, 32907.0), (1.0, True), (True, 32907)], 2)]
    assert [r["sex"] for r in rows] == [Sex.M, None, Sex.M, None]
    assert [r["birth_date"] for r in rows] == [D(1990, 2, 3), D(1990, 2, 3), None, D(1990, 2, 3)]
    assert msgs(rows[1]) == msgs(rows[3]) == [("Sexe", f"sexe inconnu « True » {SEX_VALUES}")]
    assert msgs(rows[2]) == [("Date de naissance", "« True » n’est pas une date")]


@pytest.fixture
def calls(monkeypatch):
    """Counts the cleaning and parsing calls the validator makes, per function."""
    counter = collections.Counter()

    def counted(name, function):
        def wrapper(value, *args, **kwargs):
            counter[name] += 1
            return function(value, *args, **kwargs)
        return wrapper

    for name in ("clean_text", "parse_sex", "parse_status", "parse_date"):
        monkeypatch.setattr(validation_module, name, counted(name, getattr(validation_module, name)))
    return counter


def test_each_distinct_cell_is_cleaned_and_parsed_once_per_file(calls):
    """Issue 15: on a list of 100,000 rows the same few values repeat on every row; rows that
    repeat cells already met cost no cleaning nor parsing. The next file starts afresh."""
    bad = {**GOOD, "last_name": "MARTIN", "sex": "X", "status": "débouté", "birth_date": 1990, "entry_date": "x"}
    blank = {**GOOD, "last_name": "DURAND", "sex": " ", "status": "", "birth_date": None, "entry_date": "\x00"}
    for _file in (1, 2):
        v = validator()
        first = [v.validate(2, dict(GOOD)), v.validate(3, dict(bad)), v.validate(4, dict(blank))]
        made = dict(calls)
        assert made["parse_sex"] == made["parse_status"] == 2 and made["parse_date"] == 4
        assert made["clean_text"] >= 8
        again = [v.validate(line, dict(row)) for line in range(5, 25) for row in (GOOD, bad, blank)]
        assert calls == made, "cells met before were cleaned or parsed again"
        assert [r["errors"] for r in again[:3]] == [r["errors"] for r in first]
        assert [len(r["errors"]) for r in first] == [0, 4, 4]
        assert [r["birth_date"] for r in again[:3]] == [D(1990, 2, 3), None, None]
        calls.clear()


def test_next_to_an_unhashable_cell_the_other_cells_are_still_parsed_once(calls):
    v = validator()
    rows = {"sex": {**GOOD, "sex": ["F"], "status": "touriste", "birth_date": "31/02/1990", "entry_date": "x"},
            "status": {**GOOD, "sex": "X", "status": ["DA"], "birth_date": "31/02/1990", "entry_date": "x"}}
    # The same cells first met on a row without an unhashable cell.
    assert len(v.validate(1, {**GOOD, "sex": "X", "status": "touriste", "birth_date": "31/02/1990",
                              "entry_date": "x"})["errors"]) == 4
    for line in range(2, 8):
        row = v.validate(line, dict(rows["sex" if line % 2 else "status"]))
        assert len(row["errors"]) == 3
    # The unhashable cell is parsed on each of its 3 rows; every other distinct cell once.
    assert (calls["parse_sex"], calls["parse_status"], calls["parse_date"]) == (3 + 1, 1 + 3, 2)


# --- raw_cells ------------------------------------------------------------------------------

def test_raw_cells_maps_each_row_and_pads_short_rows():
    rows = [(2, ["A", "B", "C"]), (3, ["D", "E"]), (5, [])]
    assert list(raw_cells(rows, {"last_name": 0, "first_name": 2, "sex": 1})) == [
        (2, {"last_name": "A", "first_name": "C", "sex": "B"}),
        (3, {"last_name": "D", "first_name": None, "sex": "E"}),
        (5, {"last_name": None, "first_name": None, "sex": None}),
    ]


# --- the return flow's rows (BaseRowValidator's plain parsing) ------------------------------

RETURN = {"birth_name": "DUPONT", "first_name": "Élodie", "birth_date": "03/02/1990", "exit_date": "05/11/2026"}


def test_a_return_row_with_its_sex_and_dates_parsed():
    row = ReturnRowValidator("2026-11", today=TODAY).validate(3, {**RETURN, "sex": " femme ",
                                                                  "entry_date": D(2026, 10, 1)})
    assert row["errors"] == [] and row["warnings"] == []
    assert (row["sex"], row["birth_date"], row["entry_date"], row["exit_date"], row["refused_on"]) == (
        Sex.F, D(1990, 2, 3), D(2026, 10, 1), D(2026, 11, 5), None)


@pytest.mark.parametrize("blank", [None, "", "  ", "\x00\x07"])
def test_a_return_row_without_sex_or_optional_date_has_no_error(blank):
    row = ReturnRowValidator("2026-11", today=TODAY).validate(3, {**RETURN, "sex": blank, "refused_on": blank})
    assert row["errors"] == [] and row["sex"] == "" and row["refused_on"] is None


def test_a_return_row_refused_cells_name_their_columns():
    names = {"sex": "Genre", "exit_date": "Sortie le"}
    row = ReturnRowValidator("2026-11", column_names=names, today=TODAY).validate(
        4, {**RETURN, "sex": "X", "exit_date": "31/02/2026", "refused_on": "01/11/2026"})
    assert row["errors"] == [err("Genre", "sex", f"sexe inconnu « X » {SEX_VALUES}"),
                             err("Sortie le", "exit_date", "date impossible « 31/02/2026 »")]
    assert (row["sex"], row["exit_date"], row["refused_on"]) == ("", None, D(2026, 11, 1))

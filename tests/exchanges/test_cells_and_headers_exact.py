"""A cell as text, a header as a field, exactly (exchanges/services/parsing.py): ``clean_text``
(what every stored value and message shows), ``fold`` and the header matching of the mapping
step (accents, case, spaces, synonyms, duplicates, missing mandatory columns). No database."""

import datetime

import pytest

from exchanges.services.parsing import ParseError, clean_text, fold, match_header, match_headers, parse_date

D, DT = datetime.date, datetime.datetime
HEADER = ["NOM", "Prénom", "Date de naissance", "Sexe", "Situation administrative", "Adresse de l'hébergement",
          "Date d'entrée"]
COLUMNS = {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "shelter_address": 5,
           "entry_date": 6}


# --- clean_text -----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (None, ""),
    ("", ""),
    ("DUPONT", "DUPONT"),
    ("Jean Pierre", "Jean Pierre"),
    ("=SUM(A1)", "=SUM(A1)"),
    (" DUPONT", "DUPONT"),
    ("DUPONT ", "DUPONT"),
    ("Jean  Pierre", "Jean Pierre"),
    ("  Jean \t\n Pierre  ", "Jean Pierre"),
    ("Jean\tPierre", "Jean Pierre"),
    ("Jean\xa0Pierre", "Jean Pierre"),
    ("Jean\u202fPierre", "Jean Pierre"),
    ("Jean\u2028Pierre", "Jean Pierre"),
    ("DU\x00PONT\x07", "DUPONT"),
    ("\x01\x02\x03\x04\x05\x06\x08\x0b\x0c\x0e\x0f\x10\x1aA\x1b\x1c\x1d\x1e\x1f\x7f", "A"),
    ("a\x0bb", "ab"),
    ("\x00", ""),
    ("   ", ""),
    (0, "0"),
    (69003, "69003"),
    (-3, "-3"),
    (69003.0, "69003"),
    (-3.0, "-3"),
    (2.5, "2.5"),
    (0.1, "0.1"),
    (1e20, "100000000000000000000"),
    (True, "True"),
    (False, "False"),
    (D(1990, 2, 3), "03/02/1990"),
    (DT(1990, 2, 3), "03/02/1990"),
    (DT(1990, 2, 3, 8, 30), "03/02/1990"),  # a date and time: the date (as the date parser reads it)
    (["A", "B"], "['A', 'B']"),
])
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_any_other_cell_is_cleaned_as_its_text():
    class Cell(str):  # a reader's own string type
        pass

    assert clean_text(Cell(" DU\x00PONT  Marie\x07 ")) == "DUPONT Marie"


def test_an_already_clean_string_is_returned_as_is():
    text = "12 rue des Lilas, 69003 Lyon"
    assert clean_text(text) is text


# --- fold and a header --------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("Date d’entrée", "date d entree"),
    ("  DATE D'ENTRÉE  ", "date d entree"),
    ("N° AGDREF", "n agdref"),
    ("Né(e) le", "ne e le"),
    ("Sexe (F/M)", "sexe f m"),
    ("Prénom", "prenom"),
    ("ﬁn", "fin"),
    ("__Code__postal__", "code postal"),
    ("", ""),
    (1990, "1990"),
    (None, "none"),
])
def test_fold(value, expected):
    assert fold(value) == expected


@pytest.mark.parametrize(("header", "field"), [
    ("NOM", "last_name"), ("Nom de naissance", "last_name"), ("Prénoms", "first_name"),
    ("DDN", "birth_date"), ("Né(e) le", "birth_date"), ("Sexe (H/F)", "sex"), ("Civilité", "sex"),
    ("Situation administrative", "status"), ("Statut DA/BPI", "status"), ("Adresse de l’hébergement", "shelter_address"),
    ("Structure", "shelter_address"), ("CP", "address_postcode"), ("Ville", "address_town"),
    ("Date d'entrée", "entry_date"), ("Début de prise en charge", "entry_date"), ("N° AGDREF", "agdref"),
    ("Nationalité", "nationality"), ("Situation au 1er du mois", None), ("", None), ("Nom du père", None),
])
def test_a_header_names_a_field(header, field):
    assert match_header(header) == field


# --- match_headers ------------------------------------------------------------------------

def test_the_usual_header():
    assert match_headers(HEADER) == (COLUMNS, [], [])


def test_headers_with_other_spellings_and_an_unknown_column_ignored():
    header = ["  nom ", "PRENOM", "Commentaire", "né le", "GENRE", "statut", "Lieu d’hébergement", "entrée", ""]
    columns, missing, ignored = match_headers(header)
    assert columns == {"last_name": 0, "first_name": 1, "birth_date": 3, "sex": 4, "status": 5, "shelter_address": 6,
                       "entry_date": 7}
    assert missing == [] and ignored == ["Commentaire"]


def test_a_second_column_for_the_same_field_is_ignored_the_first_wins():
    header = [*HEADER, "Nom d'usage", "Sexe"]
    columns, missing, ignored = match_headers(header)
    assert columns == COLUMNS and missing == [] and ignored == ["Nom d'usage", "Sexe"]


def test_missing_mandatory_columns_in_field_order():
    columns, missing, ignored = match_headers(["Sexe", "Situation au 1er du mois", "Nom", "  ", None])
    assert columns == {"sex": 0, "last_name": 2}
    assert missing == ["first_name", "birth_date", "status", "shelter_address", "entry_date"]
    assert ignored == ["Situation au 1er du mois", None]
    assert match_headers([])[1] == ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address",
                                    "entry_date"]


def test_an_address_split_over_postcode_and_town():
    header = [h for h in HEADER if h != "Adresse de l'hébergement"]
    assert match_headers(header)[1] == ["shelter_address"]
    assert match_headers([*header, "Code postal"]) == (
        {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "status": 4, "entry_date": 5,
         "address_postcode": 6}, ["shelter_address"], [])
    columns, missing, ignored = match_headers([*header, "Code postal", "Commune"])
    assert missing == [] and ignored == [] and columns["address_town"] == 7 and "shelter_address" not in columns
    assert match_headers([*header, "Ville"])[1] == []


def test_agdref_and_nationality_columns_only_when_collected():
    header = [*HEADER, "N° AGDREF", "Nationalité"]
    assert match_headers(header) == (COLUMNS, [], ["N° AGDREF", "Nationalité"])
    assert match_headers(header, with_agdref=True) == ({**COLUMNS, "agdref": 7, "nationality": 8}, [], [])
    assert match_headers(header, {"agdref": 8, "nationality": 7}) == (COLUMNS, [], ["N° AGDREF", "Nationalité"])


def test_the_agents_mapping_wins_and_blank_choices_are_skipped():
    header = list(HEADER)
    header[4] = "Situation au 1er du mois"
    assert match_headers(header)[1:] == (["status"], ["Situation au 1er du mois"])
    # As the mapping form posts it: indexes as text, unchosen fields as "" or None, in any order.
    for mapping in ({"status": "4"}, {"sex": "", "status": 4}, {"sex": None, "status": "4", "first_name": ""}):
        assert match_headers(header, mapping) == (COLUMNS, [], []), mapping
    columns, missing, ignored = match_headers(header, {"status": 4, "last_name": "1", "first_name": 0})
    assert columns == {**COLUMNS, "last_name": 1, "first_name": 0} and missing == [] and ignored == []
    columns, missing, ignored = match_headers(header, {"entry_date": 4})
    assert columns == {"last_name": 0, "first_name": 1, "birth_date": 2, "sex": 3, "shelter_address": 5,
                       "entry_date": 4}
    assert missing == ["status"] and ignored == ["Date d'entrée"]


# --- dates with two-digit years -----------------------------------------------------------

@pytest.mark.parametrize(("text", "today", "expected"), [
    ("1/1/26", D(2026, 11, 24), D(2026, 1, 1)),
    ("31/12/26", D(2026, 1, 1), D(2026, 12, 31)),  # this year, even later than today
    ("1/1/27", D(2026, 11, 24), D(1927, 1, 1)),
    ("1/1/00", D(2026, 11, 24), D(2000, 1, 1)),
    ("1/1/99", D(2026, 11, 24), D(1999, 1, 1)),
    ("1/1/27", D(2027, 1, 1), D(2027, 1, 1)),
])
def test_two_digit_years(text, today, expected):
    assert parse_date(text, today=today) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2026-02-30", "date impossible « 2026-02-30 »"),
    ("1899-12-31", "date impossible « 1899-12-31 » (année 1899)"),
    ("30/02/26", "date impossible « 30/02/26 »"),
    ("30.02.2026 08:30", "date impossible « 30.02.2026 »"),
])
def test_impossible_dates_name_the_cell(text, message):
    with pytest.raises(ParseError) as refused:
        parse_date(text, today=D(2026, 11, 24))
    assert str(refused.value) == message


def test_a_date_cell_of_control_characters_alone_is_missing():
    for cell in ("\x00", "\x07\x1f", "\x00 \x0b"):
        with pytest.raises(ParseError) as refused:
            parse_date(cell)
        assert str(refused.value) == "valeur manquante"

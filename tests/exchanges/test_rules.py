"""Row rules of instruction II.A.3 called directly (exchanges/services/validation.py), with the
exact French message and column, and the duplicate check of a row corrected in the browser."""

import datetime

import pytest

from exchanges.models import ListState
from exchanges.services import workflow
from exchanges.services.validation import RowValidator, add_years, raw_cells
from referentiel.models import Departement
from tests.exchanges import samples

D = datetime.date
TODAY = D(2026, 11, 24)  # FROZEN_NOW's date (tests/conftest.py)
GOOD = {"last_name": "DUPONT", "first_name": "Élodie", "birth_date": "03/02/1990", "sex": "F", "status": "DA",
        "shelter_address": "12 rue des Lilas, 69003 Lyon", "entry_date": "01/10/2026"}


def check(overrides=None, *, period="2026-11", today=TODAY, with_agdref=False, names=None, line=2, validator=None):
    validator = validator or RowValidator(period, column_names=names, with_agdref=with_agdref, today=today)
    return validator.validate(line, {**GOOD, **(overrides or {})})


def messages(result, kind="errors"):
    return [(m["column"], m["message"]) for m in result[kind]]


def test_a_good_row_has_no_message():
    row = check()
    assert row["errors"] == [] and row["warnings"] == []
    assert (row["birth_date"], row["entry_date"], row["sex"], row["status"]) == (D(1990, 2, 3), D(2026, 10, 1), "F", "DA")
    assert row["identity_key"] != ""


def test_birth_date_in_the_future_is_an_error():
    row = check({"birth_date": "25/11/2026", "entry_date": "01/11/2026"})
    assert messages(row) == [("Date de naissance", "date de naissance dans le futur (25/11/2026)")]


def test_birth_date_today_is_not_in_the_future():
    row = check({"birth_date": "24/11/2026", "entry_date": "24/11/2026"})
    assert row["errors"] == []


def test_future_is_judged_on_the_frozen_day_when_no_day_is_given(time_machine):
    validator = RowValidator("2026-11")
    assert messages(validator.validate(2, {**GOOD, "birth_date": "25/11/2026", "entry_date": "25/11/2026"})) == [
        ("Date de naissance", "date de naissance dans le futur (25/11/2026)"),
        ("Date d’entrée", "date d’entrée dans le futur (25/11/2026, nous sommes le 24/11/2026)")]
    time_machine.move_to(datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC), tick=False)
    validator = RowValidator("2026-11")
    assert validator.validate(2, {**GOOD, "birth_date": "25/11/2026", "entry_date": "25/11/2026"})["errors"] == []


def test_birth_after_entry_is_an_error():
    row = check({"birth_date": "02/10/2026", "entry_date": "01/10/2026"})
    assert messages(row) == [("Date de naissance", "date de naissance (02/10/2026) postérieure à la date d’entrée "
                                                   "(01/10/2026)")]
    assert check({"birth_date": "01/10/2026", "entry_date": "01/10/2026"})["errors"] == []


def test_entry_after_the_end_of_the_month_is_an_error():
    # A November list checked on 2 December (a late list): the month's last day is allowed.
    late = datetime.date(2026, 12, 2)
    assert check({"entry_date": "30/11/2026"}, today=late)["errors"] == []
    row = check({"entry_date": "01/12/2026"}, today=late)
    assert messages(row) == [("Date d’entrée", "date d’entrée (01/12/2026) postérieure à la fin du mois de la liste "
                                               "(30/11/2026)")]


def test_entry_more_than_five_years_back_is_a_warning():
    assert check({"entry_date": "30/11/2021"})["warnings"] == []
    row = check({"entry_date": "29/11/2021"})
    assert row["errors"] == []
    assert messages(row, "warnings") == [("Date d’entrée", "entrée il y a plus de 5 ans (29/11/2021) : à vérifier")]


def test_over_a_hundred_is_a_warning():
    assert check({"birth_date": "30/11/1926"})["warnings"] == []
    row = check({"birth_date": "29/11/1926"})
    assert messages(row, "warnings") == [("Date de naissance", "personne de plus de 100 ans (née le 29/11/1926) : à "
                                                               "vérifier")]


def test_missing_values_name_the_agents_columns():
    names = {"last_name": "NOM", "sex": "Genre", "shelter_address": "Adresse"}
    row = check({"last_name": "", "sex": "  ", "shelter_address": ""}, names=names)
    assert messages(row) == [("NOM", "valeur manquante"), ("Genre", "valeur manquante"),
                             ("Adresse", "valeur manquante")]
    assert [m["field"] for m in row["errors"]] == ["last_name", "sex", "shelter_address"]


def test_address_from_separate_postcode_and_town_columns():
    row = check({"shelter_address": "", "address_postcode": "69003", "address_town": "Lyon"})
    assert row["shelter_address"] == "69003 Lyon" and row["errors"] == []
    row = check({"shelter_address": "12 rue des Lilas", "address_postcode": "69003", "address_town": "Lyon"})
    assert row["shelter_address"] == "12 rue des Lilas, 69003 Lyon"


def test_a_date_cell_already_read_as_a_date_is_not_missing():
    row = check({"birth_date": D(1990, 2, 3), "entry_date": datetime.datetime(2026, 10, 1)})
    assert row["errors"] == [] and row["birth_date"] == D(1990, 2, 3)


def test_too_long_values_are_cut_and_reported():
    row = check({"last_name": "A" * 151})
    assert messages(row) == [("Nom", "valeur trop longue (151 caractères, 150 au plus)")]
    assert row["last_name"] == "A" * 150
    assert check({"last_name": "A" * 150})["errors"] == []


def test_agdref_and_nationality_only_when_collected():
    without = check({"agdref": "7501234567", "nationality": "Afghane"})
    assert (without["agdref"], without["nationality"]) == ("", "")
    with_ = check({"agdref": "7501234567", "nationality": "Afghane"}, with_agdref=True)
    assert (with_["agdref"], with_["nationality"]) == ("7501234567", "Afghane") and with_["warnings"] == []
    odd = check({"agdref": "75012345", "nationality": "Afghane"}, with_agdref=True)
    assert messages(odd, "warnings") == [("Numéro AGDREF", "numéro AGDREF inattendu (10 chiffres attendus)")]
    letters = check({"agdref": "75012345AB", "nationality": "Afghane"}, with_agdref=True)
    assert len(letters["warnings"]) == 1


def test_same_person_twice_in_the_file_is_a_warning_on_the_second_line():
    validator = RowValidator("2026-11", today=TODAY)
    first = check(line=2, validator=validator)
    second = check({"last_name": "Dupont", "first_name": "ELODIE"}, line=7, validator=validator)
    assert first["warnings"] == []
    assert messages(second, "warnings") == [("Nom", "même personne qu’à la ligne 2 (doublon dans le fichier)")]


def test_add_years_on_29_february():
    assert add_years(D(2028, 2, 29), -5) == D(2023, 2, 28)
    assert add_years(D(2026, 11, 30), -100) == D(1926, 11, 30)


def test_raw_cells_pads_short_rows():
    assert list(raw_cells([(2, ["A", "B"])], {"last_name": 0, "entry_date": 3})) == [
        (2, {"last_name": "A", "entry_date": None})]


@pytest.fixture
def draft(demo):
    ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11", samples.csv_bytes(samples.GOOD),
                                 name="liste.csv", user=demo["siao.69"], run=False)
    workflow.process_list(ml.pk)
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT and ml.row_count == 3
    return ml


def _values(row):
    return {"last_name": row.last_name, "first_name": row.first_name, "birth_date": row.birth_date.strftime("%d/%m/%Y"),
            "sex": row.sex, "status": row.status, "shelter_address": row.shelter_address,
            "entry_date": row.entry_date.strftime("%d/%m/%Y")}


def test_correcting_a_row_does_not_find_the_row_itself_as_a_duplicate(draft, demo):
    """The corrected row has an identity key already stored (its own): no warning."""
    for line in (2, 3, 4):
        row = draft.rows.get(line_number=line)
        assert row.identity_key
        workflow.update_row(row, _values(row), user=demo["siao.69"])
        row.refresh_from_db()
        assert row.warnings == [], (line, row.warnings)
    draft.refresh_from_db()
    assert draft.warning_count == 0


def test_correcting_a_row_into_an_earlier_person_is_a_duplicate(draft, demo):
    first = draft.rows.get(line_number=2)
    third = draft.rows.get(line_number=4)
    workflow.update_row(third, _values(first), user=demo["siao.69"])
    third.refresh_from_db()
    assert [(w["column"], w["message"]) for w in third.warnings] == [
        ("NOM", "même personne qu’à la ligne 2 (doublon dans le fichier)")]
    draft.refresh_from_db()
    assert draft.warning_count == 1 and draft.error_count == 0

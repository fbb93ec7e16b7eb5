"""The parsers' answers and refusals, exactly as the agent reads them in the report (a message
containing the right words is not enough: it is shown word for word)."""

import datetime

import pytest

from exchanges.models import Sex, Status
from exchanges.services.parsing import NotTransmitted, ParseError, parse_date, parse_sex, parse_status

D = datetime.date
ADMITTED_STATUSES = "(valeurs admises : DA, demandeur d’asile, réfugié, protection subsidiaire, BPI)"
NOT_TRANSMITTED = ("non transmissible : seuls les demandeurs d’asile et les bénéficiaires d’une protection "
                   "internationale sont transmis à l’OFII (article L.744-6 du CESEDA) ; retirez cette ligne")


def _refusal(parser, value, **kwargs):
    with pytest.raises(ParseError) as caught:
        parser(value, **kwargs)
    return caught.value


@pytest.mark.parametrize("parser", [parse_status, parse_sex, parse_date])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_empty_cell_is_a_missing_value(parser, value):
    assert str(_refusal(parser, value)) == "valeur manquante"


@pytest.mark.parametrize(("value", "expected"), [
    # Spellings outside the table of exact values, caught by their beginning or a word.
    ("Protection subsidiaire accordée le 3 mars", Status.PROTECTION_SUBSIDIAIRE),
    ("bénéficiaire de la protection SUBSIDIAIRE", Status.PROTECTION_SUBSIDIAIRE),
    ("Réfugiée statutaire", Status.REFUGIE),
    ("refugie (OFPRA 2025)", Status.REFUGIE),
    ("Demandeur d'asile - procédure normale", Status.DA),
    ("demandeuse d’asile en réexamen", Status.DA),
    ("DA en réexamen", Status.DA),
])
def test_statuses_recognised_beyond_the_exact_spellings(value, expected):
    assert parse_status(value) == expected


@pytest.mark.parametrize("value", ["Débouté", "DA débouté", "Réfugié - rejet CNDA", "titre de séjour salarié",
                                   "OQTF notifiée"])
def test_a_status_the_law_does_not_transmit_is_refused_with_the_article(value):
    refusal = _refusal(parse_status, value)
    assert isinstance(refusal, NotTransmitted)
    assert str(refusal) == f"statut « {value} » {NOT_TRANSMITTED}"


def test_an_unknown_status_names_the_value_cut_at_40_characters():
    assert str(_refusal(parse_status, "touriste")) == f"statut inconnu « touriste » {ADMITTED_STATUSES}"
    long = "x" * 39 + "yz"  # 41 characters
    assert str(_refusal(parse_status, long)) == f"statut inconnu « {'x' * 39}y » {ADMITTED_STATUSES}"
    refused = _refusal(parse_status, "débouté " + "z" * 40)
    assert str(refused) == f"statut « débouté {'z' * 32} » {NOT_TRANSMITTED}"


def test_an_unknown_sex_names_the_value_cut_at_40_characters():
    assert str(_refusal(parse_sex, "  X  ")) == "sexe inconnu « X » (valeurs admises : F, M, H, Femme, Homme)"
    assert str(_refusal(parse_sex, "q" * 41)) == f"sexe inconnu « {'q' * 40} » (valeurs admises : F, M, H, Femme, Homme)"
    assert parse_sex(" Femme ") == Sex.F and parse_sex("monsieur") == Sex.M


@pytest.mark.parametrize(("value", "expected"), [
    (45000, D(2023, 3, 15)), (45000.0, D(2023, 3, 15)), ("45000", D(2023, 3, 15)), ("45000,0", D(2023, 3, 15)),
    ("45000.5", D(2023, 3, 15)), (61, D(1900, 3, 1)), (1899, D(1905, 3, 13)), (2101, D(1905, 10, 1)),
    (2958465, D(9999, 12, 31)),
])
def test_excel_serial_numbers(value, expected):
    """Excel's 1900 system: serial 61 is 1 March 1900, 45000 is 15 March 2023, 2958465 is
    31 December 9999 (Excel's last date); a serial n ≥ 61 is n days after 30 December 1899.
    1899 and 2101 are serials, not years (only 1900 to 2100 look like a year alone)."""
    assert parse_date(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    (1900, "« 1900 » ressemble à une année seule : indiquez la date complète (JJ/MM/AAAA)"),
    (2100, "« 2100 » ressemble à une année seule : indiquez la date complète (JJ/MM/AAAA)"),
    ("2026", "« 2026 » n’est pas une date (format attendu JJ/MM/AAAA)"),
    (60, "« 60 » n’est pas une date"),
    (2958466, "« 2958466 » n’est pas une date"),
    (True, "« True » n’est pas une date"),
    ("31/02/1990", "date impossible « 31/02/1990 »"),
    ("01/01/1850", "date impossible « 01/01/1850 » (année 1850)"),
    ("le 3 mars", "« le 3 mars » n’est pas une date (format attendu JJ/MM/AAAA)"),
    ("d" * 41, f"« {'d' * 40} » n’est pas une date (format attendu JJ/MM/AAAA)"),
])
def test_date_refusals_word_for_word(value, message):
    assert str(_refusal(parse_date, value)) == message

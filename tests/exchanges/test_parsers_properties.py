"""Property tests of the cell parsers (hypothesis)."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.models import Sex, Status
from exchanges.services.identity import identity_key, normalise_name
from exchanges.services.parsing import (
    EXCEL_EPOCH,
    NotTransmitted,
    ParseError,
    fold,
    match_header,
    parse_date,
    parse_sex,
    parse_status,
)

TODAY = datetime.date(2026, 11, 24)
dates = st.dates(min_value=datetime.date(1900, 3, 1), max_value=datetime.date(2099, 12, 31))


@given(dates)
def test_every_written_form_of_a_date_parses_back(d):
    forms = [d.strftime("%d/%m/%Y"), f"{d.day}/{d.month}/{d.year}", d.isoformat(), d.strftime("%d-%m-%Y"),
             d.strftime("%d.%m.%Y"), f"{d.isoformat()} 00:00:00", d, datetime.datetime.combine(d, datetime.time(8)),
             ]
    serial = (d - EXCEL_EPOCH).days
    if not 1900 <= serial <= 2100:  # a number that looks like a year alone is refused
        forms += [serial, float(serial)]
    if serial >= 10000:  # as text, only 5-digit serials
        forms.append(str(serial))
    for form in forms:
        assert parse_date(form, today=TODAY) == d, form


@given(st.dates(min_value=datetime.date(1927, 1, 1), max_value=TODAY))
def test_two_digit_years_are_never_in_the_future(d):
    parsed = parse_date(f"{d.day}/{d.month}/{d.year % 100:02d}", today=TODAY)
    assert parsed <= TODAY
    assert parsed.year % 100 == d.year % 100 and (parsed.month, parsed.day) == (d.month, d.day)
    assert TODAY.year - 100 < parsed.year <= TODAY.year


def test_year_alone_is_refused():
    for value in (1990, 1990.0, "1990"):
        with pytest.raises(ParseError):
            parse_date(value)


@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(1, 31))
def test_impossible_dates_raise_never_crash(year, month, day):
    text = f"{day:02d}/{month:02d}/{year}"
    try:
        expected = datetime.date(year, month, day)
    except ValueError:
        with pytest.raises(ParseError, match="date impossible"):
            parse_date(text)
    else:
        assert parse_date(text) == expected


@given(st.text(max_size=30))
def test_date_parser_total_on_any_text(text):
    try:
        result = parse_date(text, today=TODAY)
    except ParseError as exc:
        assert str(exc)
    else:
        assert isinstance(result, datetime.date)


SEX_FORMS = {Sex.F: ["F", "f", "Femme", "FEMME", " femme ", "Féminin", "Mme"],
             Sex.M: ["M", "H", "h", "Homme", "HOMME", "Masculin", "M.", "Monsieur"]}


@given(st.sampled_from([(s, f) for s, fs in SEX_FORMS.items() for f in fs]))
def test_sex_forms(pair):
    sex, form = pair
    assert parse_sex(form) == sex


@given(st.text(max_size=12))
def test_sex_parser_is_total(text):
    try:
        assert parse_sex(text) in (Sex.F, Sex.M)
    except ParseError as exc:
        assert str(exc)


STATUS_FORMS = {
    Status.DA: ["DA", "da", "Demandeur d'asile", "demandeuse d’asile", "DEMANDEUR D ASILE", "Procédure Dublin"],
    Status.REFUGIE: ["réfugié", "Réfugiée", "REFUGIE", "Statut de réfugié"],
    Status.PROTECTION_SUBSIDIAIRE: ["protection subsidiaire", "PS", "Protection Subsidiaire", "BPI protection subsidiaire"],
    Status.BPI: ["BPI", "bpi", "Bénéficiaire d'une protection internationale"],
}


@given(st.sampled_from([(s, f) for s, fs in STATUS_FORMS.items() for f in fs]),
       st.sampled_from(["", " ", "  "]), st.booleans())
def test_status_forms(pair, pad, upper):
    status, form = pair
    form = pad + (form.upper() if upper else form) + pad
    assert parse_status(form) == status


@given(st.sampled_from(["débouté", "Déboutée", "DA débouté", "sans papiers", "titre de séjour", "OQTF", "apatride"]))
def test_statuses_that_must_not_be_transmitted(form):
    with pytest.raises(NotTransmitted, match="non transmissible"):
        parse_status(form)


@given(st.text(max_size=25))
def test_status_parser_is_total_and_only_returns_transmissible_statuses(text):
    try:
        # Literal values: a parser returning anything else (a non-transmitted status, the raw
        # text) fails here.
        assert parse_status(text) in {"DA", "REFUGIE", "PS", "BPI"}
    except ParseError as exc:
        assert str(exc)


@given(st.sampled_from(["Date de naissance", "DATE DE NAISSANCE", "date_de_naissance", "Date  de   naissance", "DDN"]))
def test_headers_case_accent_punctuation_insensitive(h):
    assert match_header(h) == "birth_date"
    assert match_header("Date d’entrée") == match_header("DATE D'ENTREE") == "entry_date"


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(categories=["L", "Zs", "Pd"]), min_size=1, max_size=20), dates,
       st.sampled_from(["F", "M"]))
def test_identity_key_ignores_case_accents_and_punctuation(name, birth, sex):
    variant = name.upper().replace("-", " ")
    assert identity_key(name, "Jean-Paul", birth, sex) == identity_key(variant, "JEAN PAUL", birth, sex)
    assert normalise_name(name) == normalise_name(variant)


@pytest.mark.parametrize("text, expected", [
    ("  Date d’ENTRÉE – 1ère ", "date d entree 1ere"),
    ("N° AGDREF", "n agdref"),
    ("Œuvre_Ñúñez", "uvre nunez"),  # Œ has no decomposition: dropped, never kept as a stray letter
    ("", ""),
])
def test_fold_literal_examples(text, expected):
    assert fold(text) == expected


def test_identity_key_prefers_agdref():
    d = datetime.date(1990, 1, 1)
    assert identity_key("A", "B", d, "F", "75 01 234 567") == identity_key("Other", "Name", d, "M", "7501234567")
    assert identity_key("A", "B", d, "F") != identity_key("A", "B", d, "M")

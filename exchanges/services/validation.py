"""Validation of the rows of a monthly list (instruction II.A.3), with plain functions.

Errors block validation: missing mandatory value, impossible date, birth date in the future
or after the entry date, entry date after the end of the period or after today (a person cannot
be declared sheltered from a day that has not come yet), unknown sex, unknown status
or a status the law does not transmit (only DA and BPI are sent).
Warnings do not block: age over 100, the same person twice in the file, entry date more than
5 years back, unexpected AGDREF number. The "same person in another département's list"
warning is for OFII only: it is computed after storage (``cross_departement_warnings``) and
kept in ``ListRow.ofii_warnings``, which the SIAO pages never show.

Every message is French and names the column as written in the agent's file.
"""

import datetime

from django.utils import timezone

from exchanges import periods

from .identity import identity_key
from .parsing import (
    FIELD_LABELS,
    MANDATORY_FIELDS,
    ParseError,
    clean_text,
    parse_date,
    parse_sex,
    parse_status,
)

MAX_LENGTHS = {"last_name": 150, "first_name": 150, "shelter_address": 500, "agdref": 20, "nationality": 100}
ROW_FIELDS = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date",
              "agdref", "nationality"]


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class BaseRowValidator:
    """What every row validator shares (monthly list here, return flow in
    ``exchanges.returns.validation``): messages ``{"column", "field", "message"}`` naming the
    column as written in the file, and the cell parsers' errors reported the same way."""

    labels = FIELD_LABELS

    def __init__(self, period, *, column_names=None, today=None):
        self.period_start, self.period_end = periods.bounds(period)
        # Today in Paris (the entry and birth dates of a row cannot be after it).
        self.today = today or timezone.localdate()
        self.names = {f: (column_names or {}).get(f) or label for f, label in self.labels.items()}
        # Per file, freed with the validator (never kept in the worker between files).
        self._text_memo = _Memo(clean_text)
        self._sex_memo, self._status_memo = _Memo(_outcome(parse_sex)), _Memo(_outcome(parse_status))
        self._date_memo = _Memo(_outcome(parse_date))

    def _err(self, errors, field, message):
        errors.append({"column": self.names[field], "field": field, "message": message})

    def _parse(self, parser, raw, texts, field, errors):
        value = raw.get(field)
        if not clean_text(value):
            return None  # already reported as missing (control characters alone included)
        try:
            return parser(value)
        except ParseError as exc:
            self._err(errors, field, str(exc))
            return None

    def _parse_memo(self, memo, parser, raw, field, errors):
        """``_parse`` with the outcome of each distinct cell value kept in ``memo`` (for one
        file: sexes, statuses and dates repeat on most rows). Same value, same error."""
        value = raw.get(field)
        try:
            parsed, message = memo[value if value.__class__ is str else (value.__class__, value)]
        except TypeError:  # an unhashable cell: parsed every time
            return self._parse(parser, raw, None, field, errors)
        if message is not None:
            self._err(errors, field, message)
        return parsed

    def _texts(self, raw):
        """``{field: clean_text(cell)}``, each distinct cell cleaned once per file (and its
        text shared by the rows that repeat it)."""
        memo = self._text_memo
        try:
            return {f: memo[v if v.__class__ is str else (v.__class__, v)] for f, v in raw.items()}
        except TypeError:  # an unhashable cell
            return {f: clean_text(v) for f, v in raw.items()}


class _Memo(dict):
    """The outcome of ``function`` for each distinct cell of one file. Keys: the cell when it
    is a string, else ``(type, cell)`` (1, 1.0 and True are equal in Python but are cleaned
    and parsed differently). Per validator, so never kept in the worker between files."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        value = self[key] = self.function(key[1] if key.__class__ is tuple else key)
        return value


def _outcome(parser):
    """(value, None) or (None, French message), as ``_parse`` reports them."""
    def parse(value):
        if not clean_text(value):
            return None, None  # already reported as missing (control characters alone included)
        try:
            return parser(value), None
        except ParseError as exc:
            return None, str(exc)
    return parse


class RowValidator(BaseRowValidator):
    """Validates raw rows ({field: cell}) for one département and period.

    ``column_names`` maps a field to the column title in the agent's file, for messages.
    """

    def __init__(self, period, *, column_names=None, with_agdref=False, today=None):
        super().__init__(period, column_names=column_names, today=today)
        self.with_agdref = with_agdref
        self.oldest_entry = add_years(self.period_end, -5)
        self.age_limit = add_years(self.period_end, -100)
        self.seen = {}

    def validate(self, line_number, raw):
        """One row: ``raw`` = {field: cell as read}. Returns the row dict ListRow is built from.

        Called once per row of the file (100,000 times for a large list): written with local
        names, the usual case first; the messages, their order and the values are those of
        the plain version kept in tests/exchanges/test_validation_equivalence.py."""
        errors, warnings = [], []
        texts = self._texts(raw)
        get = texts.get
        last_name, first_name = get("last_name", ""), get("first_name", "")
        if self.with_agdref:
            agdref, nationality = get("agdref", ""), get("nationality", "")
        else:
            agdref = nationality = ""
        address, postcode, town = get("shelter_address", ""), get("address_postcode", ""), get("address_town", "")
        town = f"{postcode} {town}" if postcode and town else postcode or town
        shelter = f"{address}, {town}" if address and town else address or town

        for f in _MANDATORY_CELLS:
            if not get(f) and not isinstance(raw.get(f), _VALUE_TYPES):
                self._err(errors, f, "valeur manquante")
        if not shelter:
            self._err(errors, "shelter_address", "valeur manquante")
        if (len(last_name) > 150 or len(first_name) > 150 or len(shelter) > 500 or len(agdref) > 20
                or len(nationality) > 100):
            values = {"last_name": last_name, "first_name": first_name, "shelter_address": shelter,
                      "agdref": agdref, "nationality": nationality}
            for f, limit in MAX_LENGTHS.items():
                if len(values[f]) > limit:
                    self._err(errors, f, f"valeur trop longue ({len(values[f])} caractères, {limit} au plus)")
                    values[f] = values[f][:limit]
            last_name, first_name, shelter = values["last_name"], values["first_name"], values["shelter_address"]
            agdref, nationality = values["agdref"], values["nationality"]

        try:  # the four memos, inline; an unhashable cell takes the method (which parses it)
            cell = raw.get("sex")
            sex, sex_message = self._sex_memo[cell if cell.__class__ is str else (cell.__class__, cell)]
            cell = raw.get("status")
            status, status_message = self._status_memo[cell if cell.__class__ is str else (cell.__class__, cell)]
            dates = self._date_memo
            cell = raw.get("birth_date")
            birth, birth_message = dates[cell if cell.__class__ is str else (cell.__class__, cell)]
            cell = raw.get("entry_date")
            entry, entry_message = dates[cell if cell.__class__ is str else (cell.__class__, cell)]
        except TypeError:
            sex = self._parse_memo(self._sex_memo, parse_sex, raw, "sex", errors)
            status = self._parse_memo(self._status_memo, parse_status, raw, "status", errors)
            birth = self._parse_memo(self._date_memo, parse_date, raw, "birth_date", errors)
            entry = self._parse_memo(self._date_memo, parse_date, raw, "entry_date", errors)
        else:
            if sex_message is not None:
                self._err(errors, "sex", sex_message)
            if status_message is not None:
                self._err(errors, "status", status_message)
            if birth_message is not None:
                self._err(errors, "birth_date", birth_message)
            if entry_message is not None:
                self._err(errors, "entry_date", entry_message)

        if birth:
            if birth > self.today:
                self._err(errors, "birth_date", f"date de naissance dans le futur ({birth:%d/%m/%Y})")
            elif entry and birth > entry:
                self._err(errors, "birth_date", f"date de naissance ({birth:%d/%m/%Y}) postérieure à la date d’entrée "
                          f"({entry:%d/%m/%Y})")
            elif birth < self.age_limit:
                self._err(warnings, "birth_date", f"personne de plus de 100 ans (née le {birth:%d/%m/%Y}) : à vérifier")
        if entry:
            if entry > self.period_end:
                self._err(errors, "entry_date", f"date d’entrée ({entry:%d/%m/%Y}) postérieure à la fin du mois de la "
                          f"liste ({self.period_end:%d/%m/%Y})")
            elif entry > self.today:
                self._err(errors, "entry_date", f"date d’entrée dans le futur ({entry:%d/%m/%Y}, "
                          f"nous sommes le {self.today:%d/%m/%Y})")
            elif entry < self.oldest_entry:
                self._err(warnings, "entry_date", f"entrée il y a plus de 5 ans ({entry:%d/%m/%Y}) : à vérifier")
        if agdref and self.with_agdref and not (agdref.isdigit() and len(agdref) == 10):
            self._err(warnings, "agdref", "numéro AGDREF inattendu (10 chiffres attendus)")

        key = identity_key(last_name, first_name, birth, sex, agdref) if birth else ""
        if key:
            first = self.seen.setdefault(key, line_number)
            if first != line_number:
                self._err(warnings, "last_name", f"même personne qu’à la ligne {first} (doublon dans le fichier)")
        return {
            "line_number": line_number, "raw": texts, "errors": errors, "warnings": warnings,
            "last_name": last_name, "first_name": first_name, "nationality": nationality, "agdref": agdref,
            "shelter_address": shelter, "sex": sex, "status": status, "birth_date": birth, "entry_date": entry,
            "identity_key": key,
        }


_MANDATORY_CELLS = [f for f in MANDATORY_FIELDS if f != "shelter_address"]
_VALUE_TYPES = (datetime.date, int, float)  # a cell that is a value even when its text is empty


def raw_cells(table_rows, columns):
    """(line_number, {field: cell}) for each row, from the column mapping {field: index}."""
    items = list(columns.items())
    for line_number, cells in table_rows:
        n = len(cells)
        yield line_number, {f: (cells[i] if i < n else None) for f, i in items}

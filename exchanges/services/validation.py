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

    def _err(self, errors, field, message):
        errors.append({"column": self.names[field], "field": field, "message": message})

    def _parse(self, parser, raw, texts, field, errors):
        value = raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # already reported as missing
        try:
            return parser(value)
        except ParseError as exc:
            self._err(errors, field, str(exc))
            return None


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
        """One row: ``raw`` = {field: cell as read}. Returns the row dict ListRow is built from."""
        errors, warnings = [], []
        texts = {f: clean_text(v) for f, v in raw.items()}
        row = {"line_number": line_number, "raw": texts, "errors": errors, "warnings": warnings}
        for f in ("last_name", "first_name", "nationality", "agdref"):
            row[f] = texts.get(f, "")
        address = texts.get("shelter_address", "")
        town = " ".join(p for p in (texts.get("address_postcode", ""), texts.get("address_town", "")) if p)
        row["shelter_address"] = ", ".join(p for p in (address, town) if p)
        if not self.with_agdref:
            row["agdref"] = row["nationality"] = ""

        for f in MANDATORY_FIELDS:
            if f != "shelter_address" and not texts.get(f) and not isinstance(raw.get(f), (datetime.date, int, float)):
                self._err(errors, f, "valeur manquante")
        if not row["shelter_address"]:
            self._err(errors, "shelter_address", "valeur manquante")
        for f, limit in MAX_LENGTHS.items():
            if len(row.get(f, "")) > limit:
                self._err(errors, f, f"valeur trop longue ({len(row[f])} caractères, {limit} au plus)")
                row[f] = row[f][:limit]

        row["sex"] = self._parse(parse_sex, raw, texts, "sex", errors)
        row["status"] = self._parse(parse_status, raw, texts, "status", errors)
        birth = row["birth_date"] = self._parse(parse_date, raw, texts, "birth_date", errors)
        entry = row["entry_date"] = self._parse(parse_date, raw, texts, "entry_date", errors)

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
        if self.with_agdref and row["agdref"] and not (row["agdref"].isdigit() and len(row["agdref"]) == 10):
            self._err(warnings, "agdref", "numéro AGDREF inattendu (10 chiffres attendus)")

        key = identity_key(row["last_name"], row["first_name"], birth, row["sex"], row["agdref"]) if birth else ""
        row["identity_key"] = key
        if key:
            first = self.seen.setdefault(key, line_number)
            if first != line_number:
                self._err(warnings, "last_name", f"même personne qu’à la ligne {first} (doublon dans le fichier)")
        return row


def raw_cells(table_rows, columns):
    """(line_number, {field: cell}) for each row, from the column mapping {field: index}."""
    items = list(columns.items())
    for line_number, cells in table_rows:
        n = len(cells)
        yield line_number, {f: (cells[i] if i < n else None) for f, i in items}

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
from itertools import chain, repeat
from operator import gt, itemgetter

from django.utils import timezone

from exchanges import periods

from .identity import agdref_payload, digest, identity_key, name_payload, normalise_agdref, normalise_name
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
        self.typed = {}

    def __missing__(self, key):
        value = self[key] = self.function(key[1] if key.__class__ is tuple else key)
        return value

    def column(self, cells):
        """``[self[key] for the key of each cell]``, looked up in C when the cells are all of
        one type (the usual column); a cell that cannot be a key (unhashable) is computed."""
        types = set(map(type, cells))
        if len(types) == 1:
            kind = types.pop()
            if kind is str:
                get = self.__getitem__
            else:
                typed = self.typed.get(kind)
                if typed is None:
                    typed = self.typed[kind] = _Typed(self, kind)
                get = typed.__getitem__
            try:
                return list(map(get, cells))
            except TypeError:
                pass
        out = []
        for value in cells:
            try:
                out.append(self[value if value.__class__ is str else (value.__class__, value)])
            except TypeError:
                out.append(self.function(value))
        return out


class _Typed(dict):
    """``memo[(kind, cell)]`` for the cells of one type, keyed by the cell itself (a lookup
    without building a tuple); filled from the memo, so both always agree."""

    def __init__(self, memo, kind):
        super().__init__()
        self.memo, self.kind = memo, kind

    def __missing__(self, cell):
        value = self[cell] = self.memo[(self.kind, cell)]
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
        self._key_memos = (_Memo(normalise_name), _Memo(_isoformat), _Memo(_sex_text))

    def validate(self, line_number, raw):
        """One row: ``raw`` = {field: cell as read}. Returns the row dict ListRow is built from.

        The messages, their order and the values are those of the plain version kept in
        tests/exchanges/test_validation_equivalence.py. A whole file goes through
        ``validate_rows`` (the same dicts, column by column)."""
        row = self._check(line_number, raw)
        key = row["identity_key"]
        if key:
            first = self.seen.setdefault(key, line_number)
            if first != line_number:
                self._err(row["warnings"], "last_name", f"même personne qu’à la ligne {first} (doublon dans le fichier)")
        return row

    def _check(self, line_number, raw):
        """``validate`` without the duplicate warning (which depends on the rows before)."""
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
        return {
            "line_number": line_number, "raw": texts, "errors": errors, "warnings": warnings,
            "last_name": last_name, "first_name": first_name, "nationality": nationality, "agdref": agdref,
            "shelter_address": shelter, "sex": sex, "status": status, "birth_date": birth, "entry_date": entry,
            "identity_key": key,
        }

    def validate_rows(self, table_rows, columns):
        """``[validate(line, raw) for line, raw in raw_cells(table_rows, columns)]``, worked
        out column by column (a file's rows, 100,000 for a large list).

        Each column's cells go through the memos in one pass (each distinct cell cleaned and
        parsed once per file, in the order ``validate`` meets them), the identity keys are
        hashed in one pass, and only the rows where something is to be reported (a missing,
        unreadable or too long value, a date out of bounds, an unexpected AGDREF number) go
        through ``validate``'s checks one by one; every other row has no message and is
        assembled from its columns. Consecutive slices of one file may be given one after the
        other to the same validator: the duplicate warnings look at every row before."""
        n = len(table_rows)
        if not n:
            return []
        lines = list(map(_first, table_rows))
        cells = list(map(_second, table_rows))
        shortest = min(map(len, cells))
        cols = {f: list(map(itemgetter(i), cells)) if i < shortest else [c[i] if i < len(c) else None for c in cells]
                for f, i in columns.items()}
        del cells
        none, blank = [None] * n, [""] * n
        text_memo = self._text_memo
        texts = {f: text_memo.column(col) for f, col in cols.items()}

        sex_cells, status_cells = cols.get("sex", none), cols.get("status", none)
        birth_cells, entry_cells = cols.get("birth_date", none), cols.get("entry_date", none)
        sexes, statuses = self._sex_memo.column(sex_cells), self._status_memo.column(status_cells)
        dates = self._date_memo
        if float in set(map(type, birth_cells)) and float in set(map(type, entry_cells)):
            # One memo for both dates, and 0.0 and -0.0 are the same key with two messages:
            # filled row by row as ``validate`` fills it (birth, then entry).
            for cell in chain.from_iterable(zip(birth_cells, entry_cells)):
                try:
                    dates[cell if cell.__class__ is str else (cell.__class__, cell)]
                except TypeError:  # unhashable: parsed when its row is checked
                    pass
        births, entries = dates.column(birth_cells), dates.column(entry_cells)

        get = texts.get
        last_names, first_names = get("last_name", blank), get("first_name", blank)
        agdrefs, nationalities = (get("agdref", blank), get("nationality", blank)) if self.with_agdref else (blank, blank)
        addresses, postcodes, towns = get("shelter_address", blank), get("address_postcode"), get("address_town")
        if postcodes is None and towns is None:
            shelters = addresses
        else:
            towns = [f"{p} {t}" if p and t else p or t for p, t in zip(postcodes or blank, towns or blank)]
            shelters = [f"{a}, {t}" if a and t else a or t for a, t in zip(addresses, towns)]

        # The rows with something to report: ``_check`` decides what, row by row.
        flagged = set()
        for f in _MANDATORY_CELLS:
            col = get(f, blank)
            if "" in col:
                flagged.update(i for i, text in enumerate(col) if not text)
        if "" in shelters:
            flagged.update(i for i, text in enumerate(shelters) if not text)
        for col, limit in ((last_names, 150), (first_names, 150), (shelters, 500), (agdrefs, 20),
                           (nationalities, 100)):
            if max(map(len, col)) > limit:
                flagged.update(i for i, text in enumerate(col) if len(text) > limit)
        for outcomes in (sexes, statuses, births, entries):
            messages = list(map(_second, outcomes))
            if messages.count(None) != n:
                flagged.update(i for i, message in enumerate(messages) if message is not None)
        sex_values, status_values = list(map(_first, sexes)), list(map(_first, statuses))
        birth_values, entry_values = list(map(_first, births)), list(map(_first, entries))
        today, age_limit, period_end, oldest = self.today, self.age_limit, self.period_end, self.oldest_entry
        odd = {b for b in set(birth_values) if b is not None and (b > today or b < age_limit)}
        if odd:
            flagged.update(i for i, b in enumerate(birth_values) if b in odd)
        odd = {e for e in set(entry_values) if e is not None and (e > period_end or e > today or e < oldest)}
        if odd:
            flagged.update(i for i, e in enumerate(entry_values) if e in odd)
        if None in birth_values or None in entry_values:
            flagged.update(i for i, (b, e) in enumerate(zip(birth_values, entry_values))
                           if b is not None and e is not None and b > e)
        elif any(map(gt, birth_values, entry_values)):
            flagged.update(i for i, (b, e) in enumerate(zip(birth_values, entry_values)) if b > e)
        if self.with_agdref:
            odd = {a for a in set(agdrefs) if a and not (a.isdigit() and len(a) == 10)}
            if odd:
                flagged.update(i for i, a in enumerate(agdrefs) if a in odd)

        keys = _identity_keys(self._key_memos, last_names, first_names, birth_values, sex_values, agdrefs)
        fields = list(cols)
        if fields:
            raws = list(map(dict, map(zip, repeat(fields), zip(*[texts[f] for f in fields]))))
        else:
            raws = [{} for _ in range(n)]
        rows = [
            {"line_number": line, "raw": raw, "errors": [], "warnings": [], "last_name": last, "first_name": first,
             "nationality": nationality, "agdref": agdref, "shelter_address": shelter, "sex": sex, "status": status,
             "birth_date": birth, "entry_date": entry, "identity_key": key}
            for line, raw, last, first, nationality, agdref, shelter, sex, status, birth, entry, key in zip(
                lines, raws, last_names, first_names, nationalities, agdrefs, shelters, sex_values, status_values,
                birth_values, entry_values, keys)
        ]
        for i in sorted(flagged):
            rows[i] = self._check(lines[i], {f: cols[f][i] for f in fields})
            keys[i] = rows[i]["identity_key"]

        # Duplicates, in the order of the file (``validate``'s check, one dict update when none).
        seen = self.seen
        firsts = dict(zip(reversed(keys), reversed(lines)))
        firsts.pop("", None)
        if len(firsts) == n - keys.count("") and not firsts.keys() & seen.keys():
            seen.update(firsts)
            return rows
        for row, key, line in zip(rows, keys, lines):
            if key:
                first = seen.setdefault(key, line)
                if first != line:
                    self._err(row["warnings"], "last_name", f"même personne qu’à la ligne {first} (doublon dans le fichier)")
        return rows

_MANDATORY_CELLS = [f for f in MANDATORY_FIELDS if f != "shelter_address"]
_VALUE_TYPES = (datetime.date, int, float)  # a cell that is a value even when its text is empty


_first, _second = itemgetter(0), itemgetter(1)


def _isoformat(day):
    return "" if day is None else day.isoformat()


def _sex_text(sex):
    return f"{sex or ''}"


def _identity_keys(memos, last_names, first_names, births, sexes, agdrefs):
    """``identity_key(last, first, birth, sex, agdref) if birth else ""`` for each row: each
    distinct name, date and sex normalised once (``memos``: per validator), the payloads
    formatted and hashed in C."""
    name, iso, sex_text = memos
    payloads = list(map(name_payload, map(name.__getitem__, last_names), map(name.__getitem__, first_names),
                        map(iso.__getitem__, births), map(sex_text.__getitem__, sexes)))
    # No key without a birth date, no name key without a last name, the AGDREF number first.
    if "" in last_names or None in births or agdrefs.count("") != len(agdrefs):
        for i, (last, birth, agdref) in enumerate(zip(last_names, births, agdrefs)):
            if birth is None:
                payloads[i] = ""
            elif agdref and normalise_agdref(agdref):
                payloads[i] = agdref_payload(normalise_agdref(agdref))
            elif not last:
                payloads[i] = ""
    keys = list(map(digest, payloads))
    if "" in payloads:
        for i, payload in enumerate(payloads):
            if not payload:
                keys[i] = ""
    return keys


def raw_cells(table_rows, columns):
    """(line_number, {field: cell}) for each row, from the column mapping {field: index}."""
    items = list(columns.items())
    for line_number, cells in table_rows:
        n = len(cells)
        yield line_number, {f: (cells[i] if i < n else None) for f, i in items}

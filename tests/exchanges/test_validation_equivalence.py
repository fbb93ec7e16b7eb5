"""The import's hot path (issue 15, goal 1) against the plain versions it replaced.

- ``RowValidator.validate`` (memoised cleaning and parsing, local names) gives the same row
  dict — values, messages, their order, the duplicate warnings — as the plain version below,
  kept verbatim from before the optimisation, on rows drawn from the values that matter
  (1, 1.0 and True in the same file, blanks, control characters, dates as objects, serials
  and text, values too long, unknown and non-transmissible statuses).
- ``clean_text``'s shortcut for already clean strings gives what the full cleaning gives, for
  every Unicode code point.
- ``store_rows`` (PostgreSQL COPY, text format, built by hand) stores exactly what the ORM
  stores for the same rows, including backslashes, tabs, quotes and line separators.
"""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.models import ListRow, ListState, MonthlyList
from exchanges.services import workflow
from exchanges.services.identity import identity_key
from exchanges.services.parsing import (
    _CONTROL_CHARS,
    MANDATORY_FIELDS,
    ParseError,
    clean_text,
    parse_date,
    parse_sex,
    parse_status,
)
from exchanges.services.validation import MAX_LENGTHS, RowValidator
from referentiel.models import Departement

TODAY = datetime.date(2026, 11, 24)  # FROZEN_NOW's date


# --- the plain versions, as they were before the optimisation -------------------------------

def plain_clean_text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return " ".join(_CONTROL_CHARS.sub("", str(value)).split())


class PlainValidator(RowValidator):
    def _parse(self, parser, raw, texts, field, errors):
        value = raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parser(value)
        except ParseError as exc:
            self._err(errors, field, str(exc))
            return None

    def validate(self, line_number, raw):
        errors, warnings = [], []
        texts = {f: plain_clean_text(v) for f, v in raw.items()}
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


# --- values that matter ---------------------------------------------------------------------

D, DT = datetime.date, datetime.datetime
COMMON = [None, "", "  ", "\t", 1, 1.0, True, False, 0, 2, 2.5, "1", " x  y ", "\x00Zoé\x07", "a\xa0b", "a\u202fb"]
VALUES = {
    "last_name": COMMON + ["DUPONT", "dupont", "Dupont-Martin", "L’Hôte", "Ø" * 151, "O\\'Neil", "Ab\u2028c"],
    "first_name": COMMON + ["Élodie", "Jean Pierre", "Marie-Claire", "x" * 150],
    "birth_date": COMMON + [D(1990, 2, 3), DT(1990, 2, 3), DT(1990, 2, 3, 8, 30), D(2027, 1, 1), D(1920, 5, 1),
                            "03/02/1990", "3/2/90", "1990-02-03", "31/02/1990", "1899-12-31", 32907, 32907.0,
                            "32907", 1990, "03.02.1990 12:00", D(2026, 11, 24), D(2026, 11, 25)],
    "sex": COMMON + ["F", "f", "Femme", "M", "H", "homme", "Mme", "X", "?"],
    "status": COMMON + ["DA", "da", "demandeur d'asile", "Réfugiée", "protection subsidiaire", "BPI", "débouté",
                        "DA débouté", "OQTF", "inconnu", "statut ?"],
    "shelter_address": COMMON + ["12 rue des Lilas", "a" * 501, "3, place X"],
    "address_postcode": COMMON + ["69003", 69003, 69003.0],
    "address_town": COMMON + ["Lyon", "Saint-Étienne"],
    "entry_date": COMMON + [D(2026, 10, 1), DT(2026, 11, 30), D(2026, 12, 1), D(2026, 11, 25), D(2020, 1, 1),
                            D(1985, 1, 1), "01/10/2026", "1/10/26", "2026-10-01", "00/10/2026", 46296, "46296"],
    "agdref": COMMON + ["1234567890", "12-34", "123456789012345678901", 1234567890],
    "nationality": COMMON + ["Afghane", "y" * 101],
}
FIELDS = list(VALUES)
row_strategy = st.fixed_dictionaries({f: st.sampled_from(VALUES[f]) for f in FIELDS})


@settings(max_examples=300, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=30), st.booleans(), st.sampled_from(["2026-11", "2026-10"]),
       st.lists(st.sampled_from(FIELDS), unique=True, max_size=4))
def test_validate_gives_what_the_plain_version_gives(rows, with_agdref, period, unmapped):
    names = {"last_name": "NOM", "sex": "Genre"}
    fast = RowValidator(period, column_names=names, with_agdref=with_agdref, today=TODAY)
    plain = PlainValidator(period, column_names=names, with_agdref=with_agdref, today=TODAY)
    # The same rows twice: the second time every value comes from the memos, and the
    # duplicate warnings name the first lines.
    for line, raw in enumerate(rows + rows, 2):
        raw = {f: v for f, v in raw.items() if f not in unmapped}
        assert fast.validate(line, dict(raw)) == plain.validate(line, dict(raw)), raw


@pytest.mark.parametrize("field", ["last_name", "sex", "status", "birth_date", "entry_date"])
def test_an_unhashable_cell_is_validated_as_the_plain_version_does(field):
    """No reader gives one today; a list in a cell must not break the memos."""
    base = {"last_name": "A", "first_name": "B", "birth_date": D(1990, 1, 1), "sex": "F", "status": "DA",
            "shelter_address": "rue", "entry_date": D(2026, 10, 1)}
    fast, plain = RowValidator("2026-11", today=TODAY), PlainValidator("2026-11", today=TODAY)
    for line, value in enumerate([["DA"], ["F"], [], ["01/10/2026"]], 2):
        raw = {**base, field: value}
        assert fast.validate(line, dict(raw)) == plain.validate(line, dict(raw))


def test_one_and_one_point_zero_and_true_are_told_apart_in_one_file():
    validator = RowValidator("2026-11", today=TODAY)
    base = {"last_name": "A", "first_name": "B", "birth_date": D(1990, 1, 1), "sex": "F", "status": "DA",
            "shelter_address": "rue", "entry_date": D(2026, 10, 1)}
    texts = [validator.validate(n, {**base, "first_name": v, "sex": s})
             for n, (v, s) in enumerate([(1, 1), (1.0, 1.0), (True, True), (1.5, 2)], 2)]
    assert [t["first_name"] for t in texts] == ["1", "1", "True", "1.5"]
    assert [t["sex"] for t in texts] == ["M", "M", None, "F"]
    assert texts[2]["errors"] == [{"column": "Sexe", "field": "sex", "message":
                                   "sexe inconnu « True » (valeurs admises : F, M, H, Femme, Homme)"}]


def test_clean_text_shortcut_for_every_code_point():
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        for value in (chr(code), f"a{chr(code)}b", f" {chr(code)}  c"):
            assert clean_text(value) == plain_clean_text(value), hex(code)


NASTY = ["back\\slash", "tab\there", "quote \" and ' ", "ligne\u2028séparée", "émoji 🙂", "\\N", "\\.", "a,b;c",
         "x" * 150, "", "  "]


@pytest.mark.django_db
def test_copy_stores_what_the_orm_stores(demo):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is the PostgreSQL path")
    dep = Departement.objects.get(code="69")
    validator = RowValidator("2026-11", today=TODAY)
    rows = []
    for n, text in enumerate(NASTY, 2):
        row = validator.validate(n, {"last_name": text, "first_name": text, "birth_date": D(1990, 1, 1 + n % 27),
                                     "sex": "F" if n % 2 else "?", "status": "DA", "shelter_address": text,
                                     "entry_date": D(2026, 10, 1) if n % 3 else None})
        # The text as such too (a corrected row, a future reader: COPY must not depend on cleaning).
        row["first_name"] = row["raw"]["first_name"] = text
        row.update(movement="new", continuous_months=n, ada_flag=bool(n % 2))
        rows.append(row)
    rows[0]["errors"].append({"column": "C\\ol\t", "field": "x", "message": "« guillemets » \" \\ \n fin"})
    by_copy, by_orm = (MonthlyList.objects.create(departement=dep, period="2026-11", state=ListState.DRAFT,
                                                  uploaded_by=demo["siao.69"], version=v) for v in (1, 2))
    workflow.store_rows(by_copy, iter(rows))
    ListRow.objects.bulk_create([workflow._row_object(by_orm, r) for r in rows])
    fields = [f.name for f in ListRow._meta.fields if f.name not in ("id", "monthly_list")]
    stored = [list(ListRow.objects.filter(monthly_list=ml).order_by("line_number").values(*fields))
              for ml in (by_copy, by_orm)]
    assert len(stored[0]) == len(NASTY) and stored[0] == stored[1]
    assert stored[0][0]["last_name"] == "back\\slash" and stored[0][1]["raw"]["last_name"] == "tab here"
    assert stored[0][1]["first_name"] == stored[0][1]["raw"]["first_name"] == "tab\there"
    assert stored[0][0]["errors"][-1]["message"] == "« guillemets » \" \\ \n fin"

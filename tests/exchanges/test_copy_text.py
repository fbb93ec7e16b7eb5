"""The PostgreSQL COPY text that ``store_rows`` sends (issue 11): a trust boundary.

The cells of an uploaded file end up, unchanged, in hand-built COPY text-format lines. A tab,
a line feed, a carriage return or a backslash in a cell must never shift a value into the
next column nor split a row in two. ``copy_lines`` and ``_copy_escape`` are pure Python, so
these tests run on SQLite too (the mutation harness): each line is read back with a decoder
written here from PostgreSQL's documented rules (COPY, "Text Format"), independent of the
code under test, and a few lines are pinned character for character. The last test stores
hostile cells through the whole upload and reads them back (COPY on PostgreSQL, the ORM on
SQLite).
"""

import datetime
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchanges.models import ListRow, ListState, MonthlyList
from exchanges.services import workflow
from referentiel.models import Departement
from tests.exchanges import samples

D = datetime.date

# --- PostgreSQL's COPY text format, read back ---------------------------------------------
# https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2 : rows end with a line
# feed, columns are separated by tabs, a column that is exactly \N is NULL, and a backslash
# introduces \b \f \n \r \t \v, an octal (\1 to \377) or hexadecimal (\x1 to \xff) byte, or
# stands for the character after it. A literal carriage return in the data is an error, and a
# line that is exactly \. ends the data.

_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)


def _unescape(field):
    def one(m):
        octal, hexa, char = m.groups()
        if octal:
            return chr(int(octal, 8) & 0xFF)
        if hexa:
            return chr(int(hexa, 16))
        return _SIMPLE.get(char, char)

    return _ESCAPE.sub(one, field)


def decode(text):
    """The rows PostgreSQL reads from COPY text: one dict (column → text or None) per line."""
    assert text == "" or text.endswith("\n"), "the last row is not ended"
    rows = []
    for line in text.split("\n")[:-1]:
        assert "\r" not in line, "literal carriage return found in data"
        assert line != "\\.", "end-of-data marker inside the data"
        fields = [None if f == "\\N" else _unescape(f) for f in line.split("\t")]
        assert len(fields) == len(workflow.COPY_COLUMNS), f"{len(fields)} columns: {line!r}"
        rows.append(dict(zip(workflow.COPY_COLUMNS, fields)))
    return rows


def test_the_decoder_follows_postgresql():
    """The reference decoder itself, on lines written by hand from the documentation."""
    line = "\t".join(["1", "2", r"a\\b\tc", r"\N", r"x\101\x42\q", *["f"] * 14]) + "\n"
    row = decode(line)[0]
    assert (row["monthly_list_id"], row["line_number"], row["last_name"], row["first_name"], row["birth_date"]) == (
        "1", "2", "a\\b\tc", None, "xABq")
    with pytest.raises(AssertionError, match="carriage return"):
        decode(line.replace("a\\\\b", "a\rb"))
    with pytest.raises(AssertionError, match="20 columns"):
        decode(line.replace("a\\\\b", "a\tb"))
    with pytest.raises(AssertionError, match="not ended"):
        decode(line[:-1])


# --- the rows --------------------------------------------------------------------------------

def a_row(**values):
    """A stored row as ``process_list`` gives it to ``store_rows`` (validated and derived)."""
    row = {
        "line_number": 2, "last_name": "DUPONT", "first_name": "Élodie", "birth_date": D(1990, 2, 3), "sex": "F",
        "status": "DA", "shelter_address": "12 rue des Lilas, 69003 Lyon", "entry_date": D(2026, 10, 1),
        "agdref": "", "nationality": "", "raw": {"last_name": "DUPONT", "birth_date": "03/02/1990"},
        "errors": [], "warnings": [], "identity_key": "9f86d081884c7d65", "movement": "new",
        "continuous_months": 1, "ada_flag": False,
    }
    row.update(values)
    return row


def copy_text(rows, ml_pk=42, **kwargs):
    return "".join(workflow.copy_lines(MonthlyList(pk=ml_pk), iter(rows), **kwargs))


def test_one_row_character_for_character():
    row = a_row(
        line_number=7, last_name="D'ARC \\ B", first_name="Jeanne\tMarie", shelter_address="1 rue X\nbis\r",
        agdref="0123456789", nationality="malienne", status="BPI",
        raw={"last_name": "D'ARC \\ B", "sexe": "« F »"},
        errors=[{"column": "Date\td’entrée", "field": "entry_date", "message": "« 31/02 » n’est pas une date"}],
        warnings=[{"column": "Nom", "field": "last_name", "message": "même personne qu’à la ligne 3"}],
        movement="continuing", continuous_months=4, ada_flag=True,
    )
    expected = "\t".join([
        "42", "7", r"D'ARC \\ B", r"Jeanne\tMarie", "1990-02-03", "F", "BPI", r"1 rue X\nbis\r", "2026-10-01",
        "0123456789", "malienne",
        r"""{"last_name": "D'ARC \\\\ B", "sexe": "« F »"}""",
        r'[{"column": "Date\\td’entrée", "field": "entry_date", "message": "« 31/02 » n’est pas une date"}]',
        '[{"column": "Nom", "field": "last_name", "message": "même personne qu’à la ligne 3"}]',
        "[]", "9f86d081884c7d65", "continuing", "4", "t",
    ]) + "\n"
    assert copy_text([row]) == expected


def test_empty_values_null_dates_and_the_derived_defaults():
    """No date → NULL (\\N), no sex or status → empty text, nothing read, no message → {} and
    [], and a row not derived gets the model's defaults (no movement, 1 month, ADA due)."""
    row = a_row(line_number=3, last_name="", first_name="", birth_date=None, sex=None, status=None,
                shelter_address="", entry_date=None, raw={}, identity_key="")
    for field in ("movement", "continuous_months", "ada_flag"):
        del row[field]
    assert copy_text([row], ml_pk=5) == "5\t3\t\t\t\\N\t\t\t\t\\N\t\t\t{}\t[]\t[]\t[]\t\t\t1\tf\n"


def test_raw_values_that_are_not_text_are_stored_as_json():
    text = copy_text([a_row(raw={"birth_date": 33000, "sex": None, "x": 1.5, "ok": True, "z": "a\tb"})])
    assert decode(text)[0]["raw"] == '{"birth_date": 33000, "sex": null, "x": 1.5, "ok": true, "z": "a\\tb"}'


@pytest.mark.parametrize(("value", "expected"), [
    ("plain text, é 🙂 « » \" '", "plain text, é 🙂 « » \" '"),
    ("\\", r"\\"), ("\t", r"\t"), ("\n", r"\n"), ("\r", r"\r"),
    ("\\N", r"\\N"), ("\\.", r"\\."), ("a\\tb", r"a\\tb"),
    ("\r\n\t\\x", r"\r\n\t\\x"),
    # Only those four: other control characters and line separators are data as they are.
    ("\x0b\x0c\x08\u2028\u0085", "\x0b\x0c\x08\u2028\u0085"),
])
def test_copy_escape(value, expected):
    assert workflow._copy_escape(value) == expected


def test_rows_are_sent_in_blocks_of_a_thousand():
    rows = [a_row(line_number=n) for n in range(2, 1003)]
    blocks = list(workflow.copy_lines(MonthlyList(pk=1), iter(rows)))
    assert [block.count("\n") for block in blocks] == [1000, 1]
    assert [(r["monthly_list_id"], r["line_number"]) for r in decode("".join(blocks))] == [
        ("1", str(n)) for n in range(2, 1003)]
    small = list(workflow.copy_lines(MonthlyList(pk=1), iter(rows[:5]), block=2))
    assert [block.count("\n") for block in small] == [2, 2, 1]
    assert small[0].startswith("1\t2\t") and small[2].startswith("1\t6\t")
    assert "".join(small) == "".join(workflow.copy_lines(MonthlyList(pk=1), iter(rows[:5]), block=5))
    assert [r["monthly_list_id"] for r in decode("".join(small))] == ["1"] * 5
    assert list(workflow.copy_lines(MonthlyList(pk=1), iter([]))) == []


def test_the_copy_source_gives_the_blocks_then_the_end():
    source = workflow._CopySource(iter(["a\n", "b\n"]))
    assert [source.read(65536), source.readline(), source.read(), source.read()] == ["a\n", "b\n", "", ""]


# --- hostile cells: never a shifted value, never a split row ------------------------------

HOSTILE = ["\\", "\t", "\n", "\r", "\r\n", "\\N", "\\.", "\\t", "\\\\", "\\x41", "\\101", "N", ".", "\"", "'",
           "{", "}", "[", "]", ",", ":", "é", "🙂", "\u2028", "\x0b", "\x0c", "\x7f", " ", "a"]
TEXT_FIELDS = ("last_name", "first_name", "shelter_address", "agdref", "nationality")


def hostile_row(n, value):
    return a_row(
        line_number=n, **{f: f"{f[:2]}{value}" for f in TEXT_FIELDS},
        raw={"last_name": value, value: "clé", "sex": f"{value}{value}"},
        errors=[{"column": value, "field": "sex", "message": f"« {value} »"}],
        warnings=[{"column": "Nom", "field": "last_name", "message": value}],
    )


def check_read_back(rows, text):
    decoded = decode(text)
    assert len(decoded) == len(rows)
    for row, back in zip(rows, decoded):
        assert back["line_number"] == str(row["line_number"])
        for f in TEXT_FIELDS:
            assert back[f] == row[f], f
        for f in ("raw", "errors", "warnings"):
            assert json.loads(back[f]) == row[f], f
        assert (back["identity_key"], back["movement"], back["ada_flag"]) == ("9f86d081884c7d65", "new", "f")


def test_hostile_cells_are_read_back_exactly():
    rows = [hostile_row(n, value) for n, value in enumerate(HOSTILE, 2)]
    check_read_back(rows, copy_text(rows))


@given(st.lists(st.lists(st.sampled_from(HOSTILE), max_size=8).map("".join), min_size=1, max_size=4))
def test_any_mix_of_hostile_cells_is_read_back_exactly(values):
    rows = [hostile_row(n, value) for n, value in enumerate(values, 2)]
    check_read_back(rows, copy_text(rows))


# --- through the whole upload -------------------------------------------------------------

@pytest.mark.django_db
def test_hostile_cells_of_an_upload_are_stored_and_read_back(demo):
    """A CSV whose quoted cells hold backslashes, \\N, \\., quotes, a tab and a line break, and
    whose header holds a tab and a backslash: every row stored whole, in its own line, with the
    values the agent sees (inner whitespace collapsed) and the raw cells as read."""
    header = ['"NOM\tde\\naissance"', "Prénom", "Date de naissance", "Sexe", "Statut", "Adresse", "Date d'entrée"]
    rows = [
        ['"A\\B"', '"\\N"', "03/02/1990", "F", "DA", '"1 rue \\., ""Lyon"""', "01/10/2026"],
        ['"G\\"', '"\\N\\."', "32/01/1990", "X", "DA", '"{""a"": [1]}\t\\."', "01/10/2026"],
        # Last: a CSV record over two physical lines is numbered by its last one (reading.py).
        ['"C\tD"', '"E\r\nF"', "15/07/1985", "H", "DA", '"\\t\\n"', "15/09/2026"],
    ]
    data = samples.csv_bytes(rows, header, encoding="utf-8", trailing_blank=0)
    dep = Departement.objects.get(code="69")
    ml = workflow.receive_upload(dep, "2026-11", data, name="liste.csv", user=demo["siao.69"], run=False)
    ml = workflow.process_list(ml.pk)
    assert (ml.state, ml.row_count, ml.error_count) == (ListState.DRAFT, 3, 1), ml.report
    stored = list(ListRow.objects.filter(monthly_list=ml).order_by("line_number").values_list(
        "line_number", "last_name", "first_name", "birth_date", "sex", "shelter_address", "raw", "errors"))
    # A row without a message keeps no copy of its cells (workflow.kept_raw); a row with one
    # keeps them exactly as read, for the agent who fixes it.
    assert stored[0] == (2, "A\\B", "\\N", D(1990, 2, 3), "F", '1 rue \\., "Lyon"', {}, [])
    assert stored[1][:3] == (3, "G\\", "\\N\\.")
    assert stored[1][5] == '{"a": [1]} \\.'
    assert stored[1][6] == {"last_name": "G\\", "first_name": "\\N\\.", "birth_date": "32/01/1990", "sex": "X",
                            "status": "DA", "shelter_address": '{"a": [1]} \\.', "entry_date": "01/10/2026"}
    assert stored[1][7] == [
        {"column": "Sexe", "field": "sex", "message": "sexe inconnu « X » (valeurs admises : F, M, H, Femme, Homme)"},
        {"column": "Date de naissance", "field": "birth_date", "message": "date impossible « 32/01/1990 »"},
    ]
    assert stored[2][1:6] == ("C D", "E F", D(1985, 7, 15), "M", "\\t\\n")
    assert stored[2][6] == {}
    assert ml.report["columns"]["last_name"] == "NOM de\\naissance"  # cleaned like a cell


def nul_header_upload(demo, header):
    """An XLSX file whose header cells hold a NUL (Excel's "_x0000_" escape, decoded by the
    reader) and a tab; the first row has an error in the column whose name holds the NUL."""
    rows = [list(r) for r in samples.GOOD]
    rows[0][0] = ""
    dep = Departement.objects.get(code="69")
    ml = workflow.receive_upload(dep, "2026-11", samples.xlsx_bytes(rows, header), name="liste.xlsx",
                                 user=demo["siao.69"], run=False)
    return workflow.process_list(ml.pk)


@pytest.mark.django_db
def test_a_nul_in_a_header_cell_is_dropped_from_the_column_name(demo):
    """Found by the COPY tests: PostgreSQL refuses a NUL in jsonb, so a NUL kept in a column
    name made the list's report and its messages unstorable; the list then stayed in
    processing, its file deleted, and the worker raised (on SQLite it was stored as is)."""
    header = ["NOM_x0000_", "Prénom", "Date de_x0009__x0009_naissance", *samples.HEADER_FR[3:]]
    ml = nul_header_upload(demo, header)
    assert (ml.state, ml.row_count, ml.error_count) == (ListState.DRAFT, 3, 1), ml.report
    assert ml.report["columns"]["last_name"] == "NOM"
    assert ml.report["columns"]["birth_date"] == "Date de naissance"
    row = ListRow.objects.get(monthly_list=ml, line_number=2)
    assert row.errors == [{"column": "NOM", "field": "last_name", "message": "valeur manquante"}]


@pytest.mark.django_db
def test_a_nul_in_a_header_cell_when_a_column_is_not_recognised(demo):
    header = ["NOM_x0000_", "Zut_x0000_", *samples.HEADER_FR[2:]]
    ml = nul_header_upload(demo, header)
    ml.refresh_from_db()
    assert ml.state == ListState.FAILED
    assert ml.report["file_errors"] == [
        "Colonnes obligatoires non reconnues : Prénom. Indiquez quelle colonne de votre fichier correspond à chacune."]
    assert ml.report["headers"] == ["NOM", "Zut", *samples.HEADER_FR[2:]]


@pytest.mark.django_db
def test_a_nul_in_a_date_cell_is_dropped_as_in_every_cell(demo):
    """Found by the COPY tests: the date parser quoted the cell as it was in its message, NUL
    included, and PostgreSQL refuses a NUL in jsonb: the whole list failed with "Une erreur
    interne…" (on SQLite the row was stored with a NUL in its message)."""
    rows = [list(r) for r in samples.GOOD]
    rows[0][2] = "03/02_x0000_/1990"
    rows[1][2] = "15/07_x0000_/1985 x"
    dep = Departement.objects.get(code="69")
    ml = workflow.receive_upload(dep, "2026-11", samples.xlsx_bytes(rows), name="liste.xlsx", user=demo["siao.69"],
                                 run=False)
    ml = workflow.process_list(ml.pk)
    assert (ml.state, ml.row_count, ml.error_count) == (ListState.DRAFT, 3, 1), ml.report
    first, second = ListRow.objects.filter(monthly_list=ml).order_by("line_number")[:2]
    assert (first.birth_date, first.raw, first.errors) == (D(1990, 2, 3), {}, [])
    assert second.errors == [{"column": "Date de naissance", "field": "birth_date",
                              "message": "« 15/07/1985 x » n’est pas une date (format attendu JJ/MM/AAAA)"}]
    assert second.raw["birth_date"] == "15/07/1985 x"


@pytest.mark.django_db
def test_store_rows_stores_what_the_orm_stores(demo):
    """``store_rows`` (COPY on PostgreSQL) and ``ListRow`` objects built by ``_row_object`` (the
    ORM path, SQLite's) store the same values, missing ones included: no date → NULL, no sex
    or status → empty text, a row not derived → the model's defaults."""
    dep = Departement.objects.get(code="69")
    by_store, by_orm = (MonthlyList.objects.create(departement=dep, period="2026-11", state=ListState.DRAFT,
                                                   uploaded_by=demo["siao.69"], version=v) for v in (1, 2))
    rows = [hostile_row(n, value) for n, value in enumerate(["\\N", "a\tb\\c", "\r\n", "é\u2028"], 2)]
    rows[1].update(sex=None, status=None, birth_date=None, entry_date=None, continuous_months=3, ada_flag=True)
    for field in ("movement", "continuous_months", "ada_flag"):
        del rows[2][field]
    workflow.store_rows(by_store, iter([dict(r) for r in rows]))
    ListRow.objects.bulk_create([workflow._row_object(by_orm, r) for r in rows])
    fields = [f.name for f in ListRow._meta.fields if f.name not in ("id", "monthly_list")]
    stored = [list(ListRow.objects.filter(monthly_list=ml).order_by("line_number").values(*fields))
              for ml in (by_store, by_orm)]
    assert stored[0] == stored[1]
    assert [(r["line_number"], r["last_name"], r["sex"], r["status"], r["birth_date"], r["entry_date"],
             r["movement"], r["continuous_months"], r["ada_flag"]) for r in stored[0]] == [
        (2, "la\\N", "F", "DA", D(1990, 2, 3), D(2026, 10, 1), "new", 1, False),
        (3, "laa\tb\\c", "", "", None, None, "new", 3, True),
        (4, "la\r\n", "F", "DA", D(1990, 2, 3), D(2026, 10, 1), "", 1, False),
        (5, "laé\u2028", "F", "DA", D(1990, 2, 3), D(2026, 10, 1), "new", 1, False),
    ]
    assert stored[0][1]["raw"] == {"last_name": "a\tb\\c", "a\tb\\c": "clé", "sex": "a\tb\\ca\tb\\c"}
    assert stored[0][1]["errors"] == [{"column": "a\tb\\c", "field": "sex", "message": "« a\tb\\c »"}]

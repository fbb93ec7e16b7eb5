"""The XLSX the archive holds, read back by two independent readers (openpyxl and
python-calamine, the one OFII-side tools built on calamine use): formula-like texts are text
cells (never formulas), dates are real dates shown DD/MM/YYYY, integers are numbers, the header
is bold and frozen, with the columns' widths, the auto-filter and the sheet's title."""

import datetime
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook

from exchanges.extracts.writers import Column, CsvWriter, write_xlsx
from tests.exchanges_extracts.helpers import csv_rows

COLS = [Column("Nom", 22), Column("Date de naissance", 14, "date"), Column("Mois", 9, "int"),
        Column("Adresse", 45)]
TRAPS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+33612345678", "-Moussa", "@SUM(A1:A2)", "\t=1+1",
         "\r=1+1", "=1+1"]
ROWS = [[trap, datetime.date(1990, 1, 3), 7, "3 rue de la Paix"] for trap in TRAPS] + [
    ["ÇELIK", datetime.date(2001, 12, 31), 24, "=A1"],
    ["O'NEIL", None, 1, ""],
]


@pytest.fixture
def xlsx(tmp_path):
    path = tmp_path / "liste.xlsx"
    write_xlsx(path, COLS, iter(ROWS), sheet_title="Liste")
    return path


def test_no_formula_anywhere_in_the_sheet(xlsx):
    with zipfile.ZipFile(xlsx) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml
    assert xml.count(b't="inlineStr"') == 4 + 7 * 2 + 2 + 1  # header, then Nom and Adresse unless empty


def test_formula_like_values_are_text_cells_for_openpyxl(xlsx):
    ws = load_workbook(xlsx).active
    for n, trap in enumerate(TRAPS, start=2):
        cell = ws.cell(n, 1)
        assert cell.data_type == "s", (trap, cell.data_type)
        # A carriage return is stored as OOXML's ``_x000D_`` escape, which Excel and calamine decode
        # and openpyxl leaves as is in inline strings.
        assert unescape(cell.value) == trap
        assert cell.quotePrefix is True  # editing it in Excel keeps it text
    assert ws["D9"].data_type == "s" and ws["D9"].value == "=A1" and ws["D9"].quotePrefix is True


def test_formula_like_values_are_text_for_calamine(xlsx):
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("Liste").to_python()
    assert [r[0] for r in rows[1:8]] == TRAPS
    assert rows[8][3] == "=A1"


def test_dates_are_dates_and_integers_numbers(xlsx):
    ws = load_workbook(xlsx).active
    assert ws["B2"].is_date and ws["B2"].number_format == "DD/MM/YYYY"
    assert ws["B2"].value == datetime.datetime(1990, 1, 3)
    assert ws["B9"].value == datetime.datetime(2001, 12, 31)
    assert ws["C9"].data_type == "n" and ws["C9"].value == 24 and ws["C9"].number_format == "0"
    calamine = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    assert calamine[1][1] == datetime.date(1990, 1, 3)
    assert calamine[8][1:3] == [datetime.date(2001, 12, 31), 24]


def test_empty_values_are_empty_cells(xlsx):
    ws = load_workbook(xlsx).active
    assert ws["B10"].value is None and ws["D10"].value is None
    assert ws["A10"].value == "O'NEIL" and ws["C10"].value == 1


def test_header_bold_frozen_widths_filter_title(xlsx):
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Liste"]
    ws = wb.active
    assert [c.value for c in ws[1]] == ["Nom", "Date de naissance", "Mois", "Adresse"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:D10"
    # Excel's stored width adds the cell padding (+0.71 for Calibri 11) to the characters asked for.
    assert [round(ws.column_dimensions[col].width) for col in "ABCD"] == [23, 15, 10, 46]


def test_empty_list_keeps_its_header(tmp_path):
    path = tmp_path / "vide.xlsx"
    write_xlsx(path, COLS, iter([]), sheet_title="Flux retour")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Flux retour"]
    assert [list(r) for r in wb.active.iter_rows(values_only=True)] == [["Nom", "Date de naissance", "Mois", "Adresse"]]


def test_duplicate_headers_refused(tmp_path):
    with pytest.raises(ValueError, match="double"):
        write_xlsx(tmp_path / "x.xlsx", [Column("Nom", 10), Column("Nom", 10)], iter([]))


def test_an_error_while_reading_rows_propagates(tmp_path):
    def rows():
        yield ROWS[0]
        raise RuntimeError("base perdue")

    with pytest.raises(RuntimeError, match="base perdue"):
        write_xlsx(tmp_path / "x.xlsx", COLS, rows())


def test_csv_neutralises_formula_like_values(tmp_path):
    out = CsvWriter(tmp_path / "l.csv", COLS)
    for row in ROWS:
        out.append(row)
    out.close()
    rows = csv_rows((tmp_path / "l.csv").read_bytes())
    assert [r[0] for r in rows[1:8]] == ["'" + t for t in TRAPS]
    assert rows[8] == ["ÇELIK", "31/12/2001", "24", "'=A1"]

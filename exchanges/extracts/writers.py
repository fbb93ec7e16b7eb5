"""The files inside the archive: the same rows as XLSX and as CSV.

Columns follow instruction II.A.3 (nom, prénom, date de naissance, sexe, statut, adresse de
l’hébergement, date d’entrée), then AGDREF and nationality only when an administrator has
switched them on, then the facts derived for OFII (new this month, continuous months in
generalist shelter, ADA additional amount not due).

Formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or tab/CR) is never a
formula. In the XLSX the cell type is forced to text (openpyxl would otherwise write ``=…`` as
a live formula) and flagged ``quotePrefix`` so that editing it in Excel keeps it text; in the
CSV the value is prefixed with an apostrophe (``siao_ofii.csvsafe.neutralize``).
"""

import csv
import datetime
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from exchanges.models import Movement, Status
from siao_ofii.csvsafe import FORMULA_PREFIXES, neutralize

# Fields read from ListRow, in this order (a ``values_list``).
ROW_FIELDS = (
    "last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date",
    "agdref", "nationality", "movement", "continuous_months", "ada_flag",
)


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    kind: str = "text"  # text | date | int


BASE_COLUMNS = [
    Column("Nom", 22),
    Column("Prénom", 20),
    Column("Date de naissance", 14, "date"),
    Column("Sexe", 6),
    Column("Statut (DA / BPI)", 10),
    Column("Adresse de l’hébergement", 45),
    Column("Date d’entrée dans l’hébergement", 14, "date"),
]
AGDREF_COLUMNS = [Column("Numéro AGDREF", 14), Column("Nationalité", 18)]
DERIVED_COLUMNS = [
    Column("Nouvelle arrivée ce mois", 12),
    Column("Mois continus en hébergement généraliste", 14, "int"),
    Column("Montant additionnel ADA non dû", 14),
]


def columns(with_agdref):
    return BASE_COLUMNS + (AGDREF_COLUMNS if with_agdref else []) + DERIVED_COLUMNS


def yes_no(flag):
    return "Oui" if flag else "Non"


def output_values(row, with_agdref):
    """One ListRow ``values_list`` tuple (ROW_FIELDS order) → the exported values."""
    (last, first, birth, sex, status, address, entry, agdref, nationality, movement, months, ada) = row
    values = [last, first, birth, sex, Status.transmitted(status) if status else "", address, entry]
    if with_agdref:
        values += [agdref, nationality]
    values += [yes_no(movement == Movement.NEW), months, yes_no(ada)]
    return values


class XlsxWriter:
    """openpyxl in write-only mode: one sheet, bold frozen header, auto-filter, real dates."""

    DATE_FORMAT = "DD/MM/YYYY"

    def __init__(self, path, cols, sheet_title="Liste"):
        self.path = path
        self.cols = cols
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet(sheet_title)
        self.ws.freeze_panes = "A2"
        for i, col in enumerate(cols, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = col.width
        bold = Font(bold=True)
        header = []
        for col in cols:
            cell = WriteOnlyCell(self.ws, value=col.header)
            cell.font = bold
            header.append(cell)
        self.ws.append(header)
        self.rows = 0

    def _cell(self, value, kind):
        if value is None or value == "":
            return None
        if kind == "date" and isinstance(value, datetime.date):
            cell = WriteOnlyCell(self.ws, value=value)
            cell.number_format = self.DATE_FORMAT
            return cell
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            cell = WriteOnlyCell(self.ws)
            cell.value = value
            cell.data_type = "s"  # never a formula
            cell.quotePrefix = True
            return cell
        return value

    def append(self, values):
        self.ws.append([self._cell(v, c.kind) for v, c in zip(values, self.cols)])
        self.rows += 1

    def close(self):
        last = get_column_letter(len(self.cols))
        self.ws.auto_filter.ref = f"A1:{last}{self.rows + 1}"
        self.wb.save(self.path)


class CsvWriter:
    """UTF-8 with BOM (Excel detects the encoding), ``;`` separator, dates JJ/MM/AAAA."""

    def __init__(self, path, cols):
        self.cols = cols
        self.file = open(path, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.file, delimiter=";", lineterminator="\r\n")
        self.writer.writerow([c.header for c in cols])

    @staticmethod
    def _text(value):
        if value is None:
            return ""
        if isinstance(value, datetime.date):
            return value.strftime("%d/%m/%Y")
        return neutralize(value) if isinstance(value, str) else value

    def append(self, values):
        self.writer.writerow([self._text(v) for v in values])

    def close(self):
        self.file.close()

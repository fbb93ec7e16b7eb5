"""The files inside the archive: the same rows as XLSX and as CSV.

Columns follow instruction II.A.3 (nom, prénom, date de naissance, sexe, statut, adresse de
l’hébergement, date d’entrée), then AGDREF and nationality only when an administrator has
switched them on, then the facts derived for OFII (new this month, continuous months in
generalist shelter, ADA additional amount not due).

The XLSX writer is rustpy-xlsxwriter (Python binding of the Rust ``rust_xlsxwriter``, by the
author of XlsxWriter), in its constant-memory streaming mode: measured against openpyxl
write-only, XlsxWriter ``constant_memory``, pyexcelerate on the archive's 100,000 rows
(``bench/bench_xlsx_writers.py``), it is the fastest (≈ 15× openpyxl) of those that keep
every guarantee below.

Formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or tab/CR) is never a
formula. In the XLSX every string is written as a text cell (``inlineStr``: the writer never
turns a string into a formula; ``formula_columns`` / ``totals_row`` are not used), and the text
columns carry the ``quotePrefix`` style, so that editing a cell in Excel keeps it text; in the
CSV the value is prefixed with an apostrophe (``siao_ofii.csvsafe.neutralize``).
"""

import csv
import datetime
from dataclasses import dataclass

from rustpy_xlsxwriter import FastExcel, Format

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


DATE_FORMAT = "DD/MM/YYYY"
INT_FORMAT = "0"


def write_xlsx(path, cols, rows, sheet_title="Liste"):
    """Write ``rows`` (lists of values, in the order of ``cols``) to the XLSX ``path``, streamed
    (constant memory): one sheet ``sheet_title``, bold header frozen under the first row,
    auto-filter over the rows written, the columns' widths, dates as real dates shown
    DD/MM/YYYY, integers as numbers, texts as text cells with ``quotePrefix``. ``rows`` may be a
    generator; an exception it raises stops the write and propagates (no file is kept)."""
    headers = [c.header for c in cols]
    if len(set(headers)) != len(headers):  # the records are dicts keyed by header
        raise ValueError(f"En-têtes de colonnes en double : {headers}")
    formats = {"date": Format().set_num_format(DATE_FORMAT), "int": Format().set_num_format(INT_FORMAT),
               "text": Format().set_quote_prefix()}

    def records():
        empty = True
        for values in rows:
            empty = False
            yield dict(zip(headers, values))
        if empty:  # the header comes from the first record's keys: an empty sheet keeps its header
            yield dict.fromkeys(headers)

    (
        FastExcel(str(path), output_format="xlsx")
        .format(bold_headers=True)
        .freeze(row=1)
        .sheet(sheet_title, records(), column_widths=[c.width for c in cols],
               column_formats=[formats[c.kind] for c in cols], autofilter=True)
        .save()
    )


class CsvWriter:
    """UTF-8 with BOM (Excel detects the encoding), ``;`` separator, dates JJ/MM/AAAA.

    One converter per column, chosen once by its kind: the archive writes a million values for
    100,000 rows, and dates repeat (each one is formatted once)."""

    def __init__(self, path, cols):
        self.cols = cols
        self.converters = [self._converter(c.kind) for c in cols]
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

    @classmethod
    def _converter(cls, kind):
        generic = cls._text
        if kind == "date":
            formatted = {}

            def date(value):
                try:
                    return formatted[value]
                except KeyError:
                    text = formatted[value] = generic(value)
                    return text
                except TypeError:  # unhashable: not a date anyway
                    return generic(value)

            return date
        first_chars = frozenset(FORMULA_PREFIXES)  # one character each: same test as csvsafe.neutralize
        assert all(len(c) == 1 for c in first_chars)

        def text(value):
            if value.__class__ is str:
                return "'" + value if value[:1] in first_chars else value
            return generic(value)

        return text

    def append(self, values):
        self.writer.writerow([convert(v) for convert, v in zip(self.converters, values)])

    def close(self):
        self.file.close()

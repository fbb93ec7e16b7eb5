"""Reading the files SIAO agents send, as they come.

- The format is decided by the content, never by the file name: an XLSX is a ZIP holding
  an OOXML workbook without macros; anything else binary (.xls, .xlsm, .ods, PDF, images…)
  is refused; text is read as CSV.
- CSV: UTF-8 (with or without BOM), else Windows-1252 (a superset of Latin-1 for the
  printable range); delimiter ``;``, ``,`` or tab, detected on the first lines.
- XLSX: python-calamine (6–13× faster than openpyxl read-only), first visible sheet.
  Before calamine sees the file (it allocates the whole rectangle from A1 to the last cell:
  a 1.6 KB file with cells at A1 and XFD1048576 asks for 512 GB and aborts the process),
  the ZIP container is checked (members, total uncompressed size, compression ratio) and
  the sheet's XML is scanned: its declared ``<dimension ref>`` and the real position of
  every cell must stay within the row, column and cell limits. The upload request checks
  the container and the declared dimension (a few kilobytes read); the worker checks both
  again and every cell's position, before calamine is called.
- CSV: lines longer than ``MAX_LINE_CHARS`` and headers wider than the column limit are
  refused before the lines are split into cells.
- Blank rows (trailing or not) and blank trailing columns are ignored; rows keep the line
  number they have in the file, which is what the agent sees in Excel.
"""

import csv
import io
import re
import zipfile
import posixpath
from xml.etree import ElementTree
from dataclasses import dataclass, field

from django.conf import settings


class FileRejected(Exception):
    """The file cannot be read at all: the message is shown to the agent, in French."""


XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MAX_UNCOMPRESSED = 400 * 1024 * 1024  # whole workbook, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, per member (plain XML compresses ~10-30×)
MAX_MEMBERS = 10_000
MAX_SMALL_PART = 5 * 1024 * 1024  # workbook.xml, its relationships: parsed whole
MAX_LINE_CHARS = 32_768  # one CSV line (a legitimate one is well under 2 000 characters)
ROW_SLACK = 1000  # blank rows tolerated around the data (skipped when reading)


def limits(max_rows=None):
    """(rows, columns, cells) a file may span, blank rows included."""
    rows = (max_rows or settings.UPLOAD_MAX_ROWS) + 1 + ROW_SLACK
    return rows, settings.UPLOAD_MAX_COLUMNS, settings.UPLOAD_MAX_CELLS


def _n(value):
    return f"{value:,}".replace(",", "\u202f")


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    header: list
    rows: list = field(default_factory=list)  # [(line_number, [cells])]
    encoding: str = ""
    delimiter: str = ""


def sniff_format(data):
    """'xlsx' or 'csv' from the bytes, or FileRejected."""
    if not data:
        raise FileRejected("Le fichier est vide.")
    head = data[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        # The container and the sheet's declared dimension only: the position of every cell
        # is checked by ``read_xlsx``, in the worker, before calamine sees a byte.
        _check_xlsx_container(data, cells=False)
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            "Ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe : enregistrez-le "
            "au format « Classeur Excel (.xlsx) » ou « CSV (séparateur : point-virgule) »."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # Excel's "Texte Unicode": UTF-16, tab-separated
    sample = data[:65536]
    if b"\x00" in sample.replace(b"\x00\x00", b"") or sample.count(b"\x00") > len(sample) // 4:
        raise FileRejected("Ce fichier n’est ni un fichier CSV ni un classeur Excel (.xlsx).")
    if any(sample.startswith(magic) for magic in (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf")):
        raise FileRejected("Ce fichier n’est ni un fichier CSV ni un classeur Excel (.xlsx).")
    _check_csv_shape(decode_text(data)[0])
    return "csv"


def _check_xlsx_container(data, max_rows=None, *, cells=True):
    """Refuse what would hurt calamine, from the ZIP directory and the sheet's XML only.
    Returns the name of the sheet to read (the first visible worksheet).

    ``cells=False`` (the upload request, ``sniff_format``): the ZIP directory and the sheet's
    declared ``<dimension ref>`` only, read from the start of the sheet (it comes before
    ``<sheetData>``, ECMA-376 Part 1, 18.3.1.99 CT_Worksheet) — a few kilobytes whatever the
    sheet's size. ``cells=True`` (``read_xlsx``, in the worker, before calamine): the real
    position of every cell as well."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected("Ce fichier est une archive ZIP illisible, pas un classeur Excel (.xlsx).") from None
    if len(infos) > MAX_MEMBERS:
        raise FileRejected("Ce classeur contient trop d’éléments pour être lu.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileRejected("Ce classeur est anormalement compressé (bombe de décompression) : il est refusé.")
    if total > MAX_UNCOMPRESSED:
        raise FileRejected("Ce classeur est trop volumineux une fois décompressé : il est refusé.")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise FileRejected("Cette archive ZIP n’est pas un classeur Excel (.xlsx).")
    content_types = archive.read("[Content_Types].xml")[:200_000].decode("utf-8", "replace")
    if XLSM_MAIN in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise FileRejected(
            "Ce classeur contient des macros (.xlsm) : il est refusé. Enregistrez-le au format « Classeur Excel (.xlsx) »."
        )
    if XLSX_MAIN not in content_types:
        raise FileRejected("Ce fichier n’est pas un classeur Excel (.xlsx) : les formats .ods, .docx… ne sont pas acceptés.")
    name, member = _first_visible_sheet(archive, names)
    if cells:
        _check_sheet_dimensions(archive, member, max_rows)
    else:
        _check_declared_dimension(archive, member, max_rows)
    return name


UNREADABLE = ("Classeur Excel illisible ou endommagé. Ouvrez-le dans votre tableur, enregistrez-le de nouveau "
              "au format .xlsx, puis déposez-le.")
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _small_xml(archive, member):
    info = archive.getinfo(member)
    if info.file_size > MAX_SMALL_PART:
        raise FileRejected(UNREADABLE)
    try:
        return ElementTree.fromstring(archive.read(member))
    except (ElementTree.ParseError, ValueError):
        raise FileRejected(UNREADABLE) from None


def _relationships(archive, names, part):
    """{id: (type, member)} of an OOXML part, targets resolved against the part's folder."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return {}
    found = {}
    for rel in _small_xml(archive, rels).iter(f"{PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[rel.get("Id")] = (rel.get("Type", ""), member)
    return found


def _first_visible_sheet(archive, names):
    """(name, member) of the first visible worksheet, as calamine names it."""
    workbook = next((m for t, m in _relationships(archive, names, "").values() if t.endswith("/officeDocument")),
                    "xl/workbook.xml")
    if workbook not in names:
        raise FileRejected(UNREADABLE)
    rels = _relationships(archive, names, workbook)
    sheets = []
    for sheet in _small_xml(archive, workbook).iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        kind, member = rels.get(sheet.get(f"{REL_NS}id"), ("", ""))
        if kind.endswith("/worksheet") and member in names:
            sheets.append((sheet.get("state", "visible") == "visible", sheet.get("name", ""), member))
    if not sheets:
        raise FileRejected("Ce classeur ne contient aucune feuille de calcul.")
    _, name, member = next((s for s in sheets if s[0]), sheets[0])
    return name, member


_REF = re.compile(rb"([A-Z]*)([0-9]*)")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?ref=[\"']([^\"']*)[\"']")  # XML: either quote
# Fast path: every cell tag is ``<c r="B12"…`` (as Excel, LibreOffice and openpyxl write them).
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)[0-9]')
# A cell reference that is not letters then digits (the fast path then leaves it to the walk).
# A cell tag that does not start with ` r="B12"` (no reference, another attribute first, a
# tab or a line break before it, single quotes, a malformed reference): left to the exact walk.
_OTHER_CELL_TAG = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z]{1,3}[0-9]{1,7}")')
# Namespace-prefixed cells or rows (``<x:c>``), or text that looks like one: the exact walk.
_PREFIXED = re.compile(rb":(?:c[\s/>]|row)")
# A <row> or <c> start tag and, when present, its r="B12" attribute (letters, digits).
_ROW_OR_CELL = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])(?:[^>]*?\sr=[\"']([A-Z]*)([0-9]*)[\"'])?")


def _column_number(letters):
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _column_letters(number):
    letters = b""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters


def _check_extent(rows, columns, where, max_rows):
    max_r, max_c, max_cells = limits(max_rows)
    if columns > max_c:
        raise FileRejected(
            f"{where} s’étend sur {_n(columns)} colonnes : au-delà de {_n(max_c)} colonnes, le classeur est refusé. "
            "Supprimez les colonnes vides ou inutiles à droite du tableau, puis déposez-le de nouveau."
        )
    if rows > max_r:
        raise FileRejected(
            f"{where} s’étend sur {_n(rows)} lignes : au-delà de {_n(max_r)} lignes, le classeur est refusé. "
            "Supprimez les lignes vides sous le tableau, puis déposez-le de nouveau."
        )
    if rows * columns > max_cells:
        raise FileRejected(
            f"{where} s’étend sur {_n(rows)} lignes et {_n(columns)} colonnes : au-delà de {_n(max_cells)} "
            "cellules, le classeur est refusé. Supprimez les colonnes inutiles, puis déposez-le de nouveau."
        )


def _check_sheet_dimensions(archive, member, max_rows):
    """The declared ``<dimension ref>`` and the real extent of the cells, streamed (a few MB in
    memory whatever the sheet's size). Fast path when every cell carries its reference
    (``<c r="B12">``, as Excel and LibreOffice write them); otherwise the exact walk, where
    rows and cells without ``r`` take the next position, as the reader counts them."""
    if not _scan_sheet(archive, member, max_rows, fast=True):
        _scan_sheet(archive, member, max_rows, fast=False)


def _check_declared_dimension(archive, member, max_rows):
    """The declared ``<dimension ref>`` alone, from the start of the sheet up to ``<sheetData>``."""
    for block in _sheet_blocks(archive, member):
        if _declared_dimension(block, max_rows) or b"sheetData" in block:
            return


def _declared_dimension(block, max_rows):
    """Checks the ``<dimension ref>`` of this block, if it holds one; True then."""
    if b"dimension" not in block:  # a plain search first: the regex is ten times slower
        return False
    match = _DIMENSION.search(block)
    if not match:
        return False
    last = match.group(1).split(b":")[-1]
    ref = _REF.fullmatch(last)
    if ref and ref.group(1) and ref.group(2):
        _check_extent(int(ref.group(2)), _column_number(ref.group(1)),
                      f"La feuille déclare une plage jusqu’à {last.decode()} ; elle", max_rows)
    return True


def _sheet_blocks(archive, member):
    """The sheet's XML in blocks of about 1 MB, each ending between two tags."""
    tail = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(1 << 20)
            buffer = tail + chunk
            cut = buffer.rfind(b"<") if chunk else -1
            if cut == -1 or buffer.find(b">", cut) != -1:
                cut = len(buffer)  # no unfinished tag at the end of the chunk
            elif len(buffer) - cut > 65536:  # a tag longer than 64 KB: not a spreadsheet
                raise FileRejected(UNREADABLE)
            yield buffer[:cut]
            tail = buffer[cut:]
            if not chunk:
                return


def _fast_extent(block, max_rows, width):
    """(rows, columns, exact) of the cells of a block when every cell tag is ``<c r="B12"``
    and nothing else carries an ``r`` attribute; None otherwise (the exact walk decides).

    Counted in C (``bytes.count``, regular expressions with a literal prefix): numbers are
    made only of the references that could cross a limit.
    - Columns: the letters become numbers only for the cells whose column has as many
      letters as the column limit (``CV`` is column 100: none in an ordinary list). A
      narrower column (``A``–``Z``) can cross no limit when ``Z`` × the row limit stays
      within the cell limit (the default settings); its column is then reported as 0.
    - Rows: with the widest column seen so far (``width``, that of the blocks before, or this
      block's), a reference of at most ``d`` digits, hence at most 10**d − 1, stays within
      every limit; only the longer ones become numbers. ``exact`` is False when the block's rows are then
      reported as that bound: the caller takes the exact walk if a wider column found
      later makes the bound cross a limit."""
    if _OTHER_CELL_TAG.search(block) or _PREFIXED.search(block):
        return None
    cells = block.count(b'<c r="')  # every cell tag, as checked just above
    if block.count(b' r="') != cells + block.count(b'<row r="'):
        return None  # an r="…" elsewhere (another element, text): the exact walk
    if not cells:
        return 0, 0, True
    max_r, max_c, max_cells = limits(max_rows)
    letters = len(_column_letters(max_c))
    if letters > 1 and max_r * _column_number(b"Z" * (letters - 1)) <= max_cells:
        wide = re.findall(rb'<c r="([A-Z]{%d,})[0-9]' % letters, block)
        columns = max(map(_column_number, set(wide)), default=0)
    else:
        columns = max(map(_column_number, set(_CELL_COLUMN.findall(block))))
    widest = max(width, columns)  # 0: narrow columns, which cross no limit at any row count
    safe = min(max_r, max_cells // widest) if widest else max_r
    digits = len(str(safe + 1)) - 1  # every number of at most `digits` digits is ≤ safe
    long = re.findall(rb'<c r="[A-Z]+([0-9]{%d,})"' % (digits + 1), block)
    rows = max(map(int, set(long)), default=0)
    if len(long) < cells and 10 ** digits - 1 > rows:
        return 10 ** digits - 1, columns, False
    return rows, columns, True


def _scan_sheet(archive, member, max_rows, *, fast):
    row = col = max_row = max_col = 0
    declared = bounded = False
    for block in _sheet_blocks(archive, member):
        if not declared:
            declared = _declared_dimension(block, max_rows)
        if fast:
            extent = _fast_extent(block, max_rows, max_col)
            if extent is None:
                return False  # a cell without its reference, or a prefixed tag: exact walk
            if extent[0] > max_row or extent[1] > max_col:
                max_row, max_col = max(max_row, extent[0]), max(max_col, extent[1])
                bounded = bounded or not extent[2]
                try:
                    _check_extent(max_row, max_col, "Le tableau", max_rows)
                except FileRejected:
                    if bounded:  # a bound of the rows, not a row: the exact walk measures them
                        return False
                    raise
            continue
        for tag, letters, digits in _ROW_OR_CELL.findall(block):
            if tag == b"row":
                row = int(digits) if digits else row + 1
                col = 0
                continue
            col = _column_number(letters) if letters else col + 1
            if digits:
                row = int(digits)
            if row > max_row or col > max_col:
                max_row, max_col = max(max_row, row), max(max_col, col)
                _check_extent(max_row, max_col, "Le tableau", max_rows)
    return True


def decode_text(data):
    """(text, encoding): UTF-8 with BOM, UTF-8, else Windows-1252 (Latin-1 for its holes)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def detect_delimiter(text):
    """``;``, tab or ``,``: the one that splits the header (the first non-blank line of the
    first 20 000 characters) into the most columns; on a tie, in this order."""
    header = next((line for line in text[:20000].splitlines() if line.strip()), "")
    return max(";\t,", key=lambda delimiter: len(next(csv.reader([header], delimiter=delimiter))))


def _blank_row(cells):
    """Every cell blank: None, or a text of spaces only; decided by the first cell on an
    ordinary row."""
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str) and (not cell or cell.isspace()):  # as ``not cell.strip()``
            continue
        return False
    return True


def _collect(rows_iter, max_rows):
    """Skip blank rows, find the header (first non-blank row), trim blank trailing columns."""
    header = None
    rows = []
    append = rows.append
    width = None
    for line_number, cells in rows_iter:
        if _blank_row(cells):
            continue
        if header is None:
            header = [("" if c is None else str(c)).strip() for c in cells]
            while header and not header[-1]:
                header.pop()
            if len(header) > settings.UPLOAD_MAX_COLUMNS:
                raise FileRejected(
                    f"Ligne {line_number} (en-tête) : {_n(len(header))} colonnes, au-delà de "
                    f"{_n(settings.UPLOAD_MAX_COLUMNS)} le fichier est refusé. Supprimez les colonnes inutiles."
                )
            width = max(len(header), 1)
            continue
        append((line_number, cells[:width] if cells.__class__ is list else list(cells[:width])))
        if len(rows) > max_rows:
            raise FileRejected(
                f"Le fichier contient plus de {max_rows:,} lignes : il est refusé.".replace(",", " ")
            )
    if header is None:
        raise FileRejected("Le fichier ne contient aucune ligne.")
    return header, rows


def read_table(data, fmt=None, *, max_rows=None):
    max_rows = max_rows or settings.UPLOAD_MAX_ROWS
    fmt = fmt or sniff_format(data)
    if fmt == "xlsx":
        return read_xlsx(data, max_rows=max_rows)
    return read_csv(data, max_rows=max_rows)


def _check_csv_shape(text):
    """Before any line is split into cells: no line longer than MAX_LINE_CHARS, and a header
    (first non-blank line) no wider than the column limit."""
    header_line = None
    for number, line in enumerate(io.StringIO(text, newline=None), 1):
        if len(line) > MAX_LINE_CHARS:
            raise FileRejected(
                f"Ligne {number} : plus de {_n(MAX_LINE_CHARS)} caractères, ce n’est pas une liste de personnes. "
                "Le fichier est refusé : enregistrez de nouveau le tableau au format CSV et déposez-le."
            )
        if header_line is None and line.strip():
            header_line = (number, line)
    if header_line is not None:
        number, line = header_line
        delimiter = detect_delimiter(line)
        width = len(next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), []))
        if width > settings.UPLOAD_MAX_COLUMNS:
            raise FileRejected(
                f"Ligne {number} (en-tête) : {_n(width)} colonnes, au-delà de {_n(settings.UPLOAD_MAX_COLUMNS)} "
                "le fichier est refusé. Supprimez les colonnes inutiles."
            )


def read_csv(data, *, max_rows):
    text, encoding = decode_text(data)
    _check_csv_shape(text)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Numbered as a spreadsheet shows the file: one row per record (a blank line is an empty
        # row, a quoted cell with line breaks stays in its one row), not per physical line.
        header, rows = _collect(enumerate(reader, 1), max_rows)
    except csv.Error:
        raise FileRejected(
            "Fichier CSV illisible : une cellule est trop longue ou un guillemet n’est pas refermé. "
            "Enregistrez de nouveau le fichier depuis votre tableur (format CSV) et déposez-le."
        ) from None
    return Table("csv", header, rows, encoding=encoding, delimiter=delimiter)


def read_xlsx(data, *, max_rows):
    from python_calamine import CalamineError, CalamineWorkbook

    sheet_name = _check_xlsx_container(data, max_rows)  # before calamine sees a byte
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_name(sheet_name)
        # iter_rows() starts at the sheet's first row (A1), blank leading rows included.
        rows_iter = enumerate(sheet.iter_rows(), 1)
        header, rows = _collect(rows_iter, max_rows)
    except FileRejected:
        raise
    except (CalamineError, Exception):  # calamine raises several exception types
        raise FileRejected(UNREADABLE) from None
    return Table("xlsx", header, rows)

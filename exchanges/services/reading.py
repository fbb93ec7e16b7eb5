"""Reading the files SIAO agents send, as they come.

- The format is decided by the content, never by the file name: an XLSX is a ZIP holding
  an OOXML workbook without macros; anything else binary (.xls, .xlsm, .ods, PDF, images…)
  is refused; text is read as CSV.
- CSV: UTF-8 (with or without BOM), else Windows-1252 (a superset of Latin-1 for the
  printable range); delimiter ``;``, ``,`` or tab, detected on the first lines.
- XLSX: python-calamine (6–13× faster than openpyxl read-only), first visible sheet.
  Decompression bombs are refused before calamine sees the file (total uncompressed size
  and per-member compression ratio).
- Blank rows (trailing or not) and blank trailing columns are ignored; rows keep the line
  number they have in the file, which is what the agent sees in Excel.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings


class FileRejected(Exception):
    """The file cannot be read at all: the message is shown to the agent, in French."""


XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MAX_UNCOMPRESSED = 400 * 1024 * 1024  # whole workbook, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, per member (plain XML compresses ~10-30×)
MAX_MEMBERS = 10_000


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
        _check_xlsx_container(data)
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
    return "csv"


def _check_xlsx_container(data):
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
    lines = [ln for ln in text[:20000].splitlines() if ln.strip()][:20]
    best, best_score = ";", -1
    for delim in (";", "\t", ","):
        counts = [len(next(csv.reader([ln], delimiter=delim))) for ln in lines]
        if not counts:
            continue
        # Most columns on the header, consistent over the sample.
        score = min(counts[0], max(counts)) if counts[0] > 1 else 0
        consistency = sum(1 for c in counts if c == counts[0])
        if (score, consistency) > (best_score, 0) and score > best_score:
            best, best_score = delim, score
    return best


def _blank(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _collect(rows_iter, max_rows):
    """Skip blank rows, find the header (first non-blank row), trim blank trailing columns."""
    header = None
    rows = []
    for line_number, cells in rows_iter:
        if all(_blank(c) for c in cells):
            continue
        if header is None:
            header = [("" if c is None else str(c)).strip() for c in cells]
            while header and not header[-1]:
                header.pop()
            continue
        rows.append((line_number, list(cells[: max(len(header), 1)])))
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


def read_csv(data, *, max_rows):
    text, encoding = decode_text(data)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header, rows = _collect(((reader.line_num, cells) for cells in reader), max_rows)
    except csv.Error:
        raise FileRejected(
            "Fichier CSV illisible : une cellule est trop longue ou un guillemet n’est pas refermé. "
            "Enregistrez de nouveau le fichier depuis votre tableur (format CSV) et déposez-le."
        ) from None
    return Table("csv", header, rows, encoding=encoding, delimiter=delimiter)


def read_xlsx(data, *, max_rows):
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_name = next(
            (m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible") and "Sheet" in str(m.typ)),
            workbook.sheet_names[0],
        )
        sheet = workbook.get_sheet_by_name(sheet_name)
        if sheet.total_height > max_rows + 1000:
            raise FileRejected(f"Le fichier contient plus de {max_rows:,} lignes : il est refusé.".replace(",", " "))
        # iter_rows() starts at the sheet's first row (A1), blank leading rows included.
        rows_iter = ((i + 1, row) for i, row in enumerate(sheet.iter_rows()))
        header, rows = _collect(rows_iter, max_rows)
    except FileRejected:
        raise
    except (CalamineError, Exception) as exc:  # calamine raises several exception types
        raise FileRejected(
            "Classeur Excel illisible ou endommagé. Ouvrez-le dans votre tableur, enregistrez-le de nouveau "
            "au format .xlsx, puis déposez-le."
        ) from None
    return Table("xlsx", header, rows)

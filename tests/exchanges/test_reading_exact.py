"""The readers, word for word (issue 11): what a file declares is checked before any reader
allocates for it, each limit at its value and one past it, with the exact French message;
what an ordinary file gives (header, cells, line numbers, encoding, delimiter), exactly.

Workbooks are built member by member with ``zipfile`` (see ``hostile.py``); a member can be
stored uncompressed (a sheet of a few megabytes that is not a decompression bomb) and the
sizes the ZIP directory declares can be forged (a bomb is refused on its directory alone)."""

import io
import struct
import zipfile

import pytest

from exchanges.services import reading
from exchanges.services.reading import FileRejected, read_table, sniff_format
from tests.exchanges import hostile

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
UNREADABLE = ("Classeur Excel illisible ou endommagé. Ouvrez-le dans votre tableur, enregistrez-le de nouveau "
              "au format .xlsx, puis déposez-le.")
NOT_A_LIST = "Ce fichier n’est ni un fichier CSV ni un classeur Excel (.xlsx)."
MACROS = "Ce classeur contient des macros (.xlsm) : il est refusé. Enregistrez-le au format « Classeur Excel (.xlsx) »."
NNBSP = "\u202f"


def cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(body, *, dimension=None, before_data=""):
    """A worksheet whose ``<sheetData>`` holds ``body`` (rows and cells, as written)."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<worksheet xmlns="{NS}">'
            + (f'<dimension ref="{dimension}"/>' if dimension else "")
            + before_data + f"<sheetData>{body}</sheetData></worksheet>")


def workbook_xml(sheets):
    """``sheets``: [(name, rel id, state or None)]."""
    return (f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
            + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="{rid}"' + (f' state="{s}"' if s else "") + "/>"
                      for i, (n, rid, s) in enumerate(sheets, 1))
            + "</sheets></workbook>")


def rels_xml(rels):
    """``rels``: [(id, type suffix, target)]."""
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"/>' for i, t, target in rels)
            + "</Relationships>")


def zip_of(members, *, stored=False):
    """A ZIP holding ``members`` ({name: str or bytes}, in this order; None values are left out)."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            if content is not None:
                archive.writestr(name, content)
    return buffer.getvalue()


def book(sheet=None, *, stored=False, before=None, extra=None, **parts):
    """The workbook of ``hostile.py`` (one sheet ``Feuil1``) with ``sheet`` as its sheet's XML;
    ``parts`` replace (or, None, remove) content_types, root_rels, workbook or workbook_rels;
    ``before`` ({name: content}) go first in the archive, ``extra`` last."""
    members = dict(before or {})
    members.update({
        "[Content_Types].xml": parts.pop("content_types", hostile.CONTENT_TYPES),
        "_rels/.rels": parts.pop("root_rels", hostile.ROOT_RELS),
        "xl/workbook.xml": parts.pop("workbook", hostile.WORKBOOK),
        "xl/_rels/workbook.xml.rels": parts.pop("workbook_rels", hostile.WORKBOOK_RELS),
        "xl/worksheets/sheet1.xml": sheet if sheet is not None else sheet_xml(cell("A1", "Nom")),
    })
    assert not parts, parts
    members.update(extra or {})
    return zip_of(members, stored=stored)


def filler(size):
    """``size`` bytes of XML comments, none longer than 1 000 bytes (a comment is no tag)."""
    count, rest = divmod(size, 1000)
    if rest < 7:
        count, rest = count - 1, rest + 1000
    assert count >= 0
    return ("<!--" + "x" * 993 + "-->") * count + "<!--" + "x" * (rest - 7) + "-->"


def forge_sizes(data, member, *, compressed, uncompressed):
    """The ZIP ``data`` whose central directory declares these sizes for ``member`` (what
    ``infolist()`` reports; the member's bytes are unchanged)."""
    data = bytearray(data)
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + length]) == name:
            struct.pack_into("<II", data, at + 20, compressed, uncompressed)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 46)
    raise AssertionError(f"{member} absent")


def refused(check, data, **kwargs):
    with pytest.raises(FileRejected) as info:
        check(data, **kwargs)
    return str(info.value)


# --- the format, by content -------------------------------------------------------------------------

def test_an_empty_file_is_refused():
    assert refused(sniff_format, b"") == "Le fichier est vide."


def test_an_excel_97_file_is_refused_with_the_way_out():
    assert refused(sniff_format, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"x" * 100) == (
        "Ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe : enregistrez-le "
        "au format « Classeur Excel (.xlsx) » ou « CSV (séparateur : point-virgule) »."
    )


@pytest.mark.parametrize("magic", [b"%PDF-1.7", b"\x89PNG\r\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"{\\rtf1"])
def test_pdf_images_and_rtf_are_refused(magic):
    assert refused(sniff_format, magic + b" Nom;Pr\xc3\xa9nom\r\n") == NOT_A_LIST


def test_a_nul_byte_means_binary():
    assert refused(sniff_format, b"Nom;Prenom\r\nA\x00B;C\r\n") == NOT_A_LIST
    # NUL pairs (a UTF-16 text without its BOM would be full of them) count against a quarter.
    assert sniff_format(b"Nom;Pre\x00\x00nom\r\nDUPONT;Jean\r\n") == "csv"  # 2 NULs in 25 bytes
    assert sniff_format(b"ab\x00\x00\x00\x00cdefghijkl") == "csv"  # 4 NULs in 16 bytes: exactly a quarter
    assert refused(sniff_format, b"ab\x00\x00\x00\x00cdefghijk") == NOT_A_LIST  # 4 in 15: more


def test_only_the_first_64_kib_are_sampled_for_nul_bytes():
    head = b"Nom;Prenom\r\n" + b"A;B\r\n" * 13104 + b"\r"  # 65 533 bytes
    head += b"\r\n\n"[: 65536 - len(head)]
    assert len(head) == 65536
    assert sniff_format(head + b"\x00") == "csv"
    assert refused(sniff_format, head[:-1] + b"\x00") == NOT_A_LIST


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_text_is_csv(bom):
    text = "Nom\tPrénom\r\nDUPONT\tÉlodie\r\n"
    data = bom + text.encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be")
    assert sniff_format(data) == "csv"
    table = read_table(data)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-16", "\t")
    assert table.header == ["Nom", "Prénom"] and table.rows == [(2, ["DUPONT", "Élodie"])]


def test_a_zip_that_is_not_a_zip():
    assert refused(sniff_format, b"PK\x03\x04" + b"\x00" * 40) == (
        "Ce fichier est une archive ZIP illisible, pas un classeur Excel (.xlsx).")


def test_an_empty_zip_is_not_a_workbook():
    empty = zip_of({})
    assert empty.startswith(b"PK\x05\x06")
    assert refused(sniff_format, empty) == "Cette archive ZIP n’est pas un classeur Excel (.xlsx)."
    assert refused(sniff_format, book(content_types=None)) == "Cette archive ZIP n’est pas un classeur Excel (.xlsx)."


def test_an_ods_or_docx_is_refused():
    other = hostile.CONTENT_TYPES.replace("spreadsheetml.sheet.main+xml", "wordprocessingml.document.main+xml")
    assert refused(sniff_format, book(content_types=other)) == (
        "Ce fichier n’est pas un classeur Excel (.xlsx) : les formats .ods, .docx… ne sont pas acceptés.")


def test_macros_are_refused_by_content_type_or_by_member():
    xlsm = hostile.CONTENT_TYPES.replace(
        "</Types>", '<Override PartName="/x" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>')
    assert refused(sniff_format, book(content_types=xlsm)) == MACROS
    assert refused(sniff_format, book(before={"xl/vbaProject.bin": b"\x00"})) == MACROS  # any case
    assert refused(sniff_format, book(before={"vbaproject.bin": b"\x00"})) == MACROS


def test_the_content_types_are_read_on_their_first_200_000_characters_whatever_their_bytes():
    start = hostile.CONTENT_TYPES.replace("</Types>", "<!-- \xff -->").encode("latin-1")  # \xff: not UTF-8
    override = b'<Override PartName="/x" ContentType="'
    for end, expected in ((200_000, MACROS), (200_001, None)):
        head = start + b" " * (end - len(start) - len(override) - len(reading.XLSM_MAIN)) + override
        content = head + reading.XLSM_MAIN.encode() + b'"/></Types>'
        assert content.index(reading.XLSM_MAIN.encode()) + len(reading.XLSM_MAIN) == end
        data = book(content_types=content)
        if expected:
            assert refused(sniff_format, data) == expected
        else:
            assert sniff_format(data) == "xlsx"


# --- the ZIP directory ------------------------------------------------------------------------------

def test_members_count_limit():
    padding = {f"docProps/p{i}.xml": b"" for i in range(reading.MAX_MEMBERS - 5)}
    assert sniff_format(book(extra=padding)) == "xlsx"
    padding["docProps/one-more.xml"] = b""
    assert refused(sniff_format, book(extra=padding)) == (
        "Ce classeur contient trop d’éléments pour être lu.")


BOMB = "Ce classeur est anormalement compressé (bombe de décompression) : il est refusé."


@pytest.mark.parametrize("compressed,uncompressed,is_bomb", [
    (1000, 1_000_000, False),  # 1 000 000 bytes: under the size from which the ratio counts
    (1000, 1_000_001, True),
    (5001, 1_000_200, False),  # exactly 200 times
    (5001, 1_000_201, True),
    (0, 1_000_001, True),  # a member declared empty once compressed
])
def test_compression_ratio(compressed, uncompressed, is_bomb):
    data = forge_sizes(book(before={"docProps/big.bin": b"x"}), "docProps/big.bin", compressed=compressed,
                       uncompressed=uncompressed)
    if is_bomb:
        assert refused(sniff_format, data) == BOMB
    else:
        assert sniff_format(data) == "xlsx"


def test_a_real_decompression_bomb():
    assert refused(sniff_format, book(before={"docProps/zeros.bin": b"\x00" * 2_000_000})) == BOMB


def test_total_uncompressed_size_counts_every_member():
    plain = book()
    real = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(plain)).infolist())
    # A first member that brings the total to the limit exactly (its ratio stays at 100).
    for size, accepted in ((reading.MAX_UNCOMPRESSED - real, True), (reading.MAX_UNCOMPRESSED - real + 1, False)):
        data = forge_sizes(book(before={"docProps/big.bin": b"x"}), "docProps/big.bin",
                           compressed=size // 100, uncompressed=size)
        if accepted:
            assert sniff_format(data) == "xlsx"
        else:
            assert refused(sniff_format, data) == (
                "Ce classeur est trop volumineux une fois décompressé : il est refusé.")


# --- the workbook's parts ---------------------------------------------------------------------------

def two_sheets(first_state=None, second_state=None, *, second_type="worksheet"):
    return book(
        sheet_xml(cell("A1", "Première")),
        workbook=workbook_xml([("Une", "rId1", first_state), ("Deux", "rId2", second_state)]),
        workbook_rels=rels_xml([("rId1", "worksheet", "worksheets/sheet1.xml"),
                                ("rId2", second_type, "worksheets/sheet2.xml")]),
        extra={"xl/worksheets/sheet2.xml": sheet_xml(cell("A1", "Deuxième"))},
    )


@pytest.mark.parametrize("first,second,read", [
    (None, None, "Première"),
    ("visible", None, "Première"),
    ("hidden", None, "Deuxième"),
    ("veryHidden", "visible", "Deuxième"),
    ("hidden", "hidden", "Première"),  # nothing visible: the first sheet
])
def test_the_first_visible_sheet_is_read(first, second, read):
    assert read_table(two_sheets(first, second)).header == [read]


def test_a_chartsheet_is_not_a_sheet_to_read():
    assert read_table(two_sheets("hidden", None, second_type="chartsheet")).header == ["Première"]


def test_the_checks_apply_to_the_sheet_read():
    data = book(
        sheet_xml(cell("A1", "Cachée")),
        workbook=workbook_xml([("Une", "rId1", "hidden"), ("Deux", "rId2", None)]),
        workbook_rels=rels_xml([("rId1", "worksheet", "worksheets/sheet1.xml"),
                                ("rId2", "worksheet", "worksheets/sheet2.xml")]),
        extra={"xl/worksheets/sheet2.xml": sheet_xml(cell("A1", "Nom"), dimension="A1:CW1")},
    )
    assert refused(sniff_format, data).startswith("La feuille déclare une plage jusqu’à CW1 ; elle s’étend sur 101 colonnes")


def test_no_worksheet():
    expected = "Ce classeur ne contient aucune feuille de calcul."
    assert refused(sniff_format, book(workbook=workbook_xml([]))) == expected
    # A sheet whose part is missing, or whose relationship is not a worksheet's.
    assert refused(sniff_format, book(workbook_rels=rels_xml([("rId1", "worksheet", "worksheets/absent.xml")]))) == expected
    assert refused(sniff_format, book(workbook_rels=rels_xml([("rId1", "chartsheet", "worksheets/sheet1.xml")]))) == expected
    assert refused(sniff_format, book(workbook_rels=rels_xml([("rId2", "worksheet", "worksheets/sheet1.xml")]))) == expected
    assert refused(sniff_format, book(workbook_rels=None)) == expected


def test_the_workbook_is_found_through_the_package_relationships():
    """(calamine itself only reads ``xl/workbook.xml``: such a file is refused later, unreadable.)"""
    moved = dict(root_rels=rels_xml([("rId9", "extended-properties", "docProps/app.xml"),
                                     ("rId1", "officeDocument", "/Xbook/main.xml")]),
                 workbook=None, extra={"Xbook/main.xml": hostile.WORKBOOK, "Xbook/_rels/main.xml.rels": rels_xml(
                     [("rId1", "worksheet", "../xl/worksheets/sheet2.xml")]),
                     "xl/worksheets/sheet2.xml": sheet_xml(cell("A1", "Nom"), dimension="A1:CW1")})
    assert refused(sniff_format, book(**moved)).startswith("La feuille déclare une plage jusqu’à CW1 ;")
    # Without package relationships: xl/workbook.xml.
    assert sniff_format(book(root_rels=None)) == "xlsx"
    assert refused(sniff_format, book(sheet_xml(cell("A1", "Nom"), dimension="A1:CW1"), root_rels=None)).startswith(
        "La feuille déclare une plage jusqu’à CW1 ;")
    # Relationships naming a workbook that is not there.
    assert refused(sniff_format, book(root_rels=rels_xml([("rId1", "officeDocument", "xl/autre.xml")]))) == UNREADABLE
    assert refused(sniff_format, book(workbook=None)) == UNREADABLE


def test_relationships_without_target_or_type_lead_nowhere():
    expected = "Ce classeur ne contient aucune feuille de calcul."
    rels = hostile.WORKBOOK_RELS
    assert refused(sniff_format, book(workbook_rels=rels.replace(' Target="worksheets/sheet1.xml"', ""))) == expected
    assert refused(sniff_format, book(workbook_rels=rels.replace(' Type="', ' Kind="'))) == expected
    # The package's: then xl/workbook.xml, where it usually is.
    root = hostile.ROOT_RELS.replace(' Type="', ' Kind="')
    assert refused(sniff_format, book(sheet_xml(cell("A1", "Nom"), dimension="A1:CW1"), root_rels=root)).startswith(
        "La feuille déclare une plage jusqu’à CW1 ;")
    # Relationships outside the package namespace are none (ECMA-376 Part 2).
    bare = rels.replace(' xmlns="http://schemas.openxmlformats.org/package/2006/relationships"', "")
    assert refused(sniff_format, book(workbook_rels=bare)) == expected


def test_a_workbook_part_without_namespace_is_read():
    bare = hostile.WORKBOOK.replace(' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"', "")
    assert refused(sniff_format, book(sheet_xml(cell("A1", "Nom"), dimension="A1:CW1"), workbook=bare)).startswith(
        "La feuille déclare une plage jusqu’à CW1 ;")


def test_broken_xml_parts_are_unreadable():
    assert refused(sniff_format, book(workbook="<workbook><sheets>")) == UNREADABLE
    assert refused(sniff_format, book(workbook_rels="<Relationships")) == UNREADABLE


def test_small_parts_are_parsed_up_to_5_mib():
    start, end = hostile.WORKBOOK.split("<sheets>")
    for size, accepted in ((reading.MAX_SMALL_PART, True), (reading.MAX_SMALL_PART + 1, False)):
        xml = start + "<!--" + " " * (size - len(hostile.WORKBOOK) - 7) + "-->" + "<sheets>" + end
        assert len(xml.encode()) == size
        data = book(workbook=xml, stored=True)
        if accepted:
            assert sniff_format(data) == "xlsx"
        else:
            assert refused(sniff_format, data) == UNREADABLE


# --- the declared dimension -------------------------------------------------------------------------

def declared(ref, **kwargs):
    return refused(sniff_format, book(sheet_xml(cell("A1", "Nom"), dimension=ref)), **kwargs)


def test_declared_columns_rows_and_cells_at_and_past_each_limit():
    for ref in ("A1:CV1", "A1:A201001", "A1:CV60000", "CV60000", "A1:XFD", "A1:1048576", "A1:"):
        assert sniff_format(book(sheet_xml(cell("A1", "Nom"), dimension=ref))) == "xlsx", ref
    assert declared("A1:CW1") == (
        "La feuille déclare une plage jusqu’à CW1 ; elle s’étend sur 101 colonnes : au-delà de 100 colonnes, "
        "le classeur est refusé. Supprimez les colonnes vides ou inutiles à droite du tableau, puis déposez-le "
        "de nouveau.")
    assert declared("A1:A201002") == (
        f"La feuille déclare une plage jusqu’à A201002 ; elle s’étend sur 201{NNBSP}002 lignes : au-delà de "
        f"201{NNBSP}001 lignes, le classeur est refusé. Supprimez les lignes vides sous le tableau, puis "
        "déposez-le de nouveau.")
    assert declared("A1:CV60001") == (
        f"La feuille déclare une plage jusqu’à CV60001 ; elle s’étend sur 60{NNBSP}001 lignes et 100 colonnes : "
        f"au-delà de 6{NNBSP}000{NNBSP}000 cellules, le classeur est refusé. Supprimez les colonnes inutiles, "
        "puis déposez-le de nouveau.")
    # Columns before rows, rows before cells.
    assert declared("A1:CW201002").startswith("La feuille déclare une plage jusqu’à CW201002 ; elle s’étend sur 101 colonnes")
    assert declared("A1:CV201002").startswith(f"La feuille déclare une plage jusqu’à CV201002 ; elle s’étend sur 201{NNBSP}002 lignes :")
    assert declared("XFD1048576").startswith(f"La feuille déclare une plage jusqu’à XFD1048576 ; elle s’étend sur 16{NNBSP}384 colonnes")


def test_declared_dimension_written_otherwise():
    prefixed = (f'<x:worksheet xmlns:x="{NS}"><x:dimension  spans="1" ref="B2:AAA3"/><x:sheetData/></x:worksheet>')
    assert refused(sniff_format, book(prefixed)).startswith("La feuille déclare une plage jusqu’à AAA3 ; elle s’étend sur 703 colonnes")


def test_the_row_limit_follows_the_setting_and_the_caller(settings):
    data = book(sheet_xml(cell("A1", "Nom"), dimension="A1:A1012"))
    assert sniff_format(data) == "xlsx"
    settings.UPLOAD_MAX_ROWS = 10
    assert refused(sniff_format, data).startswith(
        f"La feuille déclare une plage jusqu’à A1012 ; elle s’étend sur 1{NNBSP}012 lignes : au-delà de 1{NNBSP}011 lignes")
    settings.UPLOAD_MAX_ROWS = 200_000
    assert refused(read_table, data, max_rows=10).startswith(
        f"La feuille déclare une plage jusqu’à A1012 ; elle s’étend sur 1{NNBSP}012 lignes : au-delà de 1{NNBSP}011 lignes")
    ok = book(sheet_xml(cell("A1", "Nom") + cell("A1010", "x"), dimension="A1:A1011"))
    assert read_table(ok, max_rows=10).rows == [(1010, ["x"])]


def test_the_column_and_cell_limits_follow_the_settings(settings):
    settings.UPLOAD_MAX_COLUMNS = 3
    settings.UPLOAD_MAX_CELLS = 30
    assert sniff_format(book(sheet_xml(cell("A1", "Nom"), dimension="A1:C10"))) == "xlsx"
    assert declared("A1:D1").startswith("La feuille déclare une plage jusqu’à D1 ; elle s’étend sur 4 colonnes : au-delà de 3 colonnes")
    assert declared("A1:C11").startswith("La feuille déclare une plage jusqu’à C11 ; elle s’étend sur 11 lignes et 3 colonnes : au-delà de 30 cellules")


def test_the_upload_reads_the_sheet_only_up_to_its_data():
    """A dimension written after ``<sheetData>``, a megabyte further, is not the upload's
    business (the worker finds it); one before it always is."""
    late = ('<?xml version="1.0"?>' f'<worksheet xmlns="{NS}"><sheetData>{cell("A1", "Nom")}</sheetData>'
            f'{filler(MIB)}<dimension ref="A1:CW1"/></worksheet>')
    assert sniff_format(book(late, stored=True)) == "xlsx"
    assert refused(read_table, book(late, stored=True)).startswith("La feuille déclare une plage jusqu’à CW1 ;")
    early = sheet_xml(cell("A1", "Nom"), dimension="A1:CW1", before_data=filler(MIB))
    assert refused(sniff_format, book(early, stored=True)).startswith("La feuille déclare une plage jusqu’à CW1 ;")


def test_a_dimension_a_megabyte_into_the_sheet_is_still_before_its_data():
    """(The word alone, a megabyte before, is no declaration.)"""
    start = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetPr codeName="dimension"/>'
    xml = (start + filler(MIB) + '<dimension ref="A1:CW1"/><sheetData>'
           f'<row r="1">{cell("A1", "Nom")}</row></sheetData></worksheet>')
    for check in (sniff_format, read_table):
        assert refused(check, book(xml, stored=True)).startswith("La feuille déclare une plage jusqu’à CW1 ;")


def test_only_the_first_dimension_is_the_declared_one():
    """A ``<dimension>`` written further down (here in a comment, which no reader reads) is not
    the sheet's declaration."""
    body = f'<row r="1">{cell("A1", "Nom")}</row>{filler(MIB)}<!-- <dimension ref="A1:XFD1"/> -->'
    assert read_table(book(sheet_xml(body, dimension="A1:A1"), stored=True)).header == ["Nom"]


# --- every cell, before calamine ------------------------------------------------------------------

def cells_refusal(body, **kwargs):
    return refused(read_table, book(sheet_xml(cell("A1", "Nom") + body)), **kwargs)


def test_cells_columns_rows_and_cells_at_and_past_each_limit():
    assert cells_refusal(cell("CW2", "x")) == (
        "Le tableau s’étend sur 101 colonnes : au-delà de 100 colonnes, le classeur est refusé. Supprimez les "
        "colonnes vides ou inutiles à droite du tableau, puis déposez-le de nouveau.")
    assert cells_refusal(cell("A201002", "x")) == (
        f"Le tableau s’étend sur 201{NNBSP}002 lignes : au-delà de 201{NNBSP}001 lignes, le classeur est refusé. "
        "Supprimez les lignes vides sous le tableau, puis déposez-le de nouveau.")
    assert cells_refusal(cell("CV2", "x") + cell("B60001", "y")) == (
        f"Le tableau s’étend sur 60{NNBSP}001 lignes et 100 colonnes : au-delà de 6{NNBSP}000{NNBSP}000 cellules, "
        "le classeur est refusé. Supprimez les colonnes inutiles, puis déposez-le de nouveau.")
    # What the worker checks before calamine (which would then spend seconds on 6 000 000 cells).
    assert reading._check_xlsx_container(book(sheet_xml(cell("A1", "Nom") + cell("CV2", "x") + cell("B60000", "y")))) == "Feuil1"


def test_a_tall_narrow_sheet_is_counted_whole_when_the_cell_limit_could_be_crossed():
    # 250 000 rows × 26 columns = 6 500 000 cells: with 300 000 rows allowed, column Z matters.
    body = cell("Z2", "x") + cell("A250000", "y")
    assert cells_refusal(body, max_rows=300_000) == (
        f"Le tableau s’étend sur 250{NNBSP}000 lignes et 26 colonnes : au-delà de 6{NNBSP}000{NNBSP}000 cellules, "
        "le classeur est refusé. Supprimez les colonnes inutiles, puis déposez-le de nouveau.")
    assert cells_refusal(cell("Z2", "x") + cell("A230770", "y"), max_rows=300_000).startswith(
        f"Le tableau s’étend sur 230{NNBSP}770 lignes et 26 colonnes")  # 6 000 020 cells
    assert reading._check_xlsx_container(book(sheet_xml(cell("A1", "Nom") + cell("Z2", "x") + cell("A230769", "y"))),
                                         300_000) == "Feuil1"  # 5 999 994 cells


def test_the_row_limit_of_the_cells_follows_the_caller():
    assert cells_refusal(cell("A1012", "x"), max_rows=10).startswith(
        f"Le tableau s’étend sur 1{NNBSP}012 lignes : au-delà de 1{NNBSP}011 lignes")


def test_cells_in_the_order_written_each_checked():
    # The widest first, the tallest last: their product crosses the cell limit.
    assert cells_refusal(cell("CV2", "x") + "</row><row>" + cell("A60001", "y")).startswith(
        f"Le tableau s’étend sur 60{NNBSP}001 lignes et 100 colonnes")


@pytest.mark.parametrize("body,expected", [
    # Rows and cells without r="…" take the next position, as calamine reads them.
    ('<row>' + '<c><v>1</v></c>' * 100 + '</row>', None),
    ('<row>' + '<c><v>1</v></c>' * 101 + '</row>', "Le tableau s’étend sur 101 colonnes"),
    # A new row starts again at the first column.
    ('<row>' + '<c><v>1</v></c>' * 100 + '</row><row><c><v>1</v></c></row>', None),
    # A row number, then cells without reference in it.
    ('<row r="1011"><c><v>1</v></c></row>', None),
    ('<row r="1012"><c><v>1</v></c></row>', f"Le tableau s’étend sur 1{NNBSP}012 lignes"),
    ('<row/>' * 1010 + '<row><c><v>1</v></c></row>', None),
    ('<row/>' * 1011 + '<row><c><v>1</v></c></row>', f"Le tableau s’étend sur 1{NNBSP}012 lignes"),
    # A reference with digits only: the next column, on that row.
    ('<row><c r="1012"><v>1</v></c></row>', f"Le tableau s’étend sur 1{NNBSP}012 lignes"),
    ('<row><c r="CV1"><v>1</v></c><c r="2"><v>1</v></c></row>', "Le tableau s’étend sur 101 colonnes"),
    # Letters only: that column, on the current row.
    ('<row r="1011"><c r="CW"><v>1</v></c></row>', "Le tableau s’étend sur 101 colonnes"),
    ('<row r="1000"><c r="CV"><v>1</v></c></row>', None),
    ('<row r="1012"><c r="A"><v>1</v></c></row>', f"Le tableau s’étend sur 1{NNBSP}012 lignes"),
    # The widest first, then the tallest: each new extent is checked.
    ('<row><c r="CV1"><v>1</v></c></row><row r="61"><c><v>1</v></c></row>', None),
    ('<row><c r="CV1"/></row><row r="1001"><c/></row>', f"Le tableau s’étend sur 1{NNBSP}001 lignes et 100 colonnes"),
])
def test_the_exact_walk(body, expected, settings):
    settings.UPLOAD_MAX_CELLS = 100_000
    data = book(sheet_xml(body))
    if expected is None:
        assert reading._check_xlsx_container(data, 10) == "Feuil1"  # what the worker checks before calamine
        return
    assert refused(read_table, data, max_rows=10).startswith(expected)


def test_cells_without_reference_in_a_sheet_written_with_references():
    """One cell tag without its reference among ordinary ones: the whole sheet is walked."""
    body = '<row r="1">' + cell("A1", "Nom") + '</row><row r="2">' + cell("CU2", "x") + "<c><v>1</v></c><c><v>1</v></c></row>"
    assert refused(read_table, book(sheet_xml(body))).startswith("Le tableau s’étend sur 101 colonnes")
    body = '<row r="1">' + cell("A1", "Nom") + '</row><row r="2">' + cell("CU2", "x") + "<c><v>1</v></c></row>"
    assert read_table(book(sheet_xml(body))).rows == [(2, [""])]


@pytest.mark.parametrize("tag,expected", [
    ('<c r="CW2"/>', "101 colonnes"),  # the fast path
    ("<c r='CW2'/>", "101 colonnes"),  # single quotes: the walk
    ('<c s="1" r="CW2"/>', "101 colonnes"),  # another attribute first
    ('<c\nr="CW2"/>', "101 colonnes"),
    ('<c r="CW2" t="n"><v>1</v></c>', "101 colonnes"),
    ('<x:c r="CW2"/>', "101 colonnes"),
])
def test_a_cell_reference_however_written(tag, expected):
    sheet = (f'<worksheet xmlns="{NS}" xmlns:x="{NS}"><sheetData><row r="1">{cell("A1", "Nom")}</row>'
             f'<row r="2">{tag}</row></sheetData></worksheet>')
    assert expected in refused(read_table, book(sheet))


def test_text_that_looks_like_a_reference_is_not_a_cell_of_the_fast_path():
    """``r="…"`` in a cell's text, or on another element: the walk decides, from the tags."""
    text = cell("A1", "Nom") + cell("B1", 'x r="CW1"') + '<c r="C1"><f r="XFD1">1</f></c>'
    table = read_table(book(sheet_xml(f'<row r="1">{text}</row>')))
    assert table.header == ["Nom", 'x r="CW1"']


# --- the sheet, read in blocks of a megabyte -------------------------------------------------------

MIB = 1 << 20


def sheet_with_tag_at(offset, tag, *, before="", after=""):
    """A sheet (stored: no compression) whose ``tag`` starts at byte ``offset`` of its XML."""
    start = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">{before}<sheetData>'
             f'<row r="1">{cell("A1", "Nom")}</row><row r="2">')
    return start + filler(offset - len(start.encode())) + tag + "</row>" + after + "</sheetData></worksheet>"


@pytest.mark.parametrize("offset", [MIB - 12, MIB - 11, MIB - 7, MIB - 5, MIB - 2, MIB - 1, MIB, MIB + 1])
def test_a_cell_across_the_megabyte_boundary_is_seen_whole(offset):
    data = book(sheet_with_tag_at(offset, '<c r="CW2"/>'), stored=True)
    assert refused(read_table, data).startswith("Le tableau s’étend sur 101 colonnes")


@pytest.mark.parametrize("offset", [MIB - 4, MIB - 1])
def test_a_cell_without_reference_across_the_megabyte_boundary_is_counted_once(offset):
    data = book(sheet_with_tag_at(offset, "<c><v>1</v></c>" * 100), stored=True)
    assert reading._check_xlsx_container(data, None) == "Feuil1"
    data = book(sheet_with_tag_at(offset, "<c><v>1</v></c>" * 101), stored=True)
    assert refused(read_table, data).startswith("Le tableau s’étend sur 101 colonnes")


def test_the_widest_cell_in_one_megabyte_and_the_tallest_in_the_next():
    body = f'<row r="1">{cell("A1", "Nom")}{cell("CV1", "x")}</row>{filler(MIB)}<row r="60001"><c r="A60001"/></row>'
    assert refused(read_table, book(sheet_xml(body), stored=True)).startswith(
        f"Le tableau s’étend sur 60{NNBSP}001 lignes et 100 colonnes")
    body = f'<row r="1">{cell("A1", "Nom")}<c r="A60001"/></row>{filler(MIB)}<row r="2"><c r="CV2"/></row>'
    assert refused(read_table, book(sheet_xml(body), stored=True)).startswith(
        f"Le tableau s’étend sur 60{NNBSP}001 lignes et 100 colonnes")


@pytest.mark.parametrize("check", [sniff_format, read_table])
def test_a_tag_longer_than_64_kib_across_the_boundary(check):
    """An unfinished tag at the end of a megabyte may run 64 KiB into the next: no more."""
    for length, accepted in ((65536, True), (65537, False)):
        start = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
        comment = filler(MIB - length - len(start))
        xml = start + comment + '<sheetPr codeName="' + "x" * 70_000 + '"/><sheetData>' + \
            f'<row r="1">{cell("A1", "Nom")}</row></sheetData></worksheet>'
        assert xml.index("<sheetPr") == MIB - length
        data = book(xml, stored=True)
        if accepted:
            assert check(data) is not None
        else:
            assert refused(check, data) == UNREADABLE


# --- text: encoding, delimiter, shape --------------------------------------------------------------

@pytest.mark.parametrize("data,text,encoding", [
    (b"\xef\xbb\xbfNom;Pr\xc3\xa9nom", "Nom;Prénom", "utf-8-sig"),
    (b"\xef\xbb\xbfNom;\xe9", "Nom;\ufffd", "utf-8-sig"),  # a BOM then a broken byte: replaced
    (b"Nom;Pr\xc3\xa9nom", "Nom;Prénom", "utf-8"),
    (b"Nom;Pr\xe9nom \x80", "Nom;Prénom €", "cp1252"),
    (b"Nom;Pr\xe9nom \x81\x8d", "Nom;Prénom \x81\x8d", "latin-1"),  # holes of Windows-1252
    (b"\xff\xfeN\x00o\x00m\x00", "Nom", "utf-16"),
    (b"\xfe\xff\x00N\x00o\x00m", "Nom", "utf-16"),
])
def test_decode_text(data, text, encoding):
    assert reading.decode_text(data) == (text, encoding)


@pytest.mark.parametrize("text,delimiter", [
    ("Nom;Prénom;Né le\r\nA;B;C\r\n", ";"),
    ("Nom\tPrénom\tNé le\r\n", "\t"),
    ("Nom,Prénom,Né le\r\n", ","),
    ("Nom;Prénom,Né le\r\n", ";"),  # as many: the semicolon first
    ("Nom\tPrénom,Né le\r\n", "\t"),  # then the tab
    ("Nom,Prénom,Adresse;Ville\r\n", ","),
    ("Nom,Prénom\tNé le\tVille\r\n", "\t"),
    ("\r\n  \r\nNom,Prénom\r\nA;B;C;D\r\n", ","),  # the first line that is not blank
    ('"Nom;Prénom",Né le,Ville\r\n', ","),  # quoted delimiters do not count
    ("Nom\tPrénom\r\n", "\t"),
    ("Nom,Prénom\r\n", ","),
    ("Nom\r\n", ";"),
    ("", ";"),
    # A header longer than 20 000 characters: counted on its first 20 000.
    ("x" * 19990 + ",," + "x" * 7 + ";;\r\n", ","),
    ("x" * 19996 + ";,x,\r\n", ","),
])
def test_detect_delimiter(text, delimiter):
    assert reading.detect_delimiter(text) == delimiter


def test_csv_line_length_limit():
    line = "x" * (reading.MAX_LINE_CHARS - 1)
    assert sniff_format(f"Nom;Prénom\r\n{line}\r\n".encode()) == "csv"
    assert sniff_format(f"Nom;Prénom\r\n{line}".encode() + b"x") == "csv"  # the last line, without its end
    expected = (f"Ligne 3 : plus de 32{NNBSP}768 caractères, ce n’est pas une liste de personnes. Le fichier est "
                "refusé : enregistrez de nouveau le tableau au format CSV et déposez-le.")
    assert refused(sniff_format, f"Nom;Prénom\r\n\r\n{line}x\r\n".encode()) == expected
    assert refused(sniff_format, f"Nom;Prénom\n\n{line}xx".encode()) == expected
    assert refused(read_table, f"Nom;Prénom\n\n{line}xx".encode(), fmt="csv") == expected


def test_csv_header_width_limit():
    assert read_table(("\r\n" + ";".join(["c"] * 100) + "\r\n").encode()).header == ["c"] * 100
    expected = ("Ligne 2 (en-tête) : 101 colonnes, au-delà de 100 le fichier est refusé. "
                "Supprimez les colonnes inutiles.")
    # Counted as written, before the blank trailing columns are left out.
    assert refused(sniff_format, ("\r\n" + "c;" * 100 + "\r\n").encode()) == expected
    assert refused(read_table, ("\r\n" + "c;" * 100 + "\r\n").encode(), fmt="csv") == expected
    # Only the header: a wider line under it is cut to the header's width.
    table = read_table(("Nom;Prénom\r\n" + ";".join(["d"] * 150) + "\r\n").encode())
    assert table.rows == [(2, ["d", "d"])]
    # A header wider than the limit under a line of empty cells (not blank as a line).
    wide = (";\r\n" + ";".join(["c"] * 101) + "\r\nx\r\n").encode()
    assert refused(read_table, wide) == expected


def test_thousands_in_the_header_width(settings):
    settings.UPLOAD_MAX_COLUMNS = 1000
    assert refused(sniff_format, (";".join(["c"] * 1001)).encode()) == (
        f"Ligne 1 (en-tête) : 1{NNBSP}001 colonnes, au-delà de 1{NNBSP}000 le fichier est refusé. "
        "Supprimez les colonnes inutiles.")
    assert refused(read_table, (";\r\n" + ";".join(["c"] * 1001)).encode()) == (
        f"Ligne 2 (en-tête) : 1{NNBSP}001 colonnes, au-delà de 1{NNBSP}000 le fichier est refusé. "
        "Supprimez les colonnes inutiles.")


def test_csv_cell_too_long():
    quoted = '"' + ("x" * 30000 + "\r\n") * 5 + '"'
    assert refused(read_table, f"Nom;Prénom\r\nA;{quoted}\r\n".encode()) == (
        "Fichier CSV illisible : une cellule est trop longue ou un guillemet n’est pas refermé. "
        "Enregistrez de nouveau le fichier depuis votre tableur (format CSV) et déposez-le.")


# --- what is read -----------------------------------------------------------------------------------

def test_csv_rows_keep_their_line_numbers_and_the_header_width():
    data = ("\r\n ; \r\n Nom ;Prénom;;\r\nDUPONT;Jean;x;y\r\n;\r\n\r\n\"MARTIN\r\nBIS\";Paul\r\nDURAND\r\n"
            "0;\r\n").encode("cp1252")
    table = read_table(data)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "cp1252", ";")
    assert table.header == ["Nom", "Prénom"]
    # Numbered as a spreadsheet shows it: a quoted cell's line break does not start a new row.
    assert table.rows == [(4, ["DUPONT", "Jean"]), (7, ["MARTIN\r\nBIS", "Paul"]), (8, ["DURAND"]), (9, ["0", ""])]


def test_collect_blank_cells_and_header_width():
    """Any reader's rows: None and texts of spaces are blank; the header's blank trailing
    columns are left out, and every row is cut to the header's width."""
    rows = [(1, [None, " ", ""]), (2, [None, " Nom\t", None, " "]), (3, [None]), (4, ["a", "b", "c"]),
            (5, ("x", 0)), (6, [0.0])]
    assert reading._collect(iter(rows), 10) == (["", "Nom"], [(4, ["a", "b"]), (5, ["x", 0]), (6, [0.0])])


def test_a_one_column_header_keeps_one_column():
    assert read_table(b"Nom\r\nDUPONT;Jean\r\n", "csv").rows == [(2, ["DUPONT"])]


def test_row_count_limit():
    ok = ("Nom\r\n" + "x\r\n" * 10).encode()
    assert len(read_table(ok, max_rows=10).rows) == 10
    too_many = ("Nom\r\n" + "x\r\n" * 11).encode()
    assert refused(read_table, too_many, max_rows=10) == "Le fichier contient plus de 10 lignes : il est refusé."
    too_many = ("Nom\r\n" + "x\r\n" * 1001).encode()
    assert refused(read_table, too_many, max_rows=1000) == "Le fichier contient plus de 1 000 lignes : il est refusé."


def test_row_count_limit_follows_the_setting(settings):
    settings.UPLOAD_MAX_ROWS = 3
    assert len(read_table(b"Nom\r\na\r\nb\r\nc\r\n").rows) == 3
    assert refused(read_table, b"Nom\r\na\r\nb\r\nc\r\nd\r\n") == "Le fichier contient plus de 3 lignes : il est refusé."


def test_no_line():
    assert refused(read_table, b" ; \r\n\r\n;;\r\n") == "Le fichier ne contient aucune ligne."


def test_xlsx_values_and_line_numbers():
    body = (f'<row r="2">{cell("A2", " Nom ")}{cell("B2", "Né le")}<c r="C2"><v>7</v></c></row>'
            f'<row r="3">{cell("A3", " ")}</row>'
            f'<row r="4">{cell("A4", "DUPONT")}<c r="B4"><v>12.5</v></c>{cell("D4", "trop")}</row>'
            f'<row r="6"><c r="B6"><v>0</v></c></row>')
    table = read_table(book(sheet_xml(body)))
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", "", "")
    assert table.header == ["Nom", "Né le", "7.0"]
    assert table.rows == [(4, ["DUPONT", 12.5, ""]), (6, ["", 0.0, ""])]


def test_xlsx_row_count_limit():
    rows = "".join(f'<row r="{n}">{cell(f"A{n}", "x")}</row>' for n in range(2, 13))
    data = book(sheet_xml(f'<row r="1">{cell("A1", "Nom")}</row>' + rows))
    assert refused(read_table, data, max_rows=10) == "Le fichier contient plus de 10 lignes : il est refusé."
    assert len(read_table(data, max_rows=11).rows) == 11


def test_a_sheet_calamine_cannot_read_is_unreadable():
    # A shared string that the workbook does not have.
    assert refused(read_table, book(sheet_xml('<row r="1"><c r="A1" t="s"><v>5</v></c></row>'))) == UNREADABLE
    assert refused(read_table, book(sheet_xml(cell("A1", "Nom") + "<row"))) == UNREADABLE


def test_the_format_can_be_given():
    data = book()
    assert read_table(data, "xlsx").header == ["Nom"]
    assert read_table(b"Nom;Pr\xe9nom\r\n", "csv").header == ["Nom", "Prénom"]


def test_limits():
    assert reading.limits() == (201_001, 100, 6_000_000)
    assert reading.limits(10) == (1011, 100, 6_000_000)


# --- the pure helpers of the scan, by their contract ----------------------------------------------
# (``_sheet_blocks`` and ``_fast_extent``: if their implementation changes, keep their contract.)

def blocks_of(xml):
    archive = zipfile.ZipFile(io.BytesIO(book(xml, stored=True)))
    return list(reading._sheet_blocks(archive, "xl/worksheets/sheet1.xml"))


def test_sheet_blocks_are_the_sheet_cut_between_tags():
    """Blocks of about a megabyte (at most 1 MiB + 64 KiB) that, put together, are the sheet,
    byte for byte; none ends inside a tag."""
    body = "".join(f'<row r="{n}">{cell(f"A{n}", "x" * (n % 50))}<c r="B{n}"><v>{n}</v></c></row>'
                   for n in range(1, 40_000))
    xml = sheet_xml(body)
    assert len(xml) > 3 * MIB
    blocks = blocks_of(xml)
    assert b"".join(blocks) == xml.encode()
    # One block per megabyte read (and an empty one at the end).
    assert len([b for b in blocks if b]) == -(-len(xml.encode()) // MIB) and not blocks[-1]
    assert all(len(b) <= MIB + 65536 for b in blocks)
    for block in blocks:
        last = block.rfind(b"<")
        assert last == -1 or block.find(b">", last) != -1, block[-200:]


def test_sheet_blocks_of_a_small_sheet_and_of_a_truncated_one():
    xml = sheet_xml(cell("A1", "Nom"))
    assert b"".join(blocks_of(xml)) == xml.encode()
    truncated = xml[:xml.index("</sheetData>")] + '<c r="CW2"'
    assert b"".join(blocks_of(truncated)) == truncated.encode()


def test_a_cell_cut_off_at_the_end_of_the_file_is_still_checked():
    xml = sheet_xml(cell("A1", "Nom"))
    truncated = xml[:xml.index("</sheetData>")] + '<row r="2"><c r="CW2"'
    assert refused(read_table, book(truncated)).startswith("Le tableau s’étend sur 101 colonnes")


def test_a_long_comment_closed_before_the_megabyte_is_no_long_tag():
    """Only an unfinished tag at the end of a megabyte counts against the 64 KiB."""
    start = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
    comment = "<!--" + "x" * 100_000 + "-->"
    xml = (start + filler(MIB - len(start) - len(comment) - 10) + comment + " " * 10
           + f'<sheetData><row r="1">{cell("A1", "Nom")}</row></sheetData></worksheet>')
    assert xml.index("<sheetData>") == MIB
    assert read_table(book(xml, stored=True)).header == ["Nom"]


@pytest.mark.parametrize("block,extent", [
    (b"", (0, 0, True)),
    (b'<row r="7"><v>1</v></row>', (0, 0, True)),
    # Narrow columns (reported as 0) and rows of at most 5 digits: within every limit (201,001
    # rows, 6,000,000 cells), reported as at most 99,999, not counted one by one.
    (b'<row r="7"><c r="A7"/><c r="B9"/></row>', (99_999, 0, False)),
    (b'<c r="Z12"/>', (99_999, 0, False)),
    # Column CV (100): 60,000 rows at most, so rows of at most 4 digits are within the limits.
    (b'<c r="AA3"/><c r="CV1"/><c r="B30"/>', (9_999, 100, False)),
    (b'<c r="CV1"/><c r="A60001"/><c r="B30"/>', (60_001, 100, True)),
    (b'<c r="A100001"/><c r="B5"/><c r="C100000"/>', (100_001, 0, True)),  # longer ones are counted
    (b'<c r="A100000"/><c r="B5"/>', (100_000, 0, True)),  # 10**5: over the bound of the shorter ones
    (b'<c r="A0000012"/>', (12, 0, True)),  # leading zeros: the number is counted
    # Leading zeros again: a long reference under the bound leaves the bound of the short ones.
    (b'<c r="A0000050"/><c r="B99999"/>', (99_999, 0, False)),
    (b'<c r="A0099998"/><c r="B7"/>', (99_999, 0, False)),
    (b'<c r="A0099999"/><c r="B7"/>', (99_999, 0, True)),  # the bound itself, as a row: exact
    (b'<c r="XFD1048576"/>', (1048576, 16384, True)),  # 366 rows at most at that width
    (b'<c r="A1"><is><t>r="X"</t></is></c>', (99_999, 0, False)),  # no space before: not an attribute
    # Anything but ``<c r="B12"`` on every cell, or an r="…" elsewhere: the exact walk decides.
    (b'<c r="A1"/><c/>', None),
    (b'<c s="1" r="A1"/>', None),
    (b"<c r='A1'/>", None),
    (b'<x:c r="A1"/>', None),
    (b'<x:row r="1"><c r="A1"/></x:row>', None),
    (b'<c r="A1"><is><t>x r="CW1"</t></is></c>', None),
])
def test_fast_extent(block, extent):
    assert reading._fast_extent(block, None, 0) == extent


def test_fast_extent_rows_within_the_widest_column_seen_before():
    """The widest column of the blocks before (``width``) sets which rows can cross a limit."""
    block = b'<c r="A12"/><c r="B60001"/>'
    assert reading._fast_extent(block, None, 0) == (99_999, 0, False)
    assert reading._fast_extent(block, None, 100) == (60_001, 0, True)
    assert reading._fast_extent(b'<c r="A12"/>', None, 100) == (9_999, 0, False)
    assert reading._fast_extent(b'<c r="A12"/>', None, 6_000_001) == (12, 0, True)  # 0 rows: all counted


def test_fast_extent_counts_every_column_when_narrow_ones_could_cross_the_cell_limit(settings):
    block = b'<c r="Z12"/><c r="B3"/>'
    # 301 001 rows × Z: over 6 000 000 cells; at column Z, 230,769 rows: 5 digits are safe.
    assert reading._fast_extent(block, 300_000, 0) == (99_999, 26, False)
    # 201 001 rows × Z: exactly the cell limit (narrow columns cannot cross it), one past it.
    settings.UPLOAD_MAX_CELLS = 201_001 * 26
    assert reading._fast_extent(block, None, 0) == (99_999, 0, False)
    settings.UPLOAD_MAX_CELLS = 201_001 * 26 - 1
    assert reading._fast_extent(block, None, 0) == (99_999, 26, False)
    settings.UPLOAD_MAX_COLUMNS = 26  # one letter
    assert reading._fast_extent(block, None, 0) == (99_999, 26, False)
    settings.UPLOAD_MAX_CELLS = 26 * 9  # 9 rows at column Z: every row is counted
    assert reading._fast_extent(block, None, 0) == (12, 26, True)


def test_a_narrow_tall_part_then_a_wide_column_is_measured_exactly(monkeypatch):
    """The first megabyte holds narrow rows up to 60,000 (5 digits: reported as at most
    99,999), a later one column CV (100): the bound would cross the 6,000,000 cells, so the
    exact walk measures the sheet: 60,000 × 100 is accepted, 60,001 × 100 refused (checked
    before calamine, which is not called here)."""
    walks = []
    scan = reading._scan_sheet
    monkeypatch.setattr(reading, "_scan_sheet", lambda *a, **k: walks.append(k["fast"]) or scan(*a, **k))
    for last, refused_with in ((60_000, None), (60_001, "60\u202f001 lignes et 100 colonnes")):
        body = (f'<row r="1">{cell("A1", "Nom")}</row>' + filler(MIB + 1000)
                + f'<row r="{last}">{cell(f"A{last}", "x")}</row>' + filler(MIB + 1000)
                + f'<row r="{last + 1}">{cell(f"CV{last + 1}", "y")}</row>'.replace(f"CV{last + 1}", "CV2"))
        data = book(sheet_xml(body), stored=True)
        walks.clear()
        if refused_with is None:
            assert reading._check_xlsx_container(data) == "Feuil1"
        else:
            assert refused(reading._check_xlsx_container, data).startswith(f"Le tableau s’étend sur {refused_with}")
        assert walks == [True, False]  # the fast scan gave up for the exact walk
    # The other way round (column CV first, then rows up to 50,000): with the width seen before,
    # rows of 5 digits are counted one by one, 50,000 × 100 is within the limits: no exact walk.
    body = (f'<row r="1">{cell("A1", "Nom")}{cell("CV1", "y")}</row>' + filler(MIB + 1000)
            + f'<row r="50000">{cell("A50000", "x")}</row>')
    walks.clear()
    assert reading._check_xlsx_container(book(sheet_xml(body), stored=True)) == "Feuil1"
    assert walks == [True]


@pytest.mark.parametrize("number,letters", [
    (1, b"A"), (2, b"B"), (26, b"Z"), (27, b"AA"), (52, b"AZ"), (53, b"BA"), (100, b"CV"), (702, b"ZZ"), (703, b"AAA"),
    (16384, b"XFD"),
])
def test_column_letters_and_numbers(number, letters):
    assert reading._column_letters(number) == letters
    assert reading._column_number(letters) == number


def test_csv_with_carriage_returns_only():
    """Excel for Mac's « CSV (Macintosh) » ends its lines with a lone carriage return."""
    table = read_table(b"Nom;Pr\xe9nom\r\rDUPONT;\xc9lodie\r\"MARTIN\rBIS\";Paul\r")
    assert table.header == ["Nom", "Prénom"]
    assert table.rows == [(3, ["DUPONT", "Élodie"]), (4, ["MARTIN\rBIS", "Paul"])]

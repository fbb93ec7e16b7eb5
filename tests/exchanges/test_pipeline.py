"""Reading, validating and storing messy real-world files (all or nothing)."""

import datetime

import pytest

from exchanges.models import ListRow, ListState, MonthlyList, Movement, Status
from exchanges.services import workflow
from exchanges.services.reading import FileRejected, read_table, sniff_format
from referentiel.models import Departement, PlatformSettings
from siao_ofii.privatefiles.storage import private_storage
from tests.exchanges import samples

PERIOD = "2026-11"


@pytest.fixture
def dep69(db):
    return Departement.objects.get(code="69")


def upload(dep, data, user, period=PERIOD, name="liste.csv"):
    ml = workflow.receive_upload(dep, period, data, name=name, user=user, run=False)
    return workflow.process_list(ml.pk)


def errors_of(ml):
    return {(r.line_number, e["column"], e["message"]) for r in ml.rows.all() for e in r.errors}


def test_windows_1252_semicolon_csv(demo, dep69):
    data = samples.csv_bytes(samples.GOOD)
    assert data.decode("cp1252") and b"\xc9lodie" in data  # really Windows-1252
    ml = upload(dep69, data, demo["siao.69"])
    assert ml.state == ListState.DRAFT, ml.report
    assert ml.row_count == 3 and ml.error_count == 0, errors_of(ml)
    assert ml.report["encoding"] == "cp1252" and ml.report["delimiter"] == ";"
    rows = list(ml.rows.order_by("line_number"))
    assert [r.line_number for r in rows] == [2, 3, 4]
    assert rows[0].first_name == "Élodie" and rows[0].status == Status.DA and rows[0].sex == "F"
    assert rows[1].last_name == "N'DIAYE" and rows[1].sex == "M" and rows[1].status == Status.REFUGIE
    assert rows[2].birth_date == datetime.date(2001, 1, 1) and rows[2].entry_date == datetime.date(2026, 11, 2)
    assert rows[2].status == Status.PROTECTION_SUBSIDIAIRE


def test_utf8_bom_comma_csv(demo, dep69):
    header = ["Nom de naissance", "PRENOM", "DDN", "Genre", "Statut", "Adresse", "Code postal", "Ville", "Date entrée"]
    rows = [["Durand", "Léa", "2/3/95", "femme", "BPI", "1 place Bellecour", "69002", "Lyon", "01/09/2026"]]
    ml = upload(dep69, samples.csv_bytes(rows, header, delimiter=",", encoding="utf-8", bom=True), demo["siao.69"])
    assert ml.state == ListState.DRAFT, ml.report
    row = ml.rows.get()
    assert row.last_name == "Durand" and row.first_name == "Léa" and row.birth_date == datetime.date(1995, 3, 2)
    assert row.shelter_address == "1 place Bellecour, 69002 Lyon"
    assert row.status == Status.BPI and Status.transmitted(row.status) == "BPI"


@pytest.mark.parametrize("serial", [False, True])
def test_xlsx_with_serial_and_text_dates_and_blank_rows(demo, dep69, serial):
    rows = [list(r) for r in samples.GOOD]
    rows[1][2] = "3/2/84"  # text date in an XLSX
    data = samples.xlsx_bytes(rows, serial_dates=serial)
    assert sniff_format(data) == "xlsx"
    ml = upload(dep69, data, demo["siao.69"], name="liste.xlsx")
    assert ml.state == ListState.DRAFT, ml.report
    assert ml.row_count == 3 and ml.error_count == 0, errors_of(ml)
    got = {r.line_number: r for r in ml.rows.all()}
    assert got[2].birth_date == datetime.date(1990, 2, 3)
    assert got[3].birth_date == datetime.date(1984, 2, 3)
    assert got[2].entry_date == datetime.date(2026, 10, 1)


def test_errors_name_row_and_column(demo, dep69):
    ml = upload(dep69, samples.csv_bytes(samples.GOOD + samples.BAD), demo["siao.69"])
    assert ml.state == ListState.DRAFT and ml.row_count == 5 and ml.error_count == 2
    errs = errors_of(ml)
    assert (5, "Date de naissance", "date impossible « 31/02/1990 »") in errs
    cols6 = {c for line, c, _ in errs if line == 6}
    assert {"NOM", "Sexe", "Situation administrative", "Date d'entrée"} <= cols6
    msgs = " ".join(m for line, _, m in errs if line == 6)
    assert "non transmissible" in msgs and "postérieure à la fin du mois" in msgs and "sexe inconnu" in msgs
    with pytest.raises(workflow.WorkflowError, match="2 ligne"):
        workflow.validate_list(ml, demo["siao.69"])


def test_warnings_duplicate_old_entry_and_centenarian(demo, dep69):
    rows = [list(samples.GOOD[0]), list(samples.GOOD[0]), list(samples.GOOD[1])]
    rows[2][2] = "01/01/1920"
    rows[2][6] = "01/01/2019"
    ml = upload(dep69, samples.csv_bytes(rows), demo["siao.69"])
    assert ml.error_count == 0 and ml.warning_count == 2
    w = {r.line_number: " ".join(x["message"] for x in r.warnings) for r in ml.rows.all()}
    assert "ligne 2" in w[3] and "plus de 100 ans" in w[4] and "plus de 5 ans" in w[4] and not w[2]


def test_unrecognised_header_needs_mapping_then_succeeds(demo, dep69):
    header = list(samples.HEADER_FR)
    header[4] = "Situation au 1er du mois"  # not a known synonym
    ml = upload(dep69, samples.csv_bytes(samples.GOOD, header), demo["siao.69"])
    assert ml.state == ListState.FAILED and ml.report["needs_mapping"] and ml.report["missing"] == ["status"]
    assert ml.source_path and ListRow.objects.filter(monthly_list=ml).count() == 0
    stored = workflow.upload_name(ml.source_path)
    assert private_storage().exists(stored)  # kept, encrypted, until the columns are mapped
    workflow.set_mapping(ml, {"status": 4}, user=demo["siao.69"], run=False)
    ml = workflow.process_list(ml.pk)
    assert ml.state == ListState.DRAFT and ml.row_count == 3 and ml.error_count == 0
    # Processed: the uploaded file is deleted and forgotten.
    ml.refresh_from_db()
    assert ml.source_path == "" and not private_storage().exists(stored)


@pytest.mark.parametrize("maker,message", [
    (lambda: b"", "vide"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "97-2003"),
    (lambda: samples.xlsx_bytes(samples.GOOD, extra=None).replace(b"xl/workbook.xml", b"xl/workbook.xml"), None),
    (lambda: b"%PDF-1.4 blah", "ni un fichier CSV"),
])
def test_sniffing_by_content(maker, message):
    data = maker()
    if message is None:
        assert sniff_format(data) == "xlsx"
        return
    with pytest.raises(FileRejected, match=message):
        sniff_format(data)


def _zip_with(members):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def test_xlsm_and_other_zip_refused_by_content():
    import io
    import zipfile

    xlsx = samples.xlsx_bytes(samples.GOOD)
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    members = {n: src.read(n) for n in src.namelist()}
    xlsx_main = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    xlsm_main = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert xlsx_main in members["[Content_Types].xml"]
    assert sniff_format(_zip_with(members)) == "xlsx"  # the unmodified workbook is accepted
    # 1. Declared as a macro workbook by its content type, without any macro member.
    by_type = dict(members)
    by_type["[Content_Types].xml"] = members["[Content_Types].xml"].replace(xlsx_main, xlsm_main)
    assert by_type["[Content_Types].xml"] != members["[Content_Types].xml"]
    with pytest.raises(FileRejected, match="macros"):
        sniff_format(_zip_with(by_type))
    # 2. A macro member in a workbook declared as a plain .xlsx.
    by_member = dict(members, **{"xl/vbaProject.bin": b"macro"})
    with pytest.raises(FileRejected, match="macros"):
        sniff_format(_zip_with(by_member))
    with pytest.raises(FileRejected, match="pas un classeur"):
        sniff_format(_zip_with({"word/document.xml": b"<w/>"}))


def test_zip_bomb_refused():
    members = {"[Content_Types].xml": samples.xlsx_bytes([])[:0] or b"<Types/>", "xl/worksheets/sheet1.xml": b"0" * 50_000_000}
    data = _zip_with(members)
    assert len(data) < 1_000_000
    with pytest.raises(FileRejected, match="bombe"):
        sniff_format(data)


def test_too_many_rows_and_too_big(demo, dep69, settings):
    settings.UPLOAD_MAX_ROWS = 2
    ml = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    assert ml.state == ListState.FAILED and "plus de 2 lignes" in ml.report["file_errors"][0]
    assert ml.rows.count() == 0
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(FileRejected, match="taille maximale"):
        workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD), name="x.csv", user=demo["siao.69"])


def test_formula_cells_are_stored_as_text(demo, dep69):
    rows = [list(samples.GOOD[0])]
    rows[0][0] = "=HYPERLINK(\"http://x\",\"DUPONT\")"
    rows[0][5] = "@SUM(A1)"
    ml = upload(dep69, samples.csv_bytes(rows), demo["siao.69"])
    row = ml.rows.get()
    assert row.last_name.startswith("=HYPERLINK") and row.shelter_address == "@SUM(A1)"


def test_all_or_nothing_when_storage_fails(demo, dep69, monkeypatch):
    previous = upload(dep69, samples.csv_bytes(samples.GOOD[:1]), demo["siao.69"])
    assert previous.state == ListState.DRAFT

    def boom(ml):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workflow, "cross_departement_warnings", boom)
    ml = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    assert ml.state == ListState.FAILED and "rien n’a été enregistré" in ml.report["file_errors"][0]
    assert ListRow.objects.filter(monthly_list=ml).count() == 0
    assert MonthlyList.objects.get(pk=previous.pk).state == ListState.DRAFT  # old draft kept
    assert private_storage().listdir(workflow.UPLOADS_DIR) == ([], [])  # uploaded file removed


def test_new_upload_replaces_draft(demo, dep69):
    first = upload(dep69, samples.csv_bytes(samples.GOOD[:1]), demo["siao.69"])
    second = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    assert not MonthlyList.objects.filter(pk=first.pk).exists()
    assert ListRow.objects.filter(monthly_list_id=first.pk).count() == 0
    assert second.state == ListState.DRAFT


def test_agdref_only_when_switched_on(demo, dep69):
    header = samples.HEADER_FR + ["N° AGDREF", "Nationalité"]
    rows = [samples.GOOD[0] + ["7501234567", "Afghane"]]
    ml = upload(dep69, samples.csv_bytes(rows, header), demo["siao.69"])
    row = ml.rows.get()
    assert row.agdref == "" and row.nationality == "" and "agdref" not in row.raw
    ps = PlatformSettings.load()
    ps.collect_agdref_nationality = True
    ps.save()
    ml = upload(dep69, samples.csv_bytes(rows, header), demo["siao.69"])
    row = ml.rows.get()
    assert row.agdref == "7501234567" and row.nationality == "Afghane"


def test_same_person_in_other_departement_is_for_ofii_only(demo, dep69):
    ml69 = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    ml75 = upload(Departement.objects.get(code="75"), samples.csv_bytes(samples.GOOD[:1]), demo["siao.75"])
    assert ml75.warning_count == 0  # not a SIAO-visible warning
    row75 = ml75.rows.get()
    assert row75.warnings == [] and "(69)" in row75.ofii_warnings[0]["message"]
    row69 = ml69.rows.get(line_number=2)
    assert "(75)" in row69.ofii_warnings[0]["message"]


def test_movement_and_ada_flag_over_three_months(demo, dep69):
    user = demo["siao.69"]
    da = ["KABORE", "Issa", "01/01/1990", "M", "DA", "1 rue A, 69001 Lyon", "20/09/2026"]
    ref = ["SOW", "Aminata", "02/02/1992", "F", "DA", "1 rue A, 69001 Lyon", "05/09/2026"]
    facts = {}
    for period, rows in [("2026-09", [da, ref]), ("2026-10", [da, [*ref[:4], "réfugiée", *ref[5:]]]),
                         ("2026-11", [da])]:
        ml = upload(dep69, samples.csv_bytes(rows), user, period=period)
        assert ml.error_count == 0, errors_of(ml)
        workflow.validate_list(ml, user)
        facts[period] = {r.last_name: r for r in ml.rows.all()}
        facts[period + "-report"] = MonthlyList.objects.get(pk=ml.pk).report
    sep, oct_, nov = facts["2026-09"], facts["2026-10"], facts["2026-11"]
    # September: entered on 20/09, not yet more than one month at 30/09.
    assert sep["KABORE"].movement == Movement.NEW and not sep["KABORE"].ada_flag and sep["KABORE"].continuous_months == 1
    # October: 20/09 + 1 month = 20/10 < 31/10: flagged.
    assert oct_["KABORE"].movement == Movement.PRESENT and oct_["KABORE"].ada_flag and oct_["KABORE"].continuous_months == 2
    assert oct_["SOW"].movement == Movement.STATUS_CHANGED and not oct_["SOW"].ada_flag  # BPI: no ADA
    assert nov["KABORE"].ada_flag and nov["KABORE"].continuous_months == 3
    assert facts["2026-11-report"]["left_count"] == 1


def test_versioning_correction_supersedes(demo, dep69):
    user = demo["siao.69"]
    v1 = upload(dep69, samples.csv_bytes(samples.GOOD), user)
    workflow.validate_list(v1, user)
    v2 = upload(dep69, samples.csv_bytes(samples.GOOD[:2]), user)
    assert v2.version == 2 and v2.state == ListState.DRAFT
    assert MonthlyList.objects.get(pk=v1.pk).state == ListState.VALIDATED  # until v2 is validated
    workflow.validate_list(v2, user)
    assert MonthlyList.objects.get(pk=v1.pk).state == ListState.SUPERSEDED
    assert MonthlyList.objects.get(pk=v2.pk).state == ListState.VALIDATED
    v3 = workflow.start_correction(MonthlyList.objects.get(pk=v2.pk), user=user, reason="Date d’entrée rectifiée")
    assert v3.version == 3 and v3.rows.count() == 2
    workflow.validate_list(v3, user)
    states = dict(MonthlyList.objects.filter(departement=dep69, period=PERIOD).values_list("version", "state"))
    assert states == {1: "superseded", 2: "superseded", 3: "validated"}


def test_late_flag_and_signal(demo, dep69, django_capture_on_commit_callbacks):
    from exchanges.signals import list_validated

    received = []

    def receiver(sender, monthly_list, **kwargs):
        received.append(monthly_list.pk)

    list_validated.connect(receiver)
    try:
        ml = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
        with django_capture_on_commit_callbacks(execute=True):
            workflow.validate_list(ml, demo["siao.69"])
    finally:
        list_validated.disconnect(receiver)
    ml.refresh_from_db()
    assert ml.is_late and ml.validated_by == demo["siao.69"]  # validated after 10/11
    assert received == [ml.pk]


def test_only_siao_agent_of_the_departement_validates(demo, dep69):
    ml = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    for name in ("siao.75", "dt.lyon", "prefecture.69", "siege", "admin"):
        with pytest.raises(workflow.WorkflowError):
            workflow.validate_list(ml, demo[name])
    assert MonthlyList.objects.get(pk=ml.pk).state == ListState.DRAFT
    workflow.validate_list(ml, demo["siao-dna.69"])
    assert MonthlyList.objects.get(pk=ml.pk).state == ListState.VALIDATED


def test_row_fix_clears_error(demo, dep69):
    ml = upload(dep69, samples.csv_bytes(samples.GOOD + samples.BAD[:1]), demo["siao.69"])
    row = ml.rows.get(line_number=5)
    values = dict(row.raw, birth_date="28/02/1990")
    workflow.update_row(row, values, user=demo["siao.69"])
    ml.refresh_from_db()
    assert ml.error_count == 0
    assert ml.rows.get(line_number=5).birth_date == datetime.date(1990, 2, 28)
    workflow.validate_list(ml, demo["siao.69"])


def test_read_table_ignores_blank_trailing_columns():
    data = "Nom;Prénom;;\r\nA;B;;\r\n;;;\r\n".encode()
    table = read_table(data)
    assert table.header == ["Nom", "Prénom"] and table.rows == [(2, ["A", "B"])]


def test_excel_unicode_text_utf16_tab(demo, dep69):
    text = "\r\n".join("\t".join(r) for r in [samples.HEADER_FR] + samples.GOOD) + "\r\n"
    ml = upload(dep69, text.encode("utf-16"), demo["siao.69"], name="liste.txt")
    assert ml.state == ListState.DRAFT, ml.report
    assert ml.report["delimiter"] == "\t" and ml.row_count == 3 and ml.error_count == 0


def test_control_characters_in_date_and_sex_cells_of_a_utf16_file(demo, dep69):
    """A NUL after a date (UTF-16 files are not sniffed for NULs) once made the date refused with
    the NUL in its message, which PostgreSQL cannot store: the whole list failed. A cell of
    control characters alone was reported missing twice."""
    rows = [list(r) for r in samples.GOOD]
    rows[0][2] = "03/02/1990\x00"
    rows[1][3] = "\x07"
    text = "\r\n".join("\t".join(r) for r in [samples.HEADER_FR] + rows) + "\r\n"
    ml = upload(dep69, text.encode("utf-16"), demo["siao.69"], name="liste.txt")
    assert ml.state == ListState.DRAFT, ml.report
    assert ml.rows.get(line_number=2).birth_date == datetime.date(1990, 2, 3)
    assert errors_of(ml) == {(3, "Sexe", "valeur manquante")}


def test_latest_upload_wins_over_an_older_one_still_processing(demo, dep69):
    stuck = workflow.receive_upload(dep69, PERIOD, samples.csv_bytes(samples.GOOD[:1]), name="a.csv",
                                    user=demo["siao.69"], run=False)
    latest = upload(dep69, samples.csv_bytes(samples.GOOD), demo["siao.69"])
    assert latest.state == ListState.DRAFT and not MonthlyList.objects.filter(pk=stuck.pk).exists()
    assert workflow.process_list(stuck.pk) is None  # its task, coming late, does nothing

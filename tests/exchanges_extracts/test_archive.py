"""The archive itself: AES-256 (AE-2), opened with pyzipper and with 7-Zip, the right password
opens it and a wrong one does not, the XLSX and the CSV hold exactly the validated rows."""

import datetime
import hashlib
import io
import re

import pytest
import pyzipper
from python_calamine import CalamineWorkbook

from exchanges.extracts import passwords
from exchanges.extracts.services import build_for_list
from exchanges.models import Extract, ListRow, ListState, Movement
from referentiel.models import PlatformSettings
from tests.exchanges_extracts.helpers import aes_extra, csv_rows, read_members, run_7z, slt_entries, xlsx_rows
from siao_ofii.privatefiles.storage import private_storage
from exchanges.extracts.archive import scratch_dir
from tests.factories import make_list
from tests.helpers import archive_file, stored_bytes

HEADERS = ["Nom", "Prénom", "Date de naissance", "Sexe", "Statut (DA / BPI)", "Adresse de l’hébergement",
           "Date d’entrée dans l’hébergement", "Nouvelle arrivée ce mois",
           "Mois continus en hébergement généraliste", "Montant additionnel ADA non dû"]


@pytest.fixture
def built(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=5)
    ListRow.objects.filter(monthly_list=ml, line_number=2).update(
        last_name="=HYPERLINK(\"http://evil.example\",\"x\")", first_name="+33612345678",
        shelter_address="@SUM(A1:A2)", movement=Movement.NEW, continuous_months=3, ada_flag=True)
    ListRow.objects.filter(monthly_list=ml, line_number=3).update(first_name="-Marie")
    extract, created = build_for_list(ml.pk)
    assert created
    return ml, extract


def test_name_location_and_hash(built):
    ml, extract = built
    assert extract.file_name == "SIAO_069_2026-11_v1.zip"
    assert extract.file_path == "extracts/2026-11/SIAO_069_2026-11_v1.zip"
    data = stored_bytes(extract.file_path)
    assert extract.sha256 == hashlib.sha256(data).hexdigest()
    assert extract.size == len(data) == private_storage().size(extract.file_path)
    # Nothing else published beside it, nothing left in this node's scratch folder.
    assert private_storage().listdir("extracts/2026-11") == ([], ["SIAO_069_2026-11_v1.zip"])
    assert list(scratch_dir().iterdir()) == []


def test_password_strength_and_storage(built):
    _, extract = built
    password = extract.reveal_password()
    assert re.fullmatch(r"([A-HJ-NP-Za-km-z2-9]{4}-){4}[A-HJ-NP-Za-km-z2-9]{4}", password)
    assert not set(password) & set("0O1lIio")
    assert passwords.ENTROPY_BITS >= 100
    assert password not in extract.password_encrypted
    assert len({passwords.generate_password() for _ in range(200)}) == 200


def test_pyzipper_aes256_ae2_members(built):
    _, extract = built
    with pyzipper.AESZipFile(archive_file(extract)) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {"SIAO_069_2026-11_v1.xlsx", "SIAO_069_2026-11_v1.csv"}
    for name, info in infos.items():
        assert info.flag_bits & 0x1, "membre non chiffré"
        version, vendor, strength, method = aes_extra(info)
        assert (version, vendor, strength) == (2, b"AE", 3), (name, version, vendor, strength)  # AE-2, AES-256
        assert info.CRC == 0, "AE-2 ne stocke pas le CRC du clair"
        expected = pyzipper.ZIP_STORED if name.endswith(".xlsx") else pyzipper.ZIP_DEFLATED
        assert method == expected


def test_wrong_password_fails_with_pyzipper(built):
    _, extract = built
    with pytest.raises(RuntimeError, match="Bad password"):
        read_members(archive_file(extract), "Wrong-Pass-Word-Xxxx-Yyyy")
    with pyzipper.AESZipFile(archive_file(extract)) as zf, pytest.raises(RuntimeError):
        zf.read("SIAO_069_2026-11_v1.csv")  # no password at all


def test_xlsx_holds_exactly_the_validated_rows(built):
    ml, extract = built
    members = read_members(archive_file(extract), extract.reveal_password())
    wb, ws = xlsx_rows(members["SIAO_069_2026-11_v1.xlsx"])
    assert wb.sheetnames == ["Liste"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:J6"
    expected = list(ListRow.objects.filter(monthly_list=ml).order_by("line_number"))
    assert len(rows) - 1 == len(expected) == 5
    for row, lr in zip(rows[1:], expected):
        assert row[0] == lr.last_name and row[1] == lr.first_name
        assert row[2] == datetime.datetime.combine(lr.birth_date, datetime.time())  # a real date cell
        assert row[3] == lr.sex
        assert row[4] == ("DA" if lr.status == "DA" else "BPI")
        assert row[5] == lr.shelter_address
        assert row[6] == datetime.datetime(2026, 10, 1)
    assert rows[1][7:] == ("Oui", 3, "Oui")
    assert ws["C2"].is_date and ws["C2"].number_format == "DD/MM/YYYY"


def test_formula_like_cells_are_text(built):
    _, extract = built
    members = read_members(archive_file(extract), extract.reveal_password())
    _, ws = xlsx_rows(members["SIAO_069_2026-11_v1.xlsx"])
    for ref, value in [("A2", "=HYPERLINK(\"http://evil.example\",\"x\")"), ("B2", "+33612345678"),
                       ("F2", "@SUM(A1:A2)"), ("B3", "-Marie")]:
        cell = ws[ref]
        assert cell.data_type == "s", (ref, cell.data_type)
        assert cell.value == value
    assert b"<f>" not in _sheet_xml(members["SIAO_069_2026-11_v1.xlsx"])
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(members["SIAO_069_2026-11_v1.xlsx"])).get_sheet_by_name(
        "Liste").to_python()
    assert calamine[1][:2] == ["=HYPERLINK(\"http://evil.example\",\"x\")", "+33612345678"]
    assert calamine[1][5] == "@SUM(A1:A2)" and calamine[2][1] == "-Marie"
    assert calamine[1][2] == datetime.date(1990, 1, 1)  # a real date for calamine too
    rows = csv_rows(members["SIAO_069_2026-11_v1.csv"])
    assert rows[1][0] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[1][1] == "'+33612345678"
    assert rows[1][5] == "'@SUM(A1:A2)"
    assert rows[2][1] == "'-Marie"


def _sheet_xml(xlsx_bytes):
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx_bytes)) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_csv_same_rows_bom_semicolon_french_dates(built):
    ml, extract = built
    members = read_members(archive_file(extract), extract.reveal_password())
    rows = csv_rows(members["SIAO_069_2026-11_v1.csv"])
    assert rows[0] == HEADERS
    assert len(rows) == 6
    assert rows[3][:7] == ["NOM2", "Prénom2", "03/01/1990", "M", "BPI", "3 rue de la Paix, 69001 Lyon", "01/10/2026"]


def test_agdref_and_nationality_only_when_switched_on(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)
    ListRow.objects.filter(monthly_list=ml).update(agdref="7512345678", nationality="Afghane")
    extract, _ = build_for_list(ml.pk)
    members = read_members(archive_file(extract), extract.reveal_password())
    assert b"7512345678" not in members["SIAO_069_2026-11_v1.csv"]
    assert "AGDREF" not in members["SIAO_069_2026-11_v1.csv"].decode("utf-8-sig")

    settings_row = PlatformSettings.load()
    settings_row.collect_agdref_nationality = True
    settings_row.save()
    ml2 = make_list("69", "2026-12", uploaded_by=demo["siao.69"], rows=2)
    ListRow.objects.filter(monthly_list=ml2).update(agdref="7512345678", nationality="Afghane")
    extract2, _ = build_for_list(ml2.pk)
    assert extract2.with_agdref_nationality
    rows = csv_rows(read_members(archive_file(extract2), extract2.reveal_password())["SIAO_069_2026-12_v1.csv"])
    assert rows[0][7:9] == ["Numéro AGDREF", "Nationalité"]
    assert rows[1][7:9] == ["7512345678", "Afghane"]


def test_7zip_lists_tests_and_extracts(built, tmp_path):
    _, extract = built
    password = extract.reveal_password()
    entries = {e["Path"]: e for e in slt_entries(archive_file(extract), password)}
    assert entries["SIAO_069_2026-11_v1.xlsx"]["Method"] == "AES-256 Store"
    assert entries["SIAO_069_2026-11_v1.csv"]["Method"] == "AES-256 Deflate"
    assert entries["SIAO_069_2026-11_v1.csv"]["Encrypted"] == "+"
    ok = run_7z("t", f"-p{password}", str(archive_file(extract)))
    assert ok.returncode == 0 and "Everything is Ok" in ok.stdout, ok.stdout + ok.stderr
    bad = run_7z("t", "-pWrong-Pass-Word-Xxxx-Yyyy", str(archive_file(extract)))
    assert bad.returncode != 0 and "Wrong password" in (bad.stdout + bad.stderr)
    out = tmp_path / "out"
    done = run_7z("x", f"-p{password}", f"-o{out}", str(archive_file(extract)))
    assert done.returncode == 0, done.stdout + done.stderr
    members = read_members(archive_file(extract), password)
    for name, data in members.items():
        assert (out / name).read_bytes() == data
    _, ws = xlsx_rows((out / "SIAO_069_2026-11_v1.xlsx").read_bytes())
    assert ws.max_row == 6


def test_build_is_idempotent_and_skips_unvalidated(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)
    first, created = build_for_list(ml.pk)
    again, created_again = build_for_list(ml.pk)
    assert created and not created_again and again.pk == first.pk
    assert Extract.objects.count() == 1
    draft = make_list("75", "2026-11", uploaded_by=demo["siao.75"], rows=2, state=ListState.DRAFT)
    assert build_for_list(draft.pk) == (None, False)


def test_new_version_makes_new_archive_and_change_counts(demo):
    prev = make_list("69", "2026-10", uploaded_by=demo["siao.69"], rows=4)
    v1 = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=3, start=2)
    ListRow.objects.filter(monthly_list=v1, identity_key="key-4").update(movement=Movement.NEW)
    e1, _ = build_for_list(v1.pk)
    assert (e1.new_count, e1.left_count) == (1, 2)  # key-0 and key-1 left
    v1.state = ListState.SUPERSEDED
    v1.save()
    v2 = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=4, version=2)
    e2, created = build_for_list(v2.pk)
    assert created and e2.version == 2 and e2.file_name == "SIAO_069_2026-11_v2.zip"
    assert private_storage().exists(e1.file_path) and private_storage().exists(e2.file_path)
    assert e1.reveal_password() != e2.reveal_password()


def test_password_key_from_environment_or_dev_key_in_debug(settings):
    from django.core.exceptions import ImproperlyConfigured

    token = passwords.encrypt_password("Abcd-Efgh-Jkmn-Pqrs-Tuvw")
    assert passwords.decrypt_password(token) == "Abcd-Efgh-Jkmn-Pqrs-Tuvw"
    settings.ARCHIVE_ENCRYPTION_KEY = ""
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        passwords.encrypt_password("x")
    settings.DEBUG = True
    dev = passwords.encrypt_password("Abcd-Efgh-Jkmn-Pqrs-Tuvw")
    assert passwords.decrypt_password(dev) == "Abcd-Efgh-Jkmn-Pqrs-Tuvw"
    settings.ARCHIVE_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured):
        passwords.encrypt_password("x")


def test_member_names_never_carry_the_uploaded_file_name(demo):
    """ZIP member names are not encrypted: a file named after a person must not leak into the
    archive (its name, its member names or anywhere in its bytes)."""
    from exchanges.services import workflow
    from referentiel.models import Departement
    from tests.exchanges import samples

    dep = Departement.objects.get(code="69")
    data = samples.csv_bytes(samples.GOOD)
    ml = workflow.receive_upload(dep, "2026-11", data, name="/home/agent/liste_ZOUBIRI_Karima_1990.csv",
                                 user=demo["siao.69"], run=False)
    assert ml.source_name == "liste_ZOUBIRI_Karima_1990.csv"
    workflow.process_list(ml.pk)
    ml = workflow.validate_list(ml, demo["siao.69"])
    extract, created = build_for_list(ml.pk)
    assert created and extract.file_name == "SIAO_069_2026-11_v1.zip"
    with pyzipper.AESZipFile(archive_file(extract)) as zf:
        assert sorted(zf.namelist()) == ["SIAO_069_2026-11_v1.csv", "SIAO_069_2026-11_v1.xlsx"]
    raw = stored_bytes(extract.file_path)
    for fragment in (b"ZOUBIRI", b"Karima", b"liste_", b"DUPONT"):
        assert fragment not in raw


def test_the_scratch_folder_is_private_to_the_service_account(settings, tmp_path):
    """Archives are built there in clear before encryption: owner only (0700)."""
    import os
    import stat

    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    path = scratch_dir()
    assert path == tmp_path / "private" / "tmp"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


@pytest.mark.parametrize("backend", ["DatabaseStorage", "PrivateFileSystemStorage"])
def test_a_file_left_under_the_archive_name_is_replaced_not_sidestepped(demo, settings, backend):
    """A build that died between publishing and committing left a file under the archive's name:
    the next build replaces it under the same name (never a suffixed name beside it)."""
    from django.core.files.base import ContentFile

    settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": f"siao_ofii.privatefiles.storage.{backend}"}}
    name = "extracts/2026-11/SIAO_069_2026-11_v1.zip"
    assert private_storage().save(name, ContentFile(b"half-published")) == name
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)
    extract, created = build_for_list(ml.pk)
    assert created and extract.file_path == name
    assert private_storage().listdir("extracts/2026-11") == ([], ["SIAO_069_2026-11_v1.zip"])
    data = stored_bytes(name)
    assert data != b"half-published" and hashlib.sha256(data).hexdigest() == extract.sha256
    assert len(read_members(archive_file(extract), extract.reveal_password())) == 2

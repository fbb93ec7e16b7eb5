"""Upload and processing of the return file: only the II.B.2 columns, row-level French
messages, all or nothing, the import_return command."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from exchanges.models import ReturnArchive, ReturnFile, ReturnRow, ReturnState
from exchanges.services.workflow import UPLOADS_DIR
from siao_ofii.privatefiles.storage import private_storage
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges_returns.helpers import FULL_ROW, HEADERS, SAMPLE, minimal, to_csv, upload_and_process


@pytest.mark.parametrize("extra", [["Adresse de la personne"], ["Téléphone", "Adresse"], ["Numéro AGDREF"],
                                   ["Montant ADA"]])
def test_extra_column_refuses_the_whole_file_and_names_it(demo, extra):
    data = to_csv(HEADERS + extra, [FULL_ROW + [f"valeur {i}" for i in range(len(extra))]])
    rf, archive = upload_and_process("69", "2026-11", data, demo["dt.lyon"])
    assert rf.state == ReturnState.FAILED and archive is None
    message = " ".join(rf.report["file_errors"])
    for name in extra:
        assert f"« {name} »" in message
    assert "R744-48" in message and "rien n’a été enregistré" in message
    assert rf.report["extra_columns"] == extra
    assert ReturnRow.objects.count() == 0 and ReturnArchive.objects.count() == 0
    assert rf.row_count == 0
    assert not private_storage().exists(UPLOADS_DIR) or private_storage().listdir(UPLOADS_DIR)[1] == [], \
        "le fichier déposé doit être supprimé"
    assert "valeur" not in json.dumps(rf.report)  # no cell content kept


def test_sample_fixture_is_accepted(demo):
    rf, archive = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    assert rf.state == ReturnState.STORED, rf.report
    assert rf.row_count == 4 and rf.error_count == 0
    assert archive.row_count == 4 and archive.file_name == "DNA_069_2026-11_v1.zip"
    row = ReturnRow.objects.get(return_file=rf, line_number=3)
    assert (row.birth_name, row.usage_name, row.first_name) == ("MARTIN-DEMO", "LEBLANC-DEMO", "Zoé")
    assert row.non_presentation_on == datetime.date(2026, 10, 20)
    assert AuditEvent.objects.filter(action=AuditAction.ARCHIVE_BUILT, object_id=str(archive.pk)).exists()


def test_row_errors_refuse_the_file_with_row_and_column(demo):
    data = minimal([
        ["DUPONT-FICTIF", "Jean", "31/02/1990", "12/10/2026"],
        ["", "Awa", "01/01/1990", "12/10/2026"],
        ["KONE-FICTIF", "Ali", "01/01/1985", ""],
        ["BON-FICTIF", "Léa", "02/02/1992", "13/10/2026"],
    ])
    rf, archive = upload_and_process("69", "2026-11", data, demo["dt.lyon"])
    assert rf.state == ReturnState.FAILED and archive is None
    issues = {(i["row"], i["column"]): i["message"] for i in rf.report["issues"] if i["level"] == "error"}
    assert issues[(2, "Date de naissance")] == "date impossible « 31/02/1990 »"
    assert issues[(3, "Nom de naissance")] == "valeur manquante"
    assert "ne relève pas du flux retour" in issues[(4, "Date de refus")]
    assert not any(r == 5 for r, _ in issues)
    assert rf.error_count == 3
    assert "3 ligne(s) en erreur" in rf.report["file_errors"][0]
    assert ReturnRow.objects.count() == 0


def test_missing_mandatory_column(demo):
    data = to_csv(["Nom de naissance", "Prénom", "Date de refus"], [["X-FICTIF", "Y", "12/10/2026"]])
    rf, _ = upload_and_process("69", "2026-11", data, demo["dt.lyon"])
    assert rf.state == ReturnState.FAILED
    assert rf.report["file_errors"] == ["Colonnes obligatoires absentes : Date de naissance. Rien n’a été enregistré."]


def test_xlsx_with_excel_dates_synonyms_and_windows_1252_csv(demo):
    wb = Workbook()
    ws = wb.active
    ws.append(["NOM", "Prenom", "DDN", "Date refus", "Nationalite"])
    ws.append(["ÉTIENNE-FICTIF", "Zoé", datetime.date(1991, 5, 6), 46297, "malienne"])  # 46297 = 2026-10-02
    buf = io.BytesIO()
    wb.save(buf)
    rf, _ = upload_and_process("69", "2026-11", buf.getvalue(), demo["dt.lyon"], name="retour.xlsx")
    assert rf.state == ReturnState.STORED, rf.report
    row = ReturnRow.objects.get(return_file=rf)
    assert (row.birth_name, row.birth_date, row.refused_on) == ("ÉTIENNE-FICTIF", datetime.date(1991, 5, 6),
                                                                datetime.date(2026, 10, 2))
    data = to_csv(["Nom de naissance", "Prénom", "Date de naissance", "Date de refus"],
                  [["ÉLOÏSE-FICTIF", "Anaïs", "1/2/90", "2026-10-12"]], encoding="cp1252")
    rf2, _ = upload_and_process("75", "2026-11", data, demo["dt.paris"], archive=False)
    assert rf2.state == ReturnState.STORED and rf2.report["encoding"] == "cp1252"
    row = ReturnRow.objects.get(return_file=rf2)
    assert (row.birth_name, row.first_name, row.birth_date) == ("ÉLOÏSE-FICTIF", "Anaïs", datetime.date(1990, 2, 1))


def test_new_upload_supersedes_and_deletes_previous_rows(demo):
    first, a1 = upload_and_process("69", "2026-11", minimal([["A-FICTIF", "B", "01/01/1990", "12/10/2026"]]),
                                   demo["dt.lyon"])
    second, a2 = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["siege"])
    first.refresh_from_db()
    assert first.state == ReturnState.SUPERSEDED and second.version == 2
    assert not ReturnRow.objects.filter(return_file=first).exists()
    assert ReturnRow.objects.filter(return_file=second).count() == 4
    assert a2.file_name == "DNA_069_2026-11_v2.zip" and private_storage().exists(a1.file_path)


def test_import_return_command_json(demo, tmp_path, capsys):
    bad = tmp_path / "retour_bad.csv"
    bad.write_bytes(to_csv(HEADERS + ["Téléphone"], [FULL_ROW + ["0600000000"]]))
    with pytest.raises(SystemExit) as exc:
        call_command("import_return", str(bad), "--departement", "69", "--period", "2026-11", "--json")
    assert exc.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "refused" and out["extra_columns"] == ["Téléphone"]
    assert "« Téléphone »" in out["file_errors"][0] and "0600000000" not in json.dumps(out)
    assert ReturnRow.objects.count() == 0

    call_command("import_return", str(SAMPLE), "--departement", "69", "--period", "2026-11", "--json",
                 "--agent", "dt.lyon@demo.test")
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "stored" and out["rows_read"] == 4
    assert out["archive"]["file"] == "DNA_069_2026-11_v1.zip" and len(out["archive"]["sha256"]) == 64
    assert "password" not in json.dumps(out).lower()
    archive = ReturnArchive.objects.get()
    assert archive.reveal_password() not in json.dumps(out)


def test_import_return_refuses_an_agent_outside_the_perimeter(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="n’est pas habilité"):
        call_command("import_return", str(SAMPLE), "--departement", "69", "--period", "2026-11",
                     "--agent", "dt.paris@demo.test")
    assert not ReturnFile.objects.exists()


def test_upload_through_the_site_with_progress(client, demo, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.urls import reverse

    from tests.helpers import login

    login(client, demo["dt.lyon"])
    url = reverse("exchanges:return_upload", args=["69"])
    page = client.get(url)
    assert page.status_code == 200 and "Typologie de l’hébergement proposé" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        with SAMPLE.open("rb") as fh:
            response = client.post(url, {"period": "2026-11", "file": fh})
    rf = ReturnFile.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchanges:return_processing", args=[rf.pk])
    status = client.get(reverse("exchanges:return_status", args=[rf.pk])).json()
    assert status["done"] and status["progress"] == 100 and status["state"] == "stored"
    detail = client.get(reverse("exchanges:return_detail", args=[rf.pk])).content.decode()
    assert "Fichier transmis" in detail and "DNA_069_2026-11_v1.zip" in detail
    # The e-mail goes to the habilitated SIAO agent only, without the password.
    archive = ReturnArchive.objects.get()
    assert [m.to for m in mail.outbox] == [["siao-dna.69@demo.test"]]
    assert archive.reveal_password() not in mail.outbox[0].body
    assert "habilité(e) par le préfet" in mail.outbox[0].body
    # The dashboards say the file of the month was sent.
    board = client.get(reverse("exchanges:return_dashboard")).content.decode()
    assert "Transmis" in board.split('id="return-dep-69"')[1].split("</tr>")[0]
    assert "Non transmis" in board.split('id="return-dep-42"')[1].split("</tr>")[0]
    extracts = client.get(reverse("exchanges:extract_dashboard")).content.decode()
    row69 = extracts.split('id="dep-69"')[1].split("</tr>")[0]
    assert '<td class="return-flow">Transmis</td>' in row69


def test_upload_of_a_file_with_an_extra_column_through_the_site(client, demo, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from tests.helpers import login

    login(client, demo["siege"])
    data = to_csv(HEADERS + ["Numéro de téléphone"], [FULL_ROW + ["0611223344"]])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchanges:return_upload", args=["75"]),
                    {"period": "2026-11", "file": io.BytesIO(data)}, format="multipart")
    rf = ReturnFile.objects.get()
    page = client.get(reverse("exchanges:return_detail", args=[rf.pk])).content.decode()
    assert "« Numéro de téléphone »" in page and "R744-48" in page
    assert ReturnRow.objects.count() == 0


def test_remind_ofii_for_departements_without_return_file(demo):
    from django.core import mail

    from exchanges.returns.notifications import remind_ofii

    upload_and_process("69", "2026-10", SAMPLE.read_bytes(), demo["dt.lyon"], archive=False)
    remind_ofii()  # the previous month: October 2026
    by_to = {m.to[0]: m.body for m in mail.outbox}
    assert "dt.lyon@demo.test" in by_to and "dt.paris@demo.test" in by_to
    assert "- 42 " in by_to["dt.lyon@demo.test"] and "- 69 " not in by_to["dt.lyon@demo.test"]
    assert "siao-dna.69@demo.test" not in by_to


def test_retention_purges_return_archives_and_rows(demo):
    from exchanges.extracts.services import purge_expired

    old, old_archive = upload_and_process("69", "2024-10", SAMPLE.read_bytes(), demo["dt.lyon"])
    kept, kept_archive = upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["dt.lyon"])
    result = purge_expired()
    assert (result["before_period"], result["return_archives"], result["return_rows"]) == ("2024-11", 1, 4)
    old_archive.refresh_from_db()
    assert old_archive.purged_at and not old_archive.password_encrypted and not old_archive.file_path
    assert not private_storage().exists("returns/2024-10/DNA_069_2024-10_v1.zip")
    assert private_storage().exists(kept_archive.file_path) and ReturnRow.objects.filter(return_file=kept).count() == 4

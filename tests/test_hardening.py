"""Hardening found by the security review: upload limits, stray bytes, audit of replaced drafts, cross-site downloads."""

import io

import pytest
from django.urls import reverse

from exchanges.models import MonthlyList
from tests.helpers import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("account", "route"), [("siao.69", "exchanges:upload"), ("dt.lyon", "exchanges:return_upload")])
def test_oversized_upload_is_refused_while_reading(client, demo, settings, account, route):
    """Both upload pages (monthly list, return flow): the body is cut off at the limit, the
    page names the limit, the chosen month is kept, nothing is stored."""
    from exchanges.models.returns import ReturnFile

    settings.UPLOAD_MAX_BYTES = 50_000
    login(client, demo[account])
    big = io.BytesIO(b"Nom;Prenom\n" + b"DUPONT;Marie\n" * 20_000)
    big.name = "liste.csv"
    url = reverse(route, kwargs={"code": "69"})
    period = client.get(url).context["form"].fields["period"].choices[-1][0]
    response = client.post(url, {"period": period, "file": big})
    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale (0 Mo) : il n’a pas été enregistré." in response.content.decode()
    assert response.context["form"]["period"].value() == period
    assert not MonthlyList.objects.exists() and not ReturnFile.objects.exists()


def test_a_file_over_the_limit_is_refused_by_the_form_without_the_upload_handler(client, demo, settings):
    """The form's own check, for a deployment that replaced FILE_UPLOAD_HANDLERS."""
    settings.FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    login(client, demo["siao.69"])
    big = io.BytesIO(b"Nom;Prenom\n" + b"DUPONT;Marie\n" * 200_000)
    big.name = "liste.csv"
    url = reverse("exchanges:upload", kwargs={"code": "69"})
    response = client.post(url, {"period": "2026-11", "file": big})
    assert response.status_code == 200
    assert "Le fichier dépasse la taille maximale (2 Mo) : il n’a pas été enregistré." in response.content.decode()
    assert not MonthlyList.objects.exists()


def test_upload_temporary_files_stay_in_private_storage(client, demo, settings, tmp_path):
    """A large upload is spooled to FILE_UPLOAD_TEMP_DIR (under PRIVATE_STORAGE_ROOT by default), not /tmp."""
    import siao_ofii.settings as project_settings

    assert project_settings.FILE_UPLOAD_TEMP_DIR == str(project_settings.PRIVATE_STORAGE_ROOT) + "/tmp"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    seen = []
    from django.core.files.uploadedfile import TemporaryUploadedFile

    original = TemporaryUploadedFile.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.temporary_file_path())

    TemporaryUploadedFile.__init__ = spy
    try:
        login(client, demo["siao.69"])
        f = io.BytesIO(b"Nom;Prenom\n" + b"DUPONT;Marie\n" * 200)
        f.name = "liste.csv"
        url = reverse("exchanges:upload", kwargs={"code": "69"})
        period = client.get(url).context["form"].fields["period"].choices[0][0]
        client.post(url, {"period": period, "file": f})
    finally:
        TemporaryUploadedFile.__init__ = original
    assert seen and all(p.startswith(str(tmp_path / "spool")) for p in seen)


def test_stray_nul_bytes_do_not_break_an_upload(demo):
    """A NUL byte deep in an export (after the 64 KB sniffing window) is dropped, not stored."""
    from exchanges.services import workflow
    from exchanges.services.parsing import clean_text
    from referentiel.models import Departement

    assert clean_text("DU\x00PONT\x07 Marie") == "DUPONT Marie"
    header = "Nom;Prénom;Date de naissance;Sexe;Statut;Adresse;Date d'entrée\n"
    filler = "".join(f"NOM{i};Prénom;01/01/1990;F;DA;{i} rue de la Paix 69001 Lyon;01/10/2026\n" for i in range(1500))
    data = (header + filler + "DU\x00PONT;Marie;03/02/1990;F;DA;1 rue X 69001 Lyon;01/10/2026\n").encode("utf-8")
    assert len(data) > 70_000
    ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11", data, name="nul.csv",
                                 user=demo["siao.69"], run=False)
    ml = workflow.process_list(ml.pk, progress=False)
    assert ml.rows.filter(last_name="DUPONT").exists()
    assert ml.row_count == 1501


def test_replacing_a_draft_is_audited(demo):
    from exchanges.services import workflow
    from referentiel.models import Departement
    from siao_ofii.audit.models import AuditAction, AuditEvent

    data = ("Nom;Prénom;Date de naissance;Sexe;Statut;Adresse;Date d'entrée\n"
            "DUPONT;Marie;03/02/1990;F;DA;1 rue X 69001 Lyon;01/10/2026\n").encode()
    dep = Departement.objects.get(code="69")
    first = workflow.process_list(workflow.receive_upload(dep, "2026-11", data, name="a.csv", user=demo["siao.69"],
                                                          run=False).pk, progress=False)
    second = workflow.process_list(workflow.receive_upload(dep, "2026-11", data, name="b.csv", user=demo["siao.69"],
                                                           run=False).pk, progress=False)
    assert not MonthlyList.objects.filter(pk=first.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.LIST_CORRECTED, object_id=str(second.pk))
    assert event.details["deleted_rows"] == 1 and "draft" in event.details["replaced_lists"]


def test_archive_download_refused_when_started_from_another_site(client, demo, matrix_context):
    from django.urls import reverse as r

    from siao_ofii.audit.models import AuditAction, AuditEvent

    login(client, demo["dt.lyon"])
    url = r("exchanges:extract_download", kwargs={"pk": matrix_context["extract_69"]})
    assert client.get(url, HTTP_SEC_FETCH_SITE="cross-site").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()
    assert client.get(url, HTTP_SEC_FETCH_SITE="same-origin").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, actor=demo["dt.lyon"]).count() == 1

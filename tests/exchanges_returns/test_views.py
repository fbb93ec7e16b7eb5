"""Access to the return flow: only a valid SIAO_DNA habilitation reads it (R744-48 2°), re-read at
every request; refusals are journaled; download and password reveal are audited."""

import datetime
import zoneinfo

import pyzipper
from django.urls import reverse

from exchanges.models import ReturnArchive
from referentiel.models import Agent, Departement, Role
from referentiel.services import approve_habilitation, grant_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges_returns.helpers import SAMPLE, upload_and_process
from tests.helpers import assert_constant_queries, login


def _archive(demo, code="69", period="2026-11"):
    user = demo["dt.lyon"] if code != "75" else demo["dt.paris"]
    _, archive = upload_and_process(code, period, SAMPLE.read_bytes(), user)
    return archive


def test_expired_siao_dna_habilitation_loses_access_at_the_next_request(client, demo, frozen):
    archive = _archive(demo)
    agent = Agent.objects.create_user("dna.temporaire@demo.test", "x-not-used-123")
    today = datetime.date(2026, 11, 20)
    hab = grant_habilitation(agent=agent, role=Role.SIAO_DNA, granted_by=demo["admin"], reason="arrêté préfectoral (test)",
                             departements=Departement.objects.filter(code="69"), valid_from=today, valid_until=today)
    approve_habilitation(hab, approved_by=demo["prefecture.69"])  # designated by the prefect (R744-48)
    frozen.move_to(datetime.datetime(2026, 11, 20, 23, 50, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))
    login(client, agent)
    inbox = reverse("exchanges:return_inbox")
    download = reverse("exchanges:return_download", args=[archive.pk])
    assert client.get(inbox).status_code == 200
    assert client.get(download).status_code == 200
    frozen.shift(datetime.timedelta(minutes=20))  # same open session, ten past midnight
    assert client.get(inbox).status_code == 403
    assert client.get(download).status_code == 403
    assert client.post(reverse("exchanges:return_password", args=[archive.pk])).status_code == 403
    assert AuditEvent.objects.filter(actor=agent, action=AuditAction.DOWNLOAD).count() == 1


def test_plain_siao_agent_is_refused_and_journaled(client, demo):
    archive = _archive(demo)
    login(client, demo["siao.69"])
    for url in (reverse("exchanges:return_inbox"), reverse("exchanges:return_download", args=[archive.pk]),
                reverse("exchanges:return_crosscheck", args=["69"])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("exchanges:return_password", args=[archive.pk])).status_code == 403
    denied = AuditEvent.objects.filter(actor=demo["siao.69"], action=AuditAction.PERIMETER_DENIED)
    assert denied.count() == 4
    assert {e.details["capability"] for e in denied} == {"read_reverse_flow"}


def test_other_departement_is_404_and_journaled(client, demo):
    archive75 = _archive(demo, "75")
    login(client, demo["siao-dna.69"])
    assert client.get(reverse("exchanges:return_download", args=[archive75.pk])).status_code == 404
    assert client.post(reverse("exchanges:return_password", args=[archive75.pk])).status_code == 404
    assert client.get(reverse("exchanges:return_crosscheck", args=["75"])).status_code == 404
    events = AuditEvent.objects.filter(actor=demo["siao-dna.69"], action=AuditAction.PERIMETER_DENIED)
    assert events.count() == 3 and {e.departement for e in events} == {"75"}
    client.logout()
    login(client, demo["dt.paris"])
    assert client.get(reverse("exchanges:return_upload", args=["69"])).status_code == 404
    assert AuditEvent.objects.filter(actor=demo["dt.paris"], action=AuditAction.PERIMETER_DENIED,
                                     departement="69").exists()


def test_siao_dna_home_inbox_download_and_reveal(client, demo, tmp_path):
    archive = _archive(demo)
    login(client, demo["siao-dna.69"])
    home = client.get("/").content.decode()
    assert "1 archive en attente" in home and "69 2026-11" in home
    inbox = client.get(reverse("exchanges:return_inbox")).content.decode()
    assert "1 archive à télécharger" in inbox and archive.reveal_password() not in inbox
    response = client.get(reverse("exchanges:return_download", args=[archive.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    saved = tmp_path / archive.file_name
    saved.write_bytes(b"".join(response.streaming_content))
    page = client.post(reverse("exchanges:return_password", args=[archive.pk]))
    password = archive.reveal_password()
    assert page.status_code == 200 and password in page.content.decode()
    assert "articles L.744-7 et R744-48 2°" in page.content.decode()
    with pyzipper.AESZipFile(saved) as zf:
        zf.setpassword(password.encode())
        assert sorted(zf.namelist()) == ["DNA_069_2026-11_v1.csv", "DNA_069_2026-11_v1.xlsx"]
    actions = list(AuditEvent.objects.filter(actor=demo["siao-dna.69"], object_type=ReturnArchive._meta.label)
                   .values_list("action", flat=True))
    assert sorted(actions) == [AuditAction.DOWNLOAD, AuditAction.PASSWORD_REVEAL]
    assert "Aucune archive en attente" in client.get("/").content.decode()
    assert client.get(reverse("exchanges:return_download", args=[archive.pk]),
                      headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_dashboard_constant_queries(client, demo):
    login(client, demo["siege"])
    codes = iter(["01", "07", "42", "75", "13"])

    def grow():
        code = next(codes)
        upload_and_process(code, "2026-11", SAMPLE.read_bytes(), demo["siege"])

    grow()
    url = reverse("exchanges:return_dashboard")
    assert_constant_queries(lambda: client.get(url), grow)
    inbox_client = client
    inbox_client.logout()
    login(inbox_client, demo["siao-dna.69"])
    periods = iter(["2026-10", "2026-09", "2026-08"])
    upload_and_process("69", "2026-11", SAMPLE.read_bytes(), demo["siege"])
    assert_constant_queries(lambda: inbox_client.get(reverse("exchanges:return_inbox")),
                            lambda: upload_and_process("69", next(periods), SAMPLE.read_bytes(), demo["siege"]))

"""More than one machine (issue 9, item 5): the web process (this test process, through the
test client) and a real Celery worker (subprocess) share only PostgreSQL and Redis; each has
its own PRIVATE_STORAGE_ROOT (tests/workers.py), like two machines with their own disks.

The whole journey must still work: upload → the worker processes the file → validate → the
worker builds the archive → the web process streams the archive → it opens with the revealed
password. The control test runs the same start with the local-disk storage and shows that the
worker then cannot read the upload: the journey test is the one that proves the sharing.
"""

import io
import re
import time

import pytest
import pyzipper
from django.test import Client
from django.urls import reverse

from exchanges.models import Extract, ListState, MonthlyList
from siao_ofii.privatefiles.models import StoredFile
from tests.exchanges import samples
from tests.helpers import login

pytestmark = pytest.mark.worker


def _wait(proc, log, what, condition, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"le worker s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        time.sleep(0.3)
    pytest.fail(f"{what} : délai dépassé.\n{log.read_text()[-4000:]}")


def _upload(client, data):
    f = io.BytesIO(data)
    f.name = "liste.xlsx"
    response = client.post(reverse("exchanges:upload", args=["69"]), {"period": "2026-11", "file": f})
    assert response.status_code == 302, response.content.decode()[:2000]
    return MonthlyList.objects.get(departement__code="69", period="2026-11")


def _processed(ml):
    return lambda: MonthlyList.objects.filter(pk=ml.pk).exclude(state=ListState.PROCESSING).first()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_journey_with_worker_on_another_private_root(celery_worker_on_redis, demo, settings):
    assert settings.PRIVATE_STORAGE == "database"  # the default with PostgreSQL
    proc, log = celery_worker_on_redis
    web_root = settings.PRIVATE_STORAGE_ROOT

    siao = login(Client(), demo["siao.69"], verified=False)
    source = samples.xlsx_bytes(samples.GOOD)
    ml = _upload(siao, source)  # autocommit: the processing task is on Redis at once
    stored = StoredFile.objects.get(name=f"uploads/{ml.source_path}")
    raw = b"".join(bytes(c) for c in stored.chunks.order_by("index").values_list("data", flat=True))
    assert source not in raw and b"DUPONT" not in raw  # encrypted at rest in the shared store

    ml = _wait(proc, log, "traitement du dépôt par le worker", _processed(ml))
    assert ml.state == ListState.DRAFT and ml.row_count == 3 and ml.error_count == 0, log.read_text()[-4000:]
    assert not StoredFile.objects.filter(name__startswith="uploads/").exists()  # deleted once processed

    response = siao.post(reverse("exchanges:validate", args=[ml.pk]))
    assert response.status_code == 302
    extract = _wait(proc, log, "archive produite par le worker", lambda: Extract.objects.filter(monthly_list=ml).first())
    assert "exchanges.extracts.build_extract" in log.read_text()

    dt = login(Client(), demo["dt.lyon"])
    page = dt.post(reverse("exchanges:extract_password", args=[extract.pk])).content.decode()
    password = re.search(r'id="archive-password">([^<]+)<', page).group(1)
    response = dt.get(reverse("exchanges:extract_download", args=[extract.pk]))
    assert response.status_code == 200 and int(response["Content-Length"]) == extract.size
    archive = b"".join(response.streaming_content)

    with pyzipper.AESZipFile(io.BytesIO(archive)) as zf:
        zf.setpassword(password.encode("ascii"))
        csv_text = zf.read("SIAO_069_2026-11_v1.csv").decode("utf-8-sig")
        assert zf.testzip() is None
    assert "DUPONT;Élodie" in csv_text and "N'DIAYE;Moussa" in csv_text
    # Nothing went through this process's private root: no upload, no archive on its disk.
    assert not list(web_root.rglob("*.zip")) and not (web_root / "uploads").exists()
    assert not (web_root.parent / "worker-private" / "extracts").exists()


@pytest.fixture
def local_disk_storage(settings):
    """Files on each machine's own disk (PRIVATE_STORAGE=filesystem), for the worker too."""
    settings.PRIVATE_STORAGE = "filesystem"
    settings.STORAGES = {**settings.STORAGES,
                         "private": {"BACKEND": "siao_ofii.privatefiles.storage.PrivateFileSystemStorage"}}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_control_local_disks_are_not_shared(local_disk_storage, celery_worker_on_redis, demo, settings):
    proc, log = celery_worker_on_redis
    siao = login(Client(), demo["siao.69"], verified=False)
    ml = _upload(siao, samples.xlsx_bytes(samples.GOOD))
    assert (settings.PRIVATE_STORAGE_ROOT / "uploads" / ml.source_path).is_file()  # on the web's disk
    ml = _wait(proc, log, "traitement du dépôt par le worker", _processed(ml))
    assert ml.state == ListState.FAILED
    assert ml.report["file_errors"] == ["Le fichier déposé n’est plus disponible : déposez-le à nouveau."]

"""A real Celery worker (subprocess, Redis, test database) processes an uploaded return file
and then builds its archive: the same two tasks the site queues."""

import time

import pytest

from siao_ofii.privatefiles.storage import private_storage
from exchanges.models import ReturnArchive, ReturnFile
from exchanges.returns import services
from referentiel.models import Departement
from tests.exchanges_returns.helpers import SAMPLE

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_processes_the_file_and_builds_the_archive(celery_worker_on_redis, demo):
    proc, log = celery_worker_on_redis
    rf = services.receive_upload(Departement.objects.get(code="69"), "2026-11", SAMPLE.read_bytes(),
                                 name="dna_69.csv", user=demo["dt.lyon"])
    archive = None
    for _ in range(180):  # up to 90 s (no wall-clock reading: the clock is frozen in this process)
        archive = ReturnArchive.objects.filter(return_file_id=rf.pk).first()
        if archive is not None:
            break
        if proc.poll() is not None:
            pytest.fail(f"le worker s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    worker_log = log.read_text()
    assert archive is not None, f"aucune archive produite par le worker :\n{worker_log[-4000:]}"
    assert "exchanges.returns.process_return_file" in worker_log and "exchanges.returns.build_return_archive" in worker_log
    rf = ReturnFile.objects.get(pk=rf.pk)
    assert (rf.state, rf.row_count, rf.progress, rf.source_path) == ("stored", 4, 100, "")
    assert archive.row_count == 4 and private_storage().exists(archive.file_path)
    assert archive.reveal_password() not in worker_log

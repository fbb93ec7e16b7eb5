"""A real Celery worker (subprocess) against Redis builds the archive after a validation.

The test process sends ``list_validated`` like the validation workflow does; the receiver
queues ``build_extract`` on Redis; the worker (tests/workers.py), pointed at the *test*
database, builds the archive.
"""

import hashlib
import time

import pytest

from exchanges.models import Extract, MonthlyList
from exchanges.signals import list_validated
from tests.factories import make_list
from tests.helpers import stored_bytes

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_builds_archive_after_validation(celery_worker_on_redis, demo):
    proc, log = celery_worker_on_redis
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=7)
    list_validated.send(sender=MonthlyList, monthly_list=ml)
    deadline = time.monotonic() + 90
    extract = None
    while time.monotonic() < deadline:
        extract = Extract.objects.filter(monthly_list=ml).first()
        if extract is not None:
            break
        if proc.poll() is not None:
            pytest.fail(f"le worker s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    # The Extract row is visible as soon as the build commits; the worker logs "succeeded" a
    # moment later (after queuing the e-mail task): wait for the line rather than race it.
    while time.monotonic() < deadline and "succeeded" not in log.read_text():
        time.sleep(0.2)
    worker_log = log.read_text()
    assert extract is not None, f"aucune archive produite par le worker :\n{worker_log[-4000:]}"
    assert "exchanges.extracts.build_extract" in worker_log and "succeeded" in worker_log, worker_log[-4000:]
    assert extract.row_count == 7
    # Built by a process with another private root: read back through the shared storage.
    assert hashlib.sha256(stored_bytes(extract.file_path)).hexdigest() == extract.sha256
    assert extract.reveal_password() not in worker_log

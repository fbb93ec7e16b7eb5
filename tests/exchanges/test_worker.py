"""The upload is processed by a real Celery worker (subprocess) through Redis, off the request.

Uses the shared worker fixture (tests/workers.py: separate process, unique queue, the test
database); skipped loudly without Redis/PostgreSQL, failed in CI."""

import time

import pytest

from exchanges.models import ListState, MonthlyList
from exchanges.services import workflow
from referentiel.models import Departement
from tests.exchanges import samples

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_processes_an_upload(celery_worker_on_redis, demo):
    proc, log = celery_worker_on_redis
    ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11",
                                 samples.xlsx_bytes(samples.GOOD + samples.BAD), name="liste.xlsx",
                                 user=demo["siao.69"])  # autocommit: queued on Redis at once
    deadline = time.monotonic() + 90
    while MonthlyList.objects.get(pk=ml.pk).state == ListState.PROCESSING and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"le worker s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        time.sleep(0.3)
    while "succeeded" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.3)  # the task logs its success after its last commit
    worker_log = log.read_text()
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT, worker_log[-4000:]
    assert "exchanges.process_uploaded_list" in worker_log and "succeeded" in worker_log
    assert ml.row_count == 5 and ml.error_count == 2 and ml.progress == 100
    assert "31/02/1990" not in worker_log  # no nominative content in the worker's log

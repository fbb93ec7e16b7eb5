"""The upload is processed by a real Celery worker through Redis, off the request."""

import time

import pytest

from exchanges.models import ListState, MonthlyList
from exchanges.services import workflow
from referentiel.models import Departement
from tests.exchanges import samples


def _reset_connections(app):
    """Earlier eager tests may have built the producer pool on the in-memory broker: forget it
    (without closing it, kombu keeps it registered for the next eager tests)."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_processes_an_upload(demo, settings):
    if not settings.TEST_REDIS_URL:
        pytest.skip("REDIS ABSENT (TEST_REDIS_URL) : test du worker Celery non exécuté.")
    import threading

    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_prerun

    from siao_ofii.celery import app

    threads = []

    def on_prerun(task=None, **kwargs):
        threads.append((task.name, task.request.is_eager, threading.current_thread() is threading.main_thread()))

    task_prerun.connect(on_prerun, weak=False)
    previous = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=settings.TEST_REDIS_URL, task_always_eager=False)
    _reset_connections(app)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11",
                                         samples.xlsx_bytes(samples.GOOD + samples.BAD), name="liste.xlsx",
                                         user=demo["siao.69"])  # autocommit: queued at once
            deadline = time.monotonic() + 30
            while MonthlyList.objects.get(pk=ml.pk).state == ListState.PROCESSING and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        app.conf.update(previous)
        _reset_connections(app)
        task_prerun.disconnect(on_prerun)
    assert threads == [("exchanges.process_uploaded_list", False, False)]  # run by the worker, not inline
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT and ml.row_count == 5 and ml.error_count == 2 and ml.progress == 100

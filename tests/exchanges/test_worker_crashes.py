"""A file whose reading kills the worker process (issue 10, item 10), with a real prefork
worker: the second redelivery marks the list failed and deletes the file."""

import pytest

from exchanges.models import ListState
from exchanges.services import workflow
from exchanges.tasks import process_uploaded_list
from tests.exchanges import samples
from tests.exchanges.test_hostile_files import _stored_upload, _wait_while_processing

pytestmark = pytest.mark.worker


@pytest.fixture
def celery_worker_options():
    """Prefork pool (a parent that sees its child die, as in production) and a reader that
    kills the child process (this module's only test)."""
    return {"app": "tests.exchanges.dying_worker", "pool": "prefork", "env": {}}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_killed_twice_by_a_file_marks_the_list_failed(celery_worker_on_redis, demo):
    """Before: acks_late + reject_on_worker_lost delivered the task again and again, each
    delivery killing the worker, the list stuck in "processing" and the file kept."""
    proc, log = celery_worker_on_redis
    ml, path = _stored_upload(samples.csv_bytes(samples.GOOD), "csv", demo["siao.69"])
    process_uploaded_list.delay(ml.pk)
    ml = _wait_while_processing(ml, proc, log, seconds=120)
    worker_log = log.read_text()
    assert ml.state == ListState.FAILED, worker_log[-4000:]
    assert ml.report["file_errors"] == [workflow.KILLED_MESSAGE] and ml.attempts == 3
    assert not path.exists() and ml.source_path == ""
    assert worker_log.count("WorkerLostError") >= 2, worker_log[-4000:]

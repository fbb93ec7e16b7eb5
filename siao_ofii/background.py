"""Tasks a click must never wait for (the archive built after « Valider »), in every setting.

- With a broker (REDIS_URL, production): ``delay`` is Celery's ``task.delay``, the worker runs
  the task; nothing changes.
- In-process (no Redis: Celery eager, the embedded default of ``make demo``) with
  ``TASKS_IN_BACKGROUND`` (on by default there): the task runs in ONE background thread of the
  web process, after the request has answered, so the page returns at once and shows the
  task's progress. One thread: tasks run one after another (SQLite has one writer at a time;
  its busy timeout and WAL journal are set in settings.py). The thread closes its database
  connections after each task. An interpreter exiting (``import_list --validate``) first
  finishes the queued tasks (the executor's threads are joined at exit).
- Tests (``settings_test``: ``TASKS_IN_BACKGROUND = False``) run the task synchronously, as
  before: deterministic.

A task that fails in the background is logged; the sweep of the 9th and 10th builds any
archive still missing (``exchanges.extracts.services.sweep``).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

_executor = None
_lock = threading.Lock()


def in_background():
    return bool(settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "TASKS_IN_BACKGROUND", False))


def _pool():
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="siao-ofii-background")
        return _executor


def _run(task, args):
    try:
        task.apply(args=args, throw=True)
    except Exception:
        log.exception("tâche %s%r en arrière-plan : échec", task.name, args)
        raise
    finally:
        connections.close_all()  # this thread's connections only


def delay(task, *args):
    """``task.delay(*args)``, or the background thread in-process (see the module's doc).
    Returns the Celery result, or a ``concurrent.futures.Future``."""
    if in_background():
        return _pool().submit(_run, task, args)
    return task.delay(*args)


def wait_idle(timeout=None):
    """Wait until the tasks queued so far in the background have run (tests, commands)."""
    if _executor is not None:
        _executor.submit(lambda: None).result(timeout)

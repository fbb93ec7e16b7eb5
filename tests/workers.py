"""A real Celery worker in a subprocess, on Redis, pointed at the *test* database.

``celery_worker_on_redis`` (registered in tests/conftest.py) starts it on a unique queue and
points the project's Celery app at Redis for the test. Like a worker on another machine, it
shares only PostgreSQL and Redis with the test process: its PRIVATE_STORAGE_ROOT is another
folder. In CI (CI=true) a missing Redis or
PostgreSQL fails the test; elsewhere it is skipped loudly.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[1]


def _unavailable(reason):
    if IN_CI:
        pytest.fail(f"CI : {reason} — le test du vrai worker Celery est obligatoire.")
    banner = "!" * 70
    print(f"\n{banner}\n!! TEST DU WORKER CELERY NON EXÉCUTÉ : {reason}\n{banner}", file=sys.stderr)
    pytest.skip(f"WORKER CELERY NON TESTÉ : {reason}")


def _redis_url():
    url = settings.TEST_REDIS_URL or os.environ.get("TEST_REDIS_URL", "")
    if not url:
        _unavailable("TEST_REDIS_URL absent (Redis non configuré)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"Redis injoignable ({urlparse(url).netloc}) : {exc}")
    return url


def _test_database_url():
    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        _unavailable("la base des tests n’est pas PostgreSQL (le worker doit voir la même base)")
    auth = quote(db.get("USER") or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_options():
    """Override in a test module to change the worker: its Celery app module, its pool
    (``prefork`` keeps a parent that sees its child die, like production), extra environment."""
    return {"app": "siao_ofii", "pool": "solo", "env": {}}


@pytest.fixture
def celery_worker_on_redis(tmp_path, settings, celery_worker_options):
    from siao_ofii.celery import app

    redis_url = _redis_url()
    database_url = _test_database_url()
    queue = f"test-extracts-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "siao_ofii.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "ARCHIVE_ENCRYPTION_KEY": settings.ARCHIVE_ENCRYPTION_KEY,
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Another machine: its own private root (its local disk); only PostgreSQL and Redis
        # are shared, so the files must go through the shared private storage.
        "PRIVATE_STORAGE": settings.PRIVATE_STORAGE,
        "PRIVATE_STORAGE_ROOT": str(tmp_path / "worker-private"),
        "EMAIL_URL": "consolemail://",
        "PYTHONPATH": str(ROOT),
        **celery_worker_options["env"],
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # tasks chained by the worker stay on the test queue
    }
    log = tmp_path / "worker.log"
    cmd = [sys.executable, "-m", "celery", "-A", celery_worker_options["app"], "worker",
           "--pool", celery_worker_options["pool"], "--concurrency", "1",
           "--queues", queue, "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    saved = {k: app.conf.get(k) for k in ("task_always_eager", "broker_url", "task_default_queue")}
    app.conf.update(task_always_eager=False, broker_url=redis_url, task_default_queue=queue)
    _reset_connections(app)
    # shared_task resolves to the *current* app: tests/test_celery_worker.py makes its own
    # Celery("producer") current, whose pools _reset_connections has just closed.
    app.set_current()
    try:
        yield proc, log
    finally:
        app.conf.update(saved)
        _reset_connections(app)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        import redis

        redis.Redis.from_url(redis_url).delete(queue)


def _reset_connections(app):
    """Forget the broker connections and producers (kombu keeps global pools keyed by URL), so
    that the next publish uses the broker now configured."""
    from kombu import pools

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()

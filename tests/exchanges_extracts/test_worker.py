"""A real Celery worker (subprocess) against Redis builds the archive after a validation.

The test process sends ``list_validated`` like the validation workflow does; the receiver
queues ``build_extract`` on Redis; the worker, pointed at the *test* database, builds the
archive. In CI (CI=true) a missing Redis or PostgreSQL fails the test; elsewhere it is skipped
loudly.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from django.db import connection

from exchanges.models import Extract, MonthlyList
from exchanges.signals import list_validated
from tests.factories import make_list

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.worker


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
def celery_worker_on_redis(tmp_path, settings):
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
        "PRIVATE_STORAGE_ROOT": str(settings.PRIVATE_STORAGE_ROOT),
        "EMAIL_URL": "consolemail://",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    cmd = [sys.executable, "-m", "celery", "-A", "siao_ofii", "worker", "--pool", "solo", "--concurrency", "1",
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
    worker_log = log.read_text()
    assert extract is not None, f"aucune archive produite par le worker :\n{worker_log[-4000:]}"
    assert "exchanges.extracts.build_extract" in worker_log and "succeeded" in worker_log, worker_log[-4000:]
    assert extract.row_count == 7
    assert extract.absolute_path.exists()
    from exchanges.extracts.archive import sha256_of

    assert sha256_of(extract.absolute_path) == extract.sha256
    assert extract.reveal_password() not in worker_log

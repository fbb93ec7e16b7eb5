"""A real Celery worker, a real Redis broker, the test PostgreSQL database.

CI requires it (tests/run_suite.py refuses to run without Redis and PostgreSQL there).
"""

import datetime
import os
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from referentiel.models import Agent, Departement, Role
from referentiel.services import grant_habilitation

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def worker_env(tmp_path):
    """Environment for a worker process that talks to this test database and Redis."""
    redis_url = settings.TEST_REDIS_URL
    if not redis_url or connection.vendor != "postgresql":
        reason = "REDIS ou POSTGRESQL ABSENT : test du worker Celery réel non exécuté."
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        DJANGO_SETTINGS_MODULE="siao_ofii.settings",
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ARCHIVE_ENCRYPTION_KEY=settings.ARCHIVE_ENCRYPTION_KEY,
        DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=redis_url,
        EMAIL_URL=f"filemail:///{tmp_path}/mails",
        PRIVATE_STORAGE_ROOT=str(settings.PRIVATE_STORAGE_ROOT),
    )
    return env


def start_worker(env, queue):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "siao_ofii", "worker", "--pool=solo", "--loglevel=INFO",
         "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reminder_task_runs_in_a_real_worker(tmp_path, demo):
    env = worker_env(tmp_path)
    today = timezone.localdate()
    agent = Agent.objects.create_user("echeance@demo.test", "x")
    grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                       departements=Departement.objects.filter(code="69"), valid_from=today,
                       valid_until=today + datetime.timedelta(days=7))
    queue = f"test-{os.getpid()}"
    worker = start_worker(env, queue)
    try:
        producer = Celery("producer", broker=settings.TEST_REDIS_URL)
        producer.send_task("referentiel.tasks.notify_expiring_habilitations", queue=queue)
        mails = tmp_path / "mails"
        ok = wait_for(lambda: mails.exists() and any(mails.iterdir()))
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert ok, f"aucun e-mail produit par le worker :\n{output[-3000:]}"
    content = "".join(p.read_text() for p in mails.iterdir())
    assert "echeance@demo.test" in content
    assert "succeeded" in output

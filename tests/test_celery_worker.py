"""The habilitation-expiry reminder runs in a real Celery worker, through Redis, on the test
PostgreSQL database (tests/workers.py). CI requires it."""

import datetime
import time

import pytest
from django.utils import timezone

from referentiel.models import Agent, Departement, Role
from referentiel.services import grant_habilitation
from referentiel.tasks import notify_expiring_habilitations

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reminder_task_runs_in_a_real_worker(celery_worker_on_redis, demo):
    proc, log = celery_worker_on_redis
    today = timezone.localdate()
    agent = Agent.objects.create_user("echeance@demo.test", "x")
    grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                       departements=Departement.objects.filter(code="69"), valid_from=today,
                       valid_until=today + datetime.timedelta(days=7))
    notify_expiring_habilitations.delay()
    deadline = time.monotonic() + 60
    while "notify_expiring_habilitations" not in log.read_text() or "succeeded" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"le worker n’a pas exécuté la tâche :\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    worker_log = log.read_text()
    assert "succeeded" in worker_log and ": 1" in worker_log  # one reminder sent
    assert "echeance@demo.test" in worker_log  # the console e-mail backend writes to the worker's stderr

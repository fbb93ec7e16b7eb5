"""The API rate limit holds across web processes (issue 15): ClientRateThrottle counts in the
Django cache, which the settings make one for every process (Redis when REDIS_URL is set, files
on the one machine of the embedded default), not Django's default per-process memory, where
each gunicorn worker kept its own count (a client got the limit once per worker)."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from siao_ofii.api.models import ApiClient
from siao_ofii.api.throttling import ClientRateThrottle
from tests.helpers import FROZEN_NOW

ROOT = Path(__file__).resolve().parents[2]
# Another process with the same settings, at the same frozen instant, calls the throttle of one
# client as many times as it is told, and prints how many calls it let through.
OTHER_PROCESS = """
import sys
import django
import time_machine
django.setup()
from types import SimpleNamespace
from siao_ofii.api.models import ApiClient
from siao_ofii.api.throttling import ClientRateThrottle
with time_machine.travel(float(sys.argv[1]), tick=False):
    request = SimpleNamespace(auth=ApiClient(token_id=sys.argv[2]), META={"REMOTE_ADDR": "10.0.0.1"})
    print(sum(ClientRateThrottle().allow_request(request, None) for _ in range(int(sys.argv[3]))))
"""


def _calls_in_another_process(token_id, calls, extra_env):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "siao_ofii.settings_test", "API_RATE_LIMIT": "3/min",
           **extra_env}
    if "REDIS_URL" not in extra_env:
        env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(FROZEN_NOW.timestamp()), token_id, str(calls)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.split()[-1])


def _allowed_here(token_id):
    request = SimpleNamespace(auth=ApiClient(token_id=token_id), META={"REMOTE_ADDR": "10.0.0.1"})
    return ClientRateThrottle().allow_request(request, None)


@pytest.mark.parametrize("backend", ["fichiers", "redis"])
def test_the_rate_limit_of_a_client_holds_across_processes(settings, backend, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    settings.API_RATE_LIMIT = "3/min"
    extra_env = {}
    if backend == "redis":
        if not settings.TEST_REDIS_URL:
            pytest.skip("Redis absent (TEST_REDIS_URL)")
        extra_env["REDIS_URL"] = settings.TEST_REDIS_URL
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": settings.TEST_REDIS_URL, "KEY_PREFIX": "siao-ofii"}}
    else:
        assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    token_id = f"partage-{backend}"
    from django.core.cache import cache

    cache.delete(f"throttle_api_client-{token_id}")
    cache.delete("throttle_api_client-autre-client")
    # The other process spends the client's 3 calls of the minute (its 4th is refused there)…
    assert _calls_in_another_process(token_id, 4, extra_env) == 3
    # …and this process, another gunicorn worker, refuses the client too.
    assert _allowed_here(token_id) is False
    # The limit is per client: another client still gets through here.
    assert _allowed_here("autre-client") is True
    cache.delete(f"throttle_api_client-{token_id}")
    cache.delete("throttle_api_client-autre-client")

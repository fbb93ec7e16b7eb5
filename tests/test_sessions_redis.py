"""Sessions read from Redis when REDIS_URL is set (issue 15, goal 3: one PostgreSQL query less on
every page), without weakening them: a logout ends the session in every process at once, and a
revoked habilitation stops working at the next request as before."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.helpers import FROZEN_NOW, count_queries, login

pytestmark = pytest.mark.django_db
PREFIX = "siao-ofii-test-sessions"


@pytest.fixture
def redis_sessions(settings):
    if not settings.TEST_REDIS_URL:
        pytest.skip("Redis absent (TEST_REDIS_URL)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.TEST_REDIS_URL, "KEY_PREFIX": PREFIX}}
    settings.SESSION_ENGINE = "siao_ofii.sessions"
    yield
    import redis

    server = redis.Redis.from_url(settings.TEST_REDIS_URL)
    for key in server.scan_iter(f"{PREFIX}:*"):  # only this test's keys (the database is shared)
        server.delete(key)


def _anonymous_with(cookie):
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    return replay


def test_a_page_reads_its_session_from_redis_and_a_logout_ends_it(client, demo, redis_sessions, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siege"])
    assert client.get(reverse("legal_notice")).status_code == 200
    with count_queries() as queries:
        response = client.get(reverse("legal_notice"))
    assert response.status_code == 200 and "siege@demo.test" in response.content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(queries) == 2  # the agent with their habilitations, the TOTP device: the session came from Redis
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert client.post(reverse("logout")).status_code == 302
    # The old cookie, replayed (another browser, another gunicorn process): anonymous.
    response = _anonymous_with(cookie).get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_revoked_habilitation_stops_at_the_next_request_with_redis_sessions(client, demo, redis_sessions,
                                                                             time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siao.69"])
    assert client.get(reverse("exchanges:my_lists")).status_code == 200
    demo["siao.69"].habilitations.update(revoked_at=timezone.now())
    response = client.get(reverse("exchanges:my_lists"))
    assert response.status_code == 403


def test_a_redis_outage_keeps_pages_working_and_a_logout_never_half_done(client, demo, redis_sessions, settings,
                                                                        time_machine):
    """Redis unreachable (port 1): the page reads its session from PostgreSQL; the logout fails
    and leaves the session whole (Django's order would delete the row and leave the Redis copy,
    usable by a replayed cookie once Redis is back). Redis back: the logout ends it everywhere."""
    import redis

    from django.contrib.sessions.models import Session

    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["siao.69"])
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    working = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "KEY_PREFIX": PREFIX}}
    page = client.get(reverse("exchanges:my_lists"))
    assert page.status_code == 200 and "siao.69@demo.test" in page.content.decode()
    with pytest.raises(redis.exceptions.ConnectionError):
        client.post(reverse("logout"))
    assert Session.objects.filter(session_key=cookie).exists()
    settings.CACHES = working
    assert _anonymous_with(cookie).get(reverse("exchanges:my_lists")).status_code == 200  # still whole
    assert client.post(reverse("logout")).status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    response = _anonymous_with(cookie).get(reverse("exchanges:my_lists"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


SHOW = "import django; django.setup(); from django.conf import settings as s; " \
       "print(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'])"


@pytest.mark.parametrize("redis_url, engine, cache", [
    ("", "django.contrib.sessions.backends.db", "django.core.cache.backends.filebased.FileBasedCache"),
    ("redis://127.0.0.1:6379/15", "siao_ofii.sessions",
     "django.core.cache.backends.redis.RedisCache"),
])
def test_the_session_engine_follows_redis_url(redis_url, engine, cache):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "siao_ofii.settings_test", "REDIS_URL": redis_url}
    out = subprocess.run([sys.executable, "-c", SHOW], cwd=django_settings.BASE_DIR, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split() == [engine, cache], out.stderr[-2000:]

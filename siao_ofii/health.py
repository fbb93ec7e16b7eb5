"""Health endpoint for the reverse proxy, the container health checks and monitoring.

No login, no HTTPS redirect (``SECURE_REDIRECT_EXEMPT``), no session: the probes speak plain
HTTP to the application server. It answers 200 when the database and the Celery broker
(Redis, when ``REDIS_URL`` is set) answer, 503 otherwise, and says nothing else: no
version, no host name, no error text (the cause goes to the server log only).
"""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from referentiel.middleware import public

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker():
    if not settings.REDIS_URL:
        return  # embedded default: tasks run in-process, there is no broker to reach
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS,
                                  socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


CHECKS = {"database": _database, "broker": _broker}


@public
@never_cache
@require_GET
def health(request):
    result, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 -- any failure means "unavailable"; the detail stays in the log
            logger.exception("Contrôle de santé : %s indisponible", name)
            result[name], healthy = "indisponible", False
        else:
            result[name] = "ok"
    return JsonResponse({"status": "ok" if healthy else "indisponible", **result}, status=200 if healthy else 503)

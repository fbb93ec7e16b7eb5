"""The health endpoint (/sante/) and the production settings the probes and the proxy rely on."""

import json
import os
import socket
import subprocess
import sys

import pytest
from django.db import connection

from tests.helpers import login

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_health_answers_without_login_and_reveals_nothing(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert response.content.count(b":") == 3  # three keys, nothing else (no version, no host)


@pytest.mark.django_db
def test_health_is_the_same_for_a_logged_in_agent(client, demo, settings):
    settings.REDIS_URL = ""
    login(client, demo["nohab"])  # no habilitation: every other private page answers 403
    assert client.get("/sante/").status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_health_fails_when_the_database_is_unreachable(client, settings):
    settings.REDIS_URL = ""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    else:
        connection.settings_dict["NAME"] = "/nonexistent-directory/db.sqlite3"
    try:
        response = client.get("/sante/")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "indisponible", "database": "indisponible", "broker": "ok"}
    assert b"127.0.0.1" not in response.content and b"nonexistent" not in response.content


@pytest.mark.django_db
def test_health_fails_when_the_broker_is_unreachable(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json() == {"status": "indisponible", "database": "ok", "broker": "indisponible"}
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_health_checks_a_real_broker(client, settings):
    from tests.workers import _redis_url

    settings.REDIS_URL = _redis_url()  # fails in CI, skips loudly elsewhere, when Redis is absent
    assert client.get("/sante/").json()["broker"] == "ok"


@pytest.mark.django_db
def test_health_is_not_redirected_to_https_but_pages_are(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production (the test settings turn it off)
    settings.REDIS_URL = ""
    assert client.get("/sante/").status_code == 200
    response = client.get("/connexion/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_a_client_cannot_claim_https_without_a_trusted_proxy(client, settings):
    """Without a trusted proxy (TRUSTED_PROXY_COUNT=0, the test settings), X-Forwarded-Proto from
    the client is ignored: the plain-HTTP request is still redirected."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/connexion/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")


def _production_settings(**env):
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.SECURE_PROXY_SSL_HEADER, s.SECURE_REDIRECT_EXEMPT, s.DSFR_USE_INTEGRITY_CHECKSUMS]))")
    environ = {k: v for k, v in os.environ.items() if k not in ("TRUSTED_PROXY_COUNT", "DEBUG")}
    environ.update(DJANGO_SETTINGS_MODULE="siao_ofii.settings", SECRET_KEY="x" * 60, DEBUG="false",
                   ARCHIVE_ENCRYPTION_KEY="dGVzdC1rZXktb25seS1mb3ItdGVzdHMtMzItYnl0ZXM=", **env)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_forwarded_proto_is_trusted_only_behind_a_configured_proxy():
    header, exempt, sri = _production_settings()
    assert header is None and exempt == ["^sante/$"] and sri is False
    header, _, _ = _production_settings(TRUSTED_PROXY_COUNT="1")
    assert header == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.django_db
def test_dsfr_style_sheets_carry_no_integrity_hash(client):
    """django-dsfr's hashes cannot match the files collectstatic post-processes (see settings);
    tests/prodstack proves the style sheets load in the production configuration."""
    html = client.get("/connexion/").content.decode()
    assert "dsfr.min.css" in html and "integrity=" not in html

"""The deployment recipe (issue 9, item 4), checked offline: there is no container engine here.

- docker-compose.yml against the Compose specification's JSON schema (vendored in
  check-jsonschema, ``vendor.compose-spec``, Apache-2.0), then what the schema cannot say:
  only the proxy is published, web/worker/beat have probes that can fail, forwarded headers are
  trusted by web only (behind the proxy).
- Dockerfile, .dockerignore, .env.example (every variable the settings read).
- The probes themselves (siao_ofii/healthcheck.py) pass and fail; deploy/Caddyfile parses.
What runs for real (gunicorn, worker, beat, Caddy, the same files) is tests/prodstack.
"""

import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from siao_ofii.healthcheck import check_beat, check_web

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]


def _compose():
    return YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())


def _validate(path):
    return subprocess.run([*CHECK_JSONSCHEMA, str(path)], capture_output=True, text=True)


def test_compose_file_follows_the_compose_specification():
    result = _validate(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path):
    broken = (ROOT / "docker-compose.yml").read_text().replace("      retries: 3\n", "      retry: 3\n", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    result = _validate(tmp_path / "docker-compose.yml")
    assert result.returncode == 1 and "retry" in result.stdout


def test_only_the_proxy_is_published_and_web_trusts_it():
    services = _compose()["services"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"}
    assert sorted(services["proxy"]["ports"]) == ["443:443", "80:80"]
    assert services["proxy"]["environment"]["UPSTREAM"] == "web:8000"
    assert services["web"]["expose"] == ["8000"]
    # Forwarded headers believed by web alone, which only the proxy reaches (frontend network).
    assert services["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert [n for n, s in services.items() if "TRUSTED_PROXY_COUNT" in (s.get("environment") or {})] == ["web"]
    assert set(services["proxy"]["networks"]) == {"frontend"}
    assert {"db", "redis"}.isdisjoint(n for n, s in services.items() if "frontend" in s.get("networks", []))


def test_probes_are_real():
    services = _compose()["services"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "-m", "siao_ofii.healthcheck", "web"]
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "python", "-m", "siao_ofii.healthcheck", "beat"]
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]
    assert not any("pgrep" in str(s.get("healthcheck")) for s in services.values())
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_dockerfile_collects_static_files_as_the_app_user_without_runtime_secrets():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    user = lines.index("USER app")
    collect = next(i for i, line in enumerate(lines) if "collectstatic" in line)
    assert user < collect
    assert not [line for line in lines if line.startswith("ENV") and re.search(r"SECRET|KEY|PASSWORD", line)]
    assert "COPY . ." in lines


def test_dockerignore_keeps_secrets_and_local_state_out():
    entries = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for needed in (".env", "var", ".venv", ".git", "tests", ".cache", "test-artifacts", "staticfiles",
                   "**/__pycache__"):
        assert needed in entries, needed


def test_env_example_lists_every_variable_the_settings_read():
    settings_text = (ROOT / "siao_ofii" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z0-9_]+)["']""", settings_text))
    read |= set(re.findall(r"""["']([A-Z0-9_]+)["'] (?:not )?in env""", settings_text))
    assert {"SECRET_KEY", "ARCHIVE_ENCRYPTION_KEY", "DATABASE_URL"} <= read
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, flags=re.M))
    assert not read - listed, f"absentes de .env.example : {sorted(read - listed)}"
    compose_vars = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert not compose_vars - listed, f"absentes de .env.example : {sorted(compose_vars - listed)}"
    for secret in ("SECRET_KEY", "ARCHIVE_ENCRYPTION_KEY", "POSTGRES_PASSWORD"):
        before = example.split(f"\n{secret}=")[0].rsplit("\n\n", 1)[-1]
        assert "Generate:" in before, f"{secret} : comment le générer ?"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status = {"/ok/": 200, "/redirect/": 301, "/down/": 503}[self.path]
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "https://localhost/ok/")
        self.send_header("X-Host-Seen", self.headers["Host"])
        self.end_headers()
        type(self).hosts.append(self.headers["Host"])

    def log_message(self, *args):
        pass


def test_web_probe_passes_on_200_only_and_never_follows_a_redirect(monkeypatch):
    _Handler.hosts = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("ALLOWED_HOSTS", "siao-ofii.exemple.gouv.fr,autre")
    try:
        assert check_web(base + "/ok/") == (True, "HTTP 200")
        assert check_web(base + "/redirect/") == (False, "HTTP 301")
        assert check_web(base + "/down/") == (False, "HTTP 503")
    finally:
        server.shutdown()
        server.server_close()
    assert _Handler.hosts == ["siao-ofii.exemple.gouv.fr"] * 3  # the name Django's ALLOWED_HOSTS accepts
    ok, detail = check_web(base + "/ok/")  # server gone
    assert not ok and detail.startswith("injoignable")


def test_beat_probe_reads_the_heartbeat_age(tmp_path):
    heartbeat = tmp_path / "beat.heartbeat"
    assert check_beat(str(heartbeat))[0] is False  # beat never started
    heartbeat.touch()
    assert check_beat(str(heartbeat), max_age=60)[0] is True
    old = time.time() - 120
    os.utime(heartbeat, (old, old))
    assert check_beat(str(heartbeat), max_age=60)[0] is False  # beat died or hangs


def test_beat_scheduler_touches_the_heartbeat(settings, tmp_path):
    from celery import Celery

    from siao_ofii.beat import HeartbeatScheduler

    settings.CELERY_BEAT_HEARTBEAT_FILE = str(tmp_path / "hb")
    scheduler = HeartbeatScheduler.__new__(HeartbeatScheduler)  # no database: only tick() matters
    scheduler.app = Celery("probe")
    from django_celery_beat.schedulers import DatabaseScheduler

    original = DatabaseScheduler.tick
    DatabaseScheduler.tick = lambda self, *a, **k: 5
    try:
        assert scheduler.tick() == 5
    finally:
        DatabaseScheduler.tick = original
    assert check_beat(str(tmp_path / "hb"), max_age=5)[0]


def test_caddyfile_parses_with_the_compose_variables():
    caddy = os.environ.get("CADDY_PATH") or shutil.which("caddy")
    if not caddy:
        if IN_CI:
            pytest.fail("caddy introuvable : obligatoire en CI (tests/run_suite.py l’installe).")
        pytest.skip("CADDY ABSENT : deploy/Caddyfile non vérifié.")
    env = {**os.environ, "SITE_DOMAIN": "siao-ofii.exemple.gouv.fr", "CADDY_TLS": "/certs/cert.pem /certs/key.pem",
           "UPSTREAM": "web:8000"}
    result = subprocess.run([caddy, "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    config = result.stdout
    assert '"uri":"/sante/"' in config and '"dial":"web:8000"' in config
    assert '"listen":["0.0.0.0:443"]' in config and '"disabled":true' in config  # admin API off
    assert io.StringIO(config).read().count("siao-ofii.exemple.gouv.fr") >= 2  # site + health Host header

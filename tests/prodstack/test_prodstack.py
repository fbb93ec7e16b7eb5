"""The production stack, started on loopback and walked in Debian's chromium (issue 9, item 3).

Exactly what production runs (README « Déployer », docker-compose.yml): gunicorn with
deploy/gunicorn.conf.py and the production settings (siao_ofii.settings, DEBUG=false, secrets
generated here), static files collected with the manifest storage, a dedicated PostgreSQL
database (DATABASE_URL's name + "_prodstack") migrated and seeded, a Celery worker and beat on
Redis (TEST_REDIS_URL), and Caddy (Debian's package) terminating TLS in front with
deploy/Caddyfile and a self-signed certificate made here. Everything listens on 127.0.0.1.

Through the proxy: the login page's style sheets load (no integrity/CSP error, DSFR's font
applied), siao.69 uploads and validates a list, the worker (not the web process) builds the
archive, dt.lyon (TOTP) downloads it and reveals its password, and the archive opens.
"""

import base64
import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from siao_ofii.healthcheck import check_beat, check_web
from tests.exchanges import samples
from tests.exchanges_extracts.helpers import csv_rows

pytestmark = pytest.mark.prodstack

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HOST = "localhost"
PASSWORD = "demo-siao-ofii-2026"  # seed_demo's default (DEMO_PASSWORD is removed from the stack's environment)


def _unavailable(reason):
    if IN_CI:
        pytest.fail(f"CI : {reason} — le test de la pile de production est obligatoire.")
    banner = "!" * 70
    print(f"\n{banner}\n!! PILE DE PRODUCTION NON TESTÉE : {reason}\n{banner}", file=sys.stderr)
    pytest.skip(f"PILE DE PRODUCTION NON TESTÉE : {reason}")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, n=4000):
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except FileNotFoundError:
        return "(pas de journal)"


def _self_signed_certificate(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _prodstack_database(url, *, create):
    """A dedicated database next to the suite's: DATABASE_URL's name + '_prodstack', dropped
    (and recreated when ``create``)."""
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_prodstack"
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username,
                            password=parsed.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    return urlunparse(parsed._replace(path="/" + name))


class Stack:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = {}
        self.logs = {}

    def start(self, name, cmd, env):
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        with open(log, "w") as out:
            self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        return self.procs[name]

    def run(self, name, cmd, env, timeout=300):
        started = time.monotonic()
        proc = self.start(name, cmd, env)
        try:
            code = proc.wait(timeout=timeout)
            print(f"prodstack: {name} {time.monotonic() - started:.1f} s", file=sys.stderr)
        except subprocess.TimeoutExpired:
            self.stop(name)
            pytest.fail(f"{name} : pas terminé en {timeout} s\n{_tail(self.logs[name])}")
        if code != 0:
            pytest.fail(f"{name} a échoué ({code}) :\n{_tail(self.logs[name])}")

    def wait_for(self, what, predicate, timeout=90, watch=()):
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            for name in watch:
                if self.procs[name].poll() is not None:
                    pytest.fail(f"{name} s’est arrêté ({what}) :\n{_tail(self.logs[name])}")
            if predicate():
                print(f"prodstack: {what} {time.monotonic() - started:.1f} s", file=sys.stderr)
                return
            time.sleep(0.3)
        pytest.fail(f"délai dépassé : {what}\n" + "\n".join(f"--- {n}\n{_tail(self.logs[n], 2000)}" for n in watch))

    def stop(self, name):
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self):
        for name in reversed(list(self.procs)):
            self.stop(name)


def _https_get(url):
    context = ssl.create_default_context(cafile=None)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    caddy = os.environ.get("CADDY_PATH") or shutil.which("caddy")
    if not caddy:
        _unavailable("caddy introuvable (apt-get install caddy)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"chromium introuvable ({CHROMIUM})")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        _unavailable("DATABASE_URL n’est pas une base PostgreSQL")
    from tests.workers import _redis_url

    redis_url = _redis_url()
    tmp = tmp_path_factory.mktemp("prodstack")
    from cryptography.fernet import Fernet

    app_port, https_port, http_port = _free_port(), _free_port(), _free_port()
    private = tmp / "private"
    # A fresh, empty private volume: the application creates its folders at start-up
    # (siao_ofii/apps.py), before Django's files.E001 check would stop migrate.
    assert not private.exists()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "CELERY_", "DEMO_", "SECURE_")) and k not in ("DEBUG", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "siao_ofii.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ARCHIVE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}:{https_port}",
        "DATABASE_URL": _prodstack_database(database_url, create=True),
        "REDIS_URL": redis_url,
        "PRIVATE_STORAGE_ROOT": str(private),
        "STATIC_ROOT": str(tmp / "static"),
        "TRUSTED_PROXY_COUNT": "1",
        "ALLOW_DEMO_ACCOUNTS": "true",
        "EMAIL_URL": "consolemail://",
        "CELERY_BEAT_HEARTBEAT_FILE": str(tmp / "beat.heartbeat"),
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
    })
    s = Stack(tmp)
    py = sys.executable
    try:
        s.start("collectstatic", [py, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        s.run("migrate", [py, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        s.run("load_referentiel", [py, "manage.py", "load_referentiel"], env)
        s.run("seed_demo", [py, "manage.py", "seed_demo"], env)
        started = time.monotonic()
        if s.procs["collectstatic"].wait(timeout=300) != 0:
            pytest.fail(f"collectstatic a échoué :\n{_tail(s.logs['collectstatic'])}")
        print(f"prodstack: collectstatic (after seed_demo) {time.monotonic() - started:.1f} s", file=sys.stderr)

        s.start("gunicorn", [py, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "siao_ofii.wsgi"], env)
        worker_name = f"prodstack-{secrets.token_hex(4)}@{socket.gethostname()}"
        s.start("worker", [py, "-m", "celery", "-A", "siao_ofii", "worker", "--loglevel", "INFO",
                           "--concurrency", "1", "--hostname", worker_name], env)
        s.start("beat", [py, "-m", "celery", "-A", "siao_ofii", "beat", "--loglevel", "INFO",
                         "--pidfile", str(tmp / "beat.pid")], env)
        app_health = f"http://127.0.0.1:{app_port}/sante/"
        s.wait_for("gunicorn répond sur /sante/", lambda: check_web(app_health, HOST)[0], watch=["gunicorn"])
        cert, key = _self_signed_certificate(tmp)
        caddy_env = {**env, "SITE_DOMAIN": HOST, "CADDY_TLS": f"{cert} {key}", "CADDY_BIND": "127.0.0.1",
                     "UPSTREAM": f"127.0.0.1:{app_port}", "CADDY_HTTPS_PORT": str(https_port),
                     "CADDY_HTTP_PORT": str(http_port), "XDG_DATA_HOME": str(tmp / "caddy"),
                     "XDG_CONFIG_HOME": str(tmp / "caddy"), "HOME": str(tmp)}
        s.start("caddy", [caddy, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
                caddy_env)
        base = f"https://{HOST}:{https_port}"
        s.wait_for("Caddy sert /sante/ en HTTPS", lambda: _https_get(base + "/sante/")[0] == 200, watch=["caddy"])
        s.wait_for("le worker Celery est prêt", lambda: " ready." in _tail(s.logs["worker"], 100_000),
                   watch=["worker"])
        s.wait_for("beat bat", lambda: check_beat(str(tmp / "beat.heartbeat"), 30)[0], watch=["beat"])
        s.base, s.app_port, s.env, s.worker_name = base, app_port, env, worker_name
        yield s
    finally:
        s.stop_all()
        _prodstack_database(database_url, create=False)


def _browser_context(browser):
    context = browser.new_context(locale="fr-FR", ignore_https_errors=True, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e} {getattr(e, 'stack', '')}"))
    # Sub-resources only: a download started by a click ends its navigation with ERR_ABORTED.
    page.on("requestfailed", lambda r: r.resource_type != "document"
            and page.problems.append(f"requestfailed: {r.url} {r.failure}"))
    return context, page


def _screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"prodstack_{name}.png"), full_page=True)


def _totp(secret_b32):
    from django_otp.oath import totp

    return f"{totp(base64.b32decode(secret_b32.replace(' ', ''))):06d}"


def _log_in(page, base, email):
    page.goto(base + "/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_load_state("networkidle")
    if "/connexion/second-facteur/" in page.url:  # first login of a DT agent: TOTP enrolment
        page.fill("#id_token", _totp(page.text_content("#totp-secret")))
        page.click("button[type=submit]:has-text('Valider')")
        page.wait_for_load_state("networkidle")
    assert "/connexion/" not in page.url, f"connexion de {email} refusée"


def _rows():
    """samples.GOOD with fixed entry dates of 2025: valid whatever the current month is."""
    rows = [list(r) for r in samples.GOOD]
    for r, entry in zip(rows, ("01/10/2025", "15/09/2025", "02/11/2025")):
        r[6] = entry
    return rows


def test_production_stack_end_to_end(stack, browser, tmp_path):
    import pyzipper

    # Health: plain HTTP straight to gunicorn (as compose's probe), never redirected; and the
    # pages themselves are redirected to HTTPS (SECURE_SSL_REDIRECT of the production settings).
    ok, detail = check_web(f"http://127.0.0.1:{stack.app_port}/sante/", HOST)
    assert ok, f"contrôle de santé de gunicorn : {detail}"
    status, body = _https_get(stack.base + "/sante/")
    assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}
    ok, detail = check_web(f"http://127.0.0.1:{stack.app_port}/connexion/", HOST)
    assert detail == "HTTP 301", f"/connexion/ en HTTP simple : {detail} (attendu : redirection HTTPS)"
    assert check_beat(stack.env["CELERY_BEAT_HEARTBEAT_FILE"], 30)[0]
    ping = subprocess.run([sys.executable, "-m", "celery", "-A", "siao_ofii", "inspect", "ping", "-d",
                           stack.worker_name, "--timeout", "10"], cwd=ROOT, env=stack.env, capture_output=True,
                          text=True, timeout=60)
    assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr

    # 1. The login page, styled: every style sheet loaded, none blocked.
    context, page = _browser_context(browser)
    page.goto(stack.base + "/connexion/")
    page.wait_for_load_state("networkidle")
    _screenshot(page, "login")
    assert page.problems == [], page.problems
    sheets = page.evaluate("""() => [...document.styleSheets].map(s => {
        let rules = -1; try { rules = s.cssRules.length } catch (e) {}
        return {href: s.href, rules: rules} })""")
    dsfr = [s for s in sheets if s["href"] and "/dsfr/dist/dsfr/dsfr.min." in s["href"]]
    assert dsfr and dsfr[0]["rules"] > 100, sheets
    assert dsfr[0]["href"].startswith(stack.base + "/static/") and ".min.css" not in dsfr[0]["href"], (
        "fichier de la manifest storage (nom haché) attendu", dsfr[0]["href"])
    assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
    # The primary button in DSFR's "bleu France" (#000091), not the browser's grey.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('button.fr-btn[type=submit]')).backgroundColor"
    ) == "rgb(0, 0, 145)"

    # 2. siao.69 uploads and validates a list; the worker validates the file.
    _log_in(page, stack.base, "siao.69@demo.test")
    page.goto(stack.base + "/listes/departement/69/deposer/")
    period = page.input_value("#id_period")
    page.set_input_files("#id_file", files=[{"name": "liste.csv", "mimeType": "text/csv",
                                             "buffer": samples.csv_bytes(_rows())}])
    page.click("button:has-text('Déposer et analyser')")
    page.wait_for_selector("#error-count", timeout=60_000)
    assert page.text_content("#error-count").strip() == "0"
    page.click("#validate-action")  # the recap (rows, recipients, what happens next)…
    page.wait_for_selector("#validate-recap")
    page.click("#validate-form button")  # … then the validation itself
    page.wait_for_selector("#list-state")
    assert "Validée" in page.text_content("#list-state")
    # The page follows the archive's progress and reloads itself once the worker has built it.
    # Waiting for that (instead of shooting the progress bar) also keeps the screenshot away
    # from that reload: a full-page capture under way when the page navigates never ends.
    page.wait_for_selector("#archive-state", timeout=90_000)
    page.wait_for_load_state("load")
    assert "Archive chiffrée prête" in page.text_content("#archive-state")
    _screenshot(page, "siao_validated")
    assert page.problems == [], page.problems
    context.close()

    # 3. The worker — not the web process — builds the archive.
    worker_log = stack.logs["worker"]
    stack.wait_for("le worker construit l’archive",
                   lambda: "exchanges.extracts.build_extract[" in _tail(worker_log, 100_000)
                   and "succeeded" in _tail(worker_log, 100_000).split("exchanges.extracts.build_extract[")[-1],
                   timeout=90, watch=["worker"])
    log = worker_log.read_text()
    assert "Task exchanges.process_uploaded_list[" in log and "Task exchanges.extracts.build_extract[" in log
    assert "build_extract" not in stack.logs["gunicorn"].read_text()

    # 4. dt.lyon (TOTP) downloads the archive and reveals its password.
    context, page = _browser_context(browser)
    _log_in(page, stack.base, "dt.lyon@demo.test")
    page.goto(stack.base + "/listes/extraits/departement/69/")
    download_link = page.locator(f"#month-{period} a[id^='download-']").first
    with page.expect_download() as info:
        download_link.click()
    archive = tmp_path / info.value.suggested_filename
    info.value.save_as(archive)
    assert archive.name.startswith(f"SIAO_069_{period}_v1") and archive.suffix == ".zip"
    page.locator(f"#month-{period} button[id^='reveal-']").first.click()
    page.wait_for_selector("#archive-password")
    password = page.text_content("#archive-password").strip()
    _screenshot(page, "dt_lyon_password")
    assert page.problems == [], page.problems
    context.close()

    # 5. The archive opens with that password (AES, pyzipper) and holds the three people.
    with pyzipper.AESZipFile(archive) as zf:
        zf.setpassword(password.encode())
        csv_name = next(n for n in zf.namelist() if n.endswith(".csv"))
        data = zf.read(csv_name)
    rows = csv_rows(data)
    assert len(rows) == 4  # header + the three people
    assert all(name in data.decode("utf-8-sig") for name in ("DUPONT", "N'DIAYE", "HÖFFER"))

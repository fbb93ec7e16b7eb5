"""The README's first command, as a newcomer runs it: a fresh clone, `make demo` unchanged.

The repository (its committed HEAD) is cloned into a temporary folder, `make demo` runs there with
an environment stripped of everything this suite sets (no DATABASE_URL, no settings module, no
virtual environment), on a free port given by PORT. The test waits for the login page, logs in
as the SIAO agent of the Rhône, checks a 404 is the French error page (not the debug page), and
stops the demo. It needs git, make, and the package index (or pip's cache) to install.
"""

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.freshclone

INSTALL_AND_START_TIMEOUT = 900  # seconds: creating the virtual environment dominates


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _newcomer_env(port):
    """What a newcomer's shell has: PATH without any virtual environment, HOME, locale."""
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and p != venv_bin and "/.venv/" not in p + "/")
    env = {"PATH": path, "PORT": str(port)}
    for key in ("HOME", "LANG", "LC_ALL", "TERM", "PYENV_ROOT", "PIP_INDEX_URL", "PIP_CACHE_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class _Browser:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        try:
            with self.opener.open(self.base + path, timeout=10) as resp:
                return resp.status, resp.geturl(), resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode()

    def post(self, path, data):
        body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        with self.opener.open(req, timeout=10) as resp:
            return resp.status, resp.geturl(), resp.read().decode()


def _wait_for_login_page(browser, proc, log):
    deadline = time.monotonic() + INSTALL_AND_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`make demo` s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        try:
            status, _, page = browser.get("/connexion/")
            if status == 200:
                return page
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        time.sleep(2)
    pytest.fail(f"La page de connexion n’a pas répondu en {INSTALL_AND_START_TIMEOUT} s :\n{log.read_text()[-4000:]}")


def test_make_demo_on_a_fresh_clone_serves_the_login_page_and_a_demo_login_works(tmp_path):
    if not os.environ.get("FRESH_CLONE_TEST"):
        # tests/run_suite.py (the README's test command) sets it, and refuses to run in CI without it.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI : le test du clone neuf est obligatoire (lancez la suite par tests/run_suite.py).")
        print("\n!! CLONE NEUF NON ESSAYÉ : lancez la suite par `make test` pour essayer `make demo`.")
        pytest.skip("CLONE NEUF NON ESSAYÉ (FRESH_CLONE_TEST absent)")
    for tool in ("git", "make"):
        assert shutil.which(tool), f"{tool} est nécessaire"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone / ".venv").exists() and not (clone / "var").exists()
    port = _free_port()
    log = tmp_path / "demo.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "demo"], cwd=clone, env=_newcomer_env(port), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        browser = _Browser(f"http://127.0.0.1:{port}")
        page = _wait_for_login_page(browser, proc, log)
        assert "<h1>Connexion</h1>" in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, url, home = browser.post("/connexion/", {
            "csrfmiddlewaretoken": token, "username": "siao.69@demo.test",
            "password": "demo-siao-ofii-2026", "next": "/"})
        assert status == 200 and urllib.parse.urlparse(url).path == "/", url
        assert '<span class="fr-btn fr-icon-account-circle-line" id="current-user">siao.69@demo.test</span>' in home
        assert "Se déconnecter" in home
        # Production error pages, in French, never Django's debug page.
        status, _, missing = browser.get("/cette-page-n-existe-pas/")
        assert status == 404
        assert "URLconf" not in missing and "DEBUG = True" not in missing
        assert 'lang="fr"' in missing and "Page introuvable" in missing
        # Private folders were created by the application itself.
        assert (clone / "var" / "private" / "tmp").is_dir()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

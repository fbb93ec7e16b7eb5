"""Run the whole test suite, saying loudly what it runs on.

- PostgreSQL: DATABASE_URL, else 127.0.0.1:5432 if it answers, else SQLite (refused in CI).
- Redis: REDIS_URL / TEST_REDIS_URL, else 127.0.0.1:6379 if it answers; the real-worker tests
  need it (refused in CI when absent).
- Browser tests: Debian's chromium (installed with apt-get when missing and we are root),
  axe-core from the npm registry; archives opened with 7-Zip (Debian package 7zip).
- Production-stack test (tests/prodstack): Debian's caddy as the TLS reverse proxy (installed
  with apt-get when missing), gunicorn from the project's dependencies.

Usage: python tests/run_suite.py [pytest arguments]
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
AXE_VERSION = "4.11.0"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
problems = []


def banner(text):
    line = "!" * 78
    print(f"\n{line}\n!! {text}\n{line}\n", flush=True)


def reachable(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need(what, ok, hint):
    if ok:
        return True
    if IN_CI:
        problems.append(f"{what} : {hint}")
    else:
        banner(f"{what} ABSENT — {hint} Les tests qui en dépendent ne sont PAS exécutés.")
    return False


def apt_install(*packages):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, stdout=subprocess.DEVNULL)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, check=False,
                            stdout=subprocess.DEVNULL)
    return result.returncode == 0


def setup_database(env):
    url = env.get("DATABASE_URL")
    if not url and reachable("127.0.0.1", 5432):
        url = "postgres://postgres@127.0.0.1:5432/siao_ofii"
    if url:
        parsed = urlparse(url)
        if parsed.scheme.startswith("postgres") and not reachable(parsed.hostname or "127.0.0.1", parsed.port or 5432):
            need("PostgreSQL", False, f"{parsed.hostname}:{parsed.port or 5432} ne répond pas.")
            url = None
    if url:
        env["DATABASE_URL"] = url
        print(f"Base de données des tests : {urlparse(url).scheme}://{urlparse(url).hostname}:{urlparse(url).port}"
              f"{urlparse(url).path}")
    else:
        need("PostgreSQL", False, "aucune base PostgreSQL joignable (DATABASE_URL ou 127.0.0.1:5432).")
        env.pop("DATABASE_URL", None)
        banner("Les tests tournent sur SQLite, PAS sur PostgreSQL (contraintes, verrous et triggers non vérifiés).")


def setup_redis(env):
    url = env.get("TEST_REDIS_URL") or env.get("REDIS_URL")
    if not url and reachable("127.0.0.1", 6379):
        url = "redis://127.0.0.1:6379/15"
    if url:
        parsed = urlparse(url)
        if not reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
            url = None
    if need("Redis", bool(url), "aucun Redis joignable : le test avec un vrai worker Celery ne peut pas tourner."):
        env["TEST_REDIS_URL"] = url
        print(f"Redis pour le test du worker Celery : {url}")
    # The suite itself always runs tasks in-process; only the worker test uses Redis.
    env.pop("REDIS_URL", None)


def setup_chromium(env):
    path = env.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        print("chromium absent : installation du paquet Debian…", flush=True)
        apt_install("chromium")
    if need("Chromium", Path(path).exists(), f"{path} introuvable (apt-get install chromium)."):
        env["CHROMIUM_PATH"] = path
        return True
    return False


def setup_axe(env):
    axe = CACHE / "node" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists() and shutil.which("npm"):
        print(f"axe-core {AXE_VERSION} : installation depuis le registre npm…", flush=True)
        (CACHE / "node").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(CACHE / "node"),
             f"axe-core@{AXE_VERSION}"],
            check=False,
        )
    if need("axe-core", axe.exists(), "npm indisponible : le contrôle d’accessibilité ne peut pas tourner."):
        env["AXE_CORE_PATH"] = str(axe)


def setup_7zip(env):
    exe = shutil.which("7z") or shutil.which("7zz")
    if not exe:
        print("7-Zip absent : installation du paquet Debian…", flush=True)
        apt_install("7zip") or apt_install("p7zip-full")
        exe = shutil.which("7z") or shutil.which("7zz")
    if need("7-Zip", bool(exe), "7z introuvable (apt-get install 7zip) : les archives ne sont pas ouvertes avec 7-Zip."):
        env["SEVENZIP_PATH"] = exe


def setup_instruction_text(env):
    """The instruction's text (Annex 1) lives in shared/ beside the repository, not inside it."""
    seed = Path(env.get("INSTRUCTION_TEXT", ROOT.parent / "shared" / "seeds" / "000_234791748a08fb7b.txt"))
    if need("Texte de l’instruction (annexe 1)", seed.exists(),
            f"{seed} introuvable : la comparaison du référentiel avec l’annexe 1 ne peut pas tourner."):
        env["INSTRUCTION_TEXT"] = str(seed)


def setup_fresh_clone(env):
    """The README's first command is run from a fresh clone of the repository (git, make)."""
    tools = [t for t in ("git", "make") if not shutil.which(t)]
    if need("git et make", not tools, f"{', '.join(tools)} introuvable : `make demo` n’est pas essayé sur un clone neuf."):
        env["FRESH_CLONE_TEST"] = "1"
def setup_caddy(env):
    exe = env.get("CADDY_PATH") or shutil.which("caddy")
    if not exe:
        print("caddy absent : installation du paquet Debian…", flush=True)
        apt_install("caddy")
        exe = shutil.which("caddy")
    if need("Caddy", bool(exe), "caddy introuvable (apt-get install caddy) : la pile de production n’est pas testée."):
        env["CADDY_PATH"] = exe
    gunicorn = subprocess.run([sys.executable, "-c", "import gunicorn"], check=False).returncode == 0
    need("gunicorn", gunicorn, "gunicorn non installé dans l’environnement Python : la pile de production n’est pas testée.")


def main(args):
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings_test")
    setup_database(env)
    setup_redis(env)
    chromium = setup_chromium(env)
    setup_axe(env)
    setup_7zip(env)
    setup_instruction_text(env)
    setup_fresh_clone(env)
    setup_caddy(env)
    if chromium:
        env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    if problems:
        banner("CI : environnement incomplet, tests NON lancés.")
        for p in problems:
            print(f"  - {p}")
        return 2
    env["RUN_SUITE"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-p", "randomly", *args]
    print("→", " ".join(cmd), flush=True)
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if code == 5:
        print("Aucun test exécuté : c’est une erreur.")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Embedded default for ``make demo``: the production settings (DEBUG off, so French error
pages and never Django's debug page) with what a demonstration on one computer needs.

- SQLite in ./var and Celery tasks in-process, unless DATABASE_URL / REDIS_URL are given;
- plain HTTP on the loopback interface (no HTTPS redirect, no secure-only cookies, no HSTS);
- static files served by WhiteNoise straight from the apps (no collectstatic step);
- demo accounts allowed (public password, fictitious data);
- secrets generated once into ``var/demo-secrets.env`` (owner-only), never committed, so that
  no key is shared between demo instances.

Never use it for real data: ``check --deploy`` is meant for ``siao_ofii.settings``.
"""

import base64
import os
import secrets
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var"
_SECRETS = _VAR / "demo-secrets.env"


def _demo_secrets():
    if not _SECRETS.exists():
        _VAR.mkdir(exist_ok=True)
        lines = [
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"ARCHIVE_ENCRYPTION_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
        ]
        fd = os.open(_SECRETS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return dict(line.split("=", 1) for line in _SECRETS.read_text().split())


for _name, _value in _demo_secrets().items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOW_DEMO_ACCOUNTS", "true")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("STATIC_ROOT", str(_VAR / "static"))
os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")

from .settings import *  # noqa: E402,F403

# Plain HTTP on loopback: cookies must travel without TLS.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Static files from the apps and static/ directly (no collectstatic for a demo).
WHITENOISE_USE_FINDERS = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405 (WhiteNoise warns when it is missing)

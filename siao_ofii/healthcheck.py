"""Container health checks (docker-compose.yml), usable without a shell or curl in the image.

    python -m siao_ofii.healthcheck web   # GET http://127.0.0.1:8000/sante/, no redirect followed: 200 or fail
    python -m siao_ofii.healthcheck beat  # Celery beat's scheduler touched its heartbeat file recently

The worker is checked with ``celery -A siao_ofii inspect ping``. Exit status 0 = healthy.
Imports no Django: a probe must stay cheap and must not need the secrets.
"""

import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Written by siao_ofii.beat.HeartbeatScheduler at every tick of the beat loop (at most every 5 s).
DEFAULT_BEAT_HEARTBEAT = os.path.join(tempfile.gettempdir(), "siao-ofii-beat.heartbeat")
BEAT_MAX_AGE_SECONDS = 60


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is a failure: the probe must reach the application itself


def check_web(url=None, host=None):
    url = url or os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/sante/")
    # ALLOWED_HOSTS refuses unknown Host headers: present the first configured name.
    host = host or (os.environ.get("ALLOWED_HOSTS", "").split(",")[0].strip() or "localhost")
    request = urllib.request.Request(url, headers={"Host": host})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        return False, f"injoignable : {exc}"
    return status == 200, f"HTTP {status}"


def check_beat(path=None, max_age=BEAT_MAX_AGE_SECONDS):
    path = path or os.environ.get("CELERY_BEAT_HEARTBEAT_FILE") or DEFAULT_BEAT_HEARTBEAT
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return False, f"{path} absent : beat n’a pas démarré"
    return age <= max_age, f"dernier battement il y a {age:.0f} s"


def main(argv):
    checks = {"web": check_web, "beat": check_beat}
    if len(argv) != 1 or argv[0] not in checks:
        print("usage : python -m siao_ofii.healthcheck web|beat", file=sys.stderr)
        return 2
    ok, detail = checks[argv[0]]()
    print(f"{argv[0]} : {'ok' if ok else 'KO'} ({detail})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

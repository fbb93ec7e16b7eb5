"""Benchmark: the cost of pages (issue 15, goal 3).

1. In-process, production settings (DEBUG=false): a page without a list (/mentions-legales/),
   logged in with a second factor, through the whole middleware stack (django.test.Client):
   server time per request, SQL queries, and whether a GET writes (INSERT/UPDATE/DELETE).
   Reference, same run: rendering the same template with the same context (cached loader).
2. Over loopback: gunicorn (2 workers × 4 threads, like a 2-core server; --workers/--threads) and 20 concurrent
   agents, each with its own logged-in session (SIAO, DT, headquarters and prefecture accounts;
   DT and headquarters with a verified second factor), walking 8 pages each in a loop.
   p50/p95/p99 latency, requests/s and errors. Reference, same run: the health endpoint
   (/sante/: no session, no user), i.e. the cost of gunicorn + the client on this machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/siao_ofii_bench python bench/bench_pages.py [--seconds 20]

The served application runs with a REDIS_URL, as production requires (cache, sessions read from
Redis, Celery): redis://127.0.0.1:6379/14 unless --redis-url / $BENCH_REDIS_URL say otherwise;
when that Redis does not answer, the script says so loudly and measures database sessions.

Prints a human table, then one ``BENCH {json}`` line per figure that bench/run_all.py gathers.
Pass ``--source DIR`` to serve another checkout of the project (the "before" column).
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "siao_ofii.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ARCHIVE_ENCRYPTION_KEY": "YmVuY2gta2V5LW9ubHktZm9yLWJlbmNoZXMtMzItYnk=",
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    # seed_demo refuses demo accounts in production unless told (this is a throw-away database).
    "ALLOW_DEMO_ACCOUNTS": "true",
    "DEMO_PASSWORD": "bench-demo-password-2026",
}
AGENTS = 20
# Production requires REDIS_URL (cache, sessions, Celery): the load is measured with one.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Accounts of seed_demo; (name, needs a second factor).
ACCOUNTS = ["siao.69", "siao.75", "dt.lyon", "siege", "prefecture.69", "dt.paris", "siao-dna.69"]
OTP_ACCOUNTS = {"dt.lyon", "dt.paris", "siege"}
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the load (default 20 s)")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--source", default=str(ROOT), help="checkout served by gunicorn")
    parser.add_argument("--label", default="")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
                        help="REDIS_URL of the served application, as in production, where it is required "
                             f"(default: $BENCH_REDIS_URL, else {DEFAULT_REDIS_URL}; 'none': the file cache and "
                             "database sessions of the embedded default)")
    args = parser.parse_args()
    if args.redis_url == "none":
        args.redis_url = ""
    elif not redis_answers(args.redis_url):
        print(f"!! Redis ne répond pas à {args.redis_url} : les pages sont mesurées SANS Redis (sessions en base),"
              " ce qui n’est pas la configuration de production.", flush=True)
        args.redis_url = ""
    return args


def redis_answers(url):
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def setup_django(source):
    for k, v in BENCH_ENV.items():
        os.environ.setdefault(k, v)
    sys.path.insert(0, str(source))
    import django

    django.setup()


def demo_sessions(n):
    """``n`` logged-in sessions (cookies) spread over the demo accounts; second factor passed."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from referentiel.models import Agent

    if not Agent.objects.filter(email="siao.69@demo.test").exists():
        from siao_ofii.celery import app

        app.conf.task_always_eager = True  # the demo's lists are processed here, even with a REDIS_URL
        call_command("load_referentiel", verbosity=0)
        call_command("seed_demo", verbosity=0)
    cookies = []
    for i in range(n):
        name = ACCOUNTS[i % len(ACCOUNTS)]
        agent = Agent.objects.get(email=f"{name}@demo.test")
        client = Client()
        client.force_login(agent)
        if name in OTP_ACCOUNTS:
            device, _ = TOTPDevice.objects.get_or_create(user=agent, name="bench", defaults={"confirmed": True})
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        cookies.append((name, client.cookies[settings.SESSION_COOKIE_NAME].value))
    return cookies


def pages_for(name):
    """8 pages an agent of this account opens (GETs the account may see)."""
    from django.urls import reverse

    common = [reverse("home"), reverse("legal_notice"), reverse("accessibility"), reverse("personal_data")]
    if name.startswith("siao"):
        dep = name.split(".")[1]
        specific = [reverse("exchanges:my_lists"), reverse("meetings:index"),
                    reverse("exchanges:upload", args=[dep]), reverse("home")]
    elif name.startswith("dt") or name == "siege":
        specific = [reverse("exchanges:extract_dashboard"), reverse("meetings:index"),
                    reverse("exchanges:extract_departement", args=["69" if name != "dt.paris" else "75"]),
                    reverse("home")]
    else:
        specific = [reverse("meetings:index"), reverse("meetings:index"), reverse("home"), reverse("legal_notice")]
    return common + specific


def best_of(call, batches=6, n=60):
    """Milliseconds per call: the best of ``batches`` batches of ``n`` calls (timeit's rule: on a
    shared machine the other jobs only ever add time, the fastest batch is the closest to the
    cost of the code itself). The page and its reference are measured alike."""
    best = float("inf")
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(n):
            call()
        best = min(best, (time.perf_counter() - t) / n * 1000)
    return best


def in_process(cookies):
    """Server time and queries of /mentions-legales/ (logged in, verified), and the reference."""
    from django.conf import settings
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    name, cookie = next(c for c in cookies if c[0] == "siege")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    url = reverse("legal_notice")
    for _ in range(20):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = len(ctx)
    writes = [q["sql"] for q in ctx.captured_queries if WRITE.match(q["sql"])]
    page_ms = best_of(lambda: client.get(url))
    # Reference: the template alone, same context processors (a RequestFactory request with the user).
    request = RequestFactory().get(url)
    from django.contrib.auth import get_user_model

    request.user = get_user_model().objects.get(email="siege@demo.test")
    request.user.is_verified = lambda: True
    render_to_string("pages/mentions_legales.html", {"title": "Mentions légales"}, request=request)
    ref_ms = best_of(lambda: render_to_string("pages/mentions_legales.html", {"title": "Mentions légales"},
                                              request=request))
    return {"page_ms": page_ms, "ref_ms": ref_ms, "queries": queries, "writes": writes}


def rows_written():
    """Rows inserted, updated or deleted in every table, as PostgreSQL counts them."""
    from django.db import connection

    connection.close()  # a new backend: the statistics snapshot of this one would be stale
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables")
        return int(cursor.fetchone()[0])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_gunicorn(source, port, workers, threads):
    env = {**os.environ, "PYTHONPATH": str(source)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "siao_ofii.wsgi", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/sante/")
            if conn.getresponse().status in (200, 503):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn ne démarre pas : " + proc.stderr.read().decode()[-2000:])


def load(port, jobs, seconds):
    """Each job: (cookie or None, [urls]). One thread per job, keep-alive connection, for ``seconds``."""
    from django.conf import settings

    latencies, errors, lock = [], [], threading.Lock()
    stop = time.perf_counter() + seconds

    def agent(cookie, urls):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
        mine, bad, i = [], [], 0
        while time.perf_counter() < stop:
            url = urls[i % len(urls)]
            i += 1
            t = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad.append(f"{url} {response.status}")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except OSError as exc:
                bad.append(f"{url} {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=agent, args=job) for job in jobs]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000,
            "p99": q[98] * 1000, "errors": len(errors), "error_samples": sorted(set(errors))[:5]}


def main():
    args = parse_args()
    source = Path(args.source).resolve()
    for k, v in BENCH_ENV.items():
        os.environ.setdefault(k, v)
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    # Production settings serve hashed static files (manifest): collected once per checkout.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=source, check=True,
                   env={**os.environ, "PYTHONPATH": str(source)})
    setup_django(source)
    cookies = demo_sessions(args.agents)
    local = in_process(cookies)
    port = free_port()
    proc = start_gunicorn(source, port, args.workers, args.threads)
    try:
        ref = load(port, [(None, ["/sante/"])] * args.agents, min(args.seconds, 10))
        before = rows_written()
        loaded = load(port, [(cookie, pages_for(name)) for name, cookie in cookies], args.seconds)
        time.sleep(2)  # PostgreSQL publishes the counters of other sessions within a second or so
        written = rows_written() - before
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    label = f" [{args.label}]" if args.label else ""
    print(f"\nPages{label} — in process, DEBUG=false, /mentions-legales/ logged in (siege, second factor):")
    print(f"  server time {local['page_ms']:.2f} ms per request (template alone: {local['ref_ms']:.2f} ms), "
          f"{local['queries']} queries, {len(local['writes'])} writes on a GET")
    for w in local["writes"]:
        print(f"    write: {w[:120]}")
    print(f"  (REDIS_URL: {args.redis_url or 'none'}; best of 6 batches of 60 requests)")
    print(f"Load{label} — gunicorn {args.workers} workers × {args.threads} threads, {args.agents} agents, {args.seconds:.0f} s, loopback:")
    for title, r in (("health /sante/ (reference)", ref), ("8 pages per agent, logged in", loaded)):
        print(f"  {title:32s} {r['requests']:6d} req  {r['rps']:6.1f} req/s  p50 {r['p50']:6.1f} ms  "
              f"p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  errors {r['errors']}")
        for e in r["error_samples"]:
            print(f"    error: {e}")
    print(f"  rows written in the database during the load (all tables): {written} "
          f"(the idle expiry may refresh each of the {args.agents} sessions once a minute)")
    results = [
        {"figure": "list-free page, server time (ms)", "value": local["page_ms"],
         "reference": local["ref_ms"], "reference_name": "template render alone", "goal": 3.0, "floor": 5.0},
        {"figure": "list-free page, SQL queries", "value": local["queries"], "goal": 4, "floor": 4},
        {"figure": "list-free page, writes on a GET", "value": len(local["writes"]), "goal": 0, "floor": 0},
        {"figure": f"{args.agents} agents, p95 (ms){'' if args.redis_url else ', SANS Redis'}", "value": loaded["p95"], "reference": ref["p95"],
         "reference_name": "health endpoint p95", "goal": 100.0, "floor": 200.0},
        {"figure": f"{args.agents} agents, p50 (ms)", "value": loaded["p50"], "reference": ref["p50"],
         "reference_name": "health endpoint p50"},
        {"figure": f"{args.agents} agents, p99 (ms)", "value": loaded["p99"], "reference": ref["p99"],
         "reference_name": "health endpoint p99"},
        {"figure": f"{args.agents} agents, requests/s", "value": loaded["rps"], "reference": ref["rps"],
         "reference_name": "health endpoint req/s"},
        {"figure": f"{args.agents} agents, errors", "value": loaded["errors"], "goal": 0, "floor": 0},
        {"figure": "rows written during the load (GETs only)", "value": written,
         "reference": args.agents * max(1, int(args.seconds // 60) + 1), "reference_name": "one refresh per session per minute"},
    ]
    for r in results:
        print("BENCH " + json.dumps(r))


if __name__ == "__main__":
    main()

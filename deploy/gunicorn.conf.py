"""gunicorn, as production runs it (docker-compose.yml and tests/prodstack).

Behind the TLS proxy (deploy/Caddyfile) only: plain HTTP, never published on a public address.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threaded workers (gthread): a request waiting for PostgreSQL or Redis leaves the core to another,
# and connections are kept alive. On the 2-core machine, 20 agents walking 8 pages each
# (bench/bench_pages.py, same code, one run each, machine loaded): 2 workers × 4 threads
# 211 requests/s, p95 226 ms; 3 single-threaded workers (the previous setting) 118 requests/s,
# p95 314 ms; 4 × 2 190 requests/s, p95 366 ms. Each thread keeps its own database connection
# (CONN_MAX_AGE): workers × threads connections per web container.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Uploads of up to 20 MB are read in the request; validation itself runs in the Celery worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Recycle workers now and then (memory held by large uploads).
max_requests = 1000
max_requests_jitter = 100
# Django reads X-Forwarded-Proto itself (SECURE_PROXY_SSL_HEADER, only with TRUSTED_PROXY_COUNT);
# gunicorn trusts forwarded headers only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the proxy sees every request; no URL log with identifiers here
errorlog = "-"
# No runtime control socket (gunicorn ≥ 24 opens one in $HOME by default): nothing manages
# gunicorn that way here, and two instances on one machine would share its path.
control_socket_disable = True

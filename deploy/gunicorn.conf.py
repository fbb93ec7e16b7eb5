"""gunicorn, as production runs it (docker-compose.yml and tests/prodstack).

Behind the TLS proxy (deploy/Caddyfile) only: plain HTTP, never published on a public address.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
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

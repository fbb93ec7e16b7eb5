# Image of the application: gunicorn (web), Celery worker and beat run from it (docker-compose.yml).
# Secrets are never in the image: they come from the environment at run time (.env, see .env.example).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# WeasyPrint (PDF of the commission minutes) needs Pango.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 app
WORKDIR /app
# Dependencies first (pinned in pyproject.toml), for the build cache.
COPY pyproject.toml README.md ./
COPY siao_ofii siao_ofii
COPY referentiel referentiel
COPY exchanges exchanges
COPY meetings meetings
RUN pip install .
# The code stays owned by root (read-only for the app); .dockerignore keeps .env, var/, .venv,
# .git, tests and caches out.
COPY . .
# Writable by the app user: the collected static files and the private volume's mount point.
RUN mkdir -p /app/staticfiles /data/private && chown app:app /app/staticfiles /data/private
USER app
# collectstatic at build time, as the app user. The secrets here are throw-away values set for
# this one command only (not ENV): the settings refuse to start without real ones at run time.
RUN DEBUG=false SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    ARCHIVE_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQtMzItYnl0ZXM= \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 PRIVATE_STORAGE_ROOT=/tmp/build-private \
    python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "siao_ofii.wsgi"]

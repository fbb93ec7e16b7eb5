"""Settings for the test suite: production settings (DEBUG off, secure cookies) with test
secrets, fast password hashing and in-process Celery. DATABASE_URL picks the database
(the test command sets PostgreSQL when it is there)."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-only-for-the-test-suite-0123456789-abcdefghij")
os.environ.setdefault("ARCHIVE_ENCRYPTION_KEY", "dGVzdC1rZXktb25seS1mb3ItdGVzdHMtMzItYnl0ZXM=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tests run tasks in-process; the one test that needs a real worker builds its own app config.
CELERY_TASK_ALWAYS_EAGER = True
# ... and synchronously: a test sees the archive as soon as the validation is committed
# (tests/exchanges_extracts/test_background.py turns the background thread on).
TASKS_IN_BACKGROUND = False
CELERY_BROKER_URL = "memory://"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
AXES_ENABLED = True
ALLOW_DEMO_ACCOUNTS = True
# Static files straight from the apps (no collectstatic) for the live-server browser tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405
# The test suite's flush (after transactional tests) lifts the journal's TRUNCATE trigger for
# its own statement only: see tests/dbflush.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.dbflush"]  # noqa: F405

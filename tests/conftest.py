"""Strict test settings shared by the whole suite.

- Unknown template variables in *our* templates make the test fail (third-party templates,
  e.g. Django admin, are left alone).
- Tests run in random order (pytest-randomly); seed printed in the header.
- ``demo`` gives the eight demo accounts of ``seed_demo`` plus two edge cases.
"""

import inspect
import os
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.template import engines
from hypothesis import settings as hypothesis_settings

from tests.helpers import FROZEN_NOW, DemoAccounts
from tests.workers import celery_worker_on_redis, celery_worker_options  # noqa: F401 (real-worker tests)

# Tests that talk to another process keep the real clock: the browser (cookie expiry, its own
# timers), the real Celery worker (task ETA/expiry computed by the worker on its own clock), the
# production stack (TOTP codes checked by gunicorn on its clock) and the fresh-clone demo.
REAL_CLOCK_MARKERS = ("browser", "worker", "prodstack", "freshclone")

# `make mutation` runs each mutant against the property tests: fewer, reproducible examples.
hypothesis_settings.register_profile("mutation", max_examples=25, derandomize=True, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

OUR_TEMPLATE_DIRS = tuple(
    str(Path(settings.BASE_DIR) / d) for d in ("templates", "referentiel", "exchanges", "meetings", "siao_ofii")
)


class InvalidTemplateVariable(str):
    """``string_if_invalid`` that raises for variables missing in our own templates."""

    def __contains__(self, item):
        return item == "%s"

    def __mod__(self, var):
        frame = inspect.currentframe().f_back
        while frame is not None:
            context = frame.f_locals.get("context")
            template = getattr(getattr(context, "render_context", None), "template", None)
            if template is not None:
                origin = getattr(getattr(template, "origin", None), "name", "") or ""
                if origin.startswith(OUR_TEMPLATE_DIRS):
                    raise AssertionError(f"Variable de gabarit inconnue « {var} » dans {origin}")
                return ""
            frame = frame.f_back
        return ""


@pytest.fixture(autouse=True, scope="session")
def _strict_templates():
    engine = engines["django"].engine
    previous = engine.string_if_invalid
    engine.string_if_invalid = InvalidTemplateVariable("INVALID")
    yield
    engine.string_if_invalid = previous


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture(autouse=True)
def _per_process_caches_start_empty():
    """Caches a process keeps across requests start empty in each test:
    - ``referentiel.perimeter`` compiles the query of a session's agent once per process, so
      that the query a test runs is built by the code under test (the mutation harness forks
      its mutants from a process that already compiled it);
    - Django's content-type cache: a transactional test restores the database, and an id cached
      before it could name a content type that is no longer there (seen once in CI: the admin's
      LogEntry of the live-server browser test referred to a missing content type);
    - Django's cache (files shared by the processes of one machine): the API counts calls without
      a valid token per address in it, and under the frozen clock every test falls in the same
      minute, so the calls of earlier tests (all from 127.0.0.1) would count against later ones."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from referentiel import perimeter

    perimeter._COMPILED.clear()
    ContentType.objects.clear_cache()
    cache.clear()


@pytest.fixture(autouse=True)
def _frozen_clock(request):
    """Every test starts at FROZEN_NOW (the clock then ticks, so that code measuring durations
    still works). Tests marked ``browser`` or ``worker`` are exempt (see REAL_CLOCK_MARKERS);
    ``test_no_test_reads_the_real_clock`` checks that this fixture is in force."""
    if any(request.node.get_closest_marker(m) for m in REAL_CLOCK_MARKERS):
        yield None
        return
    # Requested here (not as an argument) so that the exempt tests never start a traveller.
    fixture = request.getfixturevalue("time_machine")
    fixture.move_to(FROZEN_NOW, tick=True)
    yield fixture


if not os.environ.get("MUTATION_DB_TEMPLATE"):
    @pytest.fixture(scope="session")
    def django_db_setup(django_db_setup, django_db_blocker):
        # The demo habilitations start "today": the frozen today, like the tests that use them.
        with django_db_blocker.unblock(), time_machine.travel(FROZEN_NOW, tick=False):
            DemoAccounts.create()
else:
    @pytest.fixture(scope="session")
    def django_db_setup(django_db_blocker):
        """`make mutation` (tests/mutation/run.py): mutmut runs the tests once per mutant in a
        forked process; migrating a fresh database each time would cost most of the run. The
        database is migrated and seeded once into a SQLite template file, and every process
        works on its own copy of it."""
        import shutil

        from django.core.management import call_command
        from django.db import connections

        conn = connections["default"]
        if conn.vendor == "postgresql":  # MUTATION_DATABASE_URL (tests/mutation/run.py)
            yield from _postgresql_mutation_database(conn, django_db_blocker)
            return
        template = Path(os.environ["MUTATION_DB_TEMPLATE"])
        target = template.with_name(f"db-{os.getpid()}.sqlite3")
        with django_db_blocker.unblock():
            if not template.exists():
                building = template.with_name(f"template-{os.getpid()}.sqlite3")
                conn.close()
                conn.settings_dict["NAME"] = str(building)
                call_command("migrate", verbosity=0, interactive=False)
                with time_machine.travel(FROZEN_NOW, tick=False):
                    DemoAccounts.create()
                conn.close()
                os.replace(building, template)
            shutil.copyfile(template, target)
            conn.close()
            conn.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = str(target)
        yield
        with django_db_blocker.unblock():
            conn.close()
        target.unlink(missing_ok=True)


def _postgresql_mutation_database(conn, django_db_blocker):
    """The same on PostgreSQL: MUTATION_DB_TEMPLATE names a template database, migrated and
    seeded once; every process (each mutmut child) works on its own ``CREATE DATABASE …
    TEMPLATE`` copy, named after its pid and dropped at the end (tests/mutation/run.py drops
    those of children killed on a timeout)."""
    from django.core.management import call_command

    template = os.environ["MUTATION_DB_TEMPLATE"]
    target = f"{template}_{os.getpid()}"

    def execute(sql, params=None):
        with conn._nodb_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    with django_db_blocker.unblock():
        conn.close()
        if not execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]):
            building = f"{template}_build_{os.getpid()}"
            execute(f'DROP DATABASE IF EXISTS "{building}"')
            execute(f'CREATE DATABASE "{building}"')
            conn.settings_dict["NAME"] = building
            call_command("migrate", verbosity=0, interactive=False)
            with time_machine.travel(FROZEN_NOW, tick=False):
                DemoAccounts.create()
            conn.close()
            execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        execute(f'DROP DATABASE IF EXISTS "{target}"')
        execute(f'CREATE DATABASE "{target}" TEMPLATE "{template}"')
        conn.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = target
    yield
    with django_db_blocker.unblock():
        conn.close()
        execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


# Debian's chromium driven by Playwright, one per session: tests/browser and tests/prodstack share
# it (Playwright's sync API cannot be started twice in one process).
@pytest.fixture(scope="session")
def browser():
    from tests.browser.conftest import CHROMIUM, IN_CI

    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"chromium introuvable ({CHROMIUM}) : les tests navigateur sont obligatoires en CI.")
        pytest.skip(f"CHROMIUM ABSENT ({CHROMIUM}) : test navigateur non exécuté.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(db):
    return DemoAccounts.get()


@pytest.fixture
def matrix_context(demo):
    """Objects the matrix routes need for their URL arguments. Each ``tests/matrix/<app>.py``
    may define ``context(demo) -> dict`` to add its own."""
    import importlib
    import pkgutil

    from tests import matrix

    ctx = {"demo": demo}
    for mod in pkgutil.iter_modules(matrix.__path__):
        module = importlib.import_module(f"tests.matrix.{mod.name}")
        if hasattr(module, "context"):
            ctx.update(module.context(demo))
    return ctx


@pytest.fixture(autouse=True)
def _transactional_tests_restore_the_database(request):
    """A transactional test empties every table when it ends; Django then recreates the content
    types, which the next serialized test inserts again (duplicate key). So every transactional
    test of this suite restores the database (serialized_rollback): the suite passes in any order."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction"))
    serialized = "django_db_serialized_rollback" in request.fixturenames or (
        marker is not None and marker.kwargs.get("serialized_rollback"))
    if transactional and not serialized:
        pytest.fail("Test transactionnel sans serialized_rollback=True : il viderait la base pour les suivants.")

"""Strict test settings shared by the whole suite.

- Unknown template variables in *our* templates make the test fail (third-party templates,
  e.g. Django admin, are left alone).
- Tests run in random order (pytest-randomly); seed printed in the header.
- ``demo`` gives the eight demo accounts of ``seed_demo`` plus two edge cases.
"""

import inspect
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines

from tests.helpers import DemoAccounts
from tests.workers import celery_worker_on_redis  # noqa: F401 (fixture for the real-worker tests)

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        DemoAccounts.create()


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

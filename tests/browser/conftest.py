"""Playwright (Python) driving Debian's chromium against pytest-django's live server.

Never downloads a browser: ``CHROMIUM_PATH`` (default /usr/bin/chromium). Every page a test
visits can be checked with axe-core (``AXE_CORE_PATH``, installed from the npm registry by
tests/run_suite.py): no serious or critical violation is allowed.
"""

import base64
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = os.environ.get("AXE_CORE_PATH", str(Path(__file__).resolve().parents[2] / ".cache/node/node_modules/axe-core/axe.min.js"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="fr-FR", accept_downloads=True, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    yield page
    context.close()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_.-]+', '_', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_a11y(page, name):
    """Run axe-core in the page; fail on any serious or critical violation."""
    if not Path(AXE).exists():
        if IN_CI:
            pytest.fail(f"axe-core introuvable ({AXE}).")
        pytest.skip("AXE-CORE ABSENT : contrôle d’accessibilité non exécuté.")
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    screenshot(page, name)
    assert not bad, f"{name} : violations d’accessibilité " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )


def totp_now(secret_b32):
    from django_otp.oath import totp

    key = base64.b32decode(secret_b32.replace(" ", ""))
    return f"{totp(key):06d}"


def log_in(page, email, password):
    page.goto(page.base + "/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]:has-text('Se connecter')")
    if "/connexion/second-facteur/" in page.url:
        check_a11y(page, f"second_factor_{email}")
        secret = page.text_content("#totp-secret") if page.locator("#totp-secret").count() else None
        if secret:
            page.fill("#id_token", totp_now(secret))
        else:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from referentiel.models import Agent

            device = TOTPDevice.objects.get(user=Agent.objects.get(email=email), confirmed=True)
            page.fill("#id_token", totp_now(base64.b32encode(device.bin_key).decode()))
        page.click("button[type=submit]:has-text('Valider')")
    page.wait_for_load_state("networkidle")

"""No Content-Security-Policy violation in the browser console on the main pages of every
kind of account (issue 10, item 12): the policy has no 'unsafe-inline' for styles, so an
inline style attribute, a <style> block or a style set through setAttribute would show here.
The page fixture of conftest.py bypasses the CSP (axe-core is injected inline): this test
opens its own context, with the policy enforced."""

import base64

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import screenshot, totp_now

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def strict_page(browser, live_server):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    page.console_violations = []
    page.on("console", lambda m: page.console_violations.append(m.text)
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text else None)
    yield page
    context.close()


def _visit(page, path, seen):
    page.goto(page.base + path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let the DSFR scripts run
    assert page.url == page.base + path, f"{path} → {page.url}"  # really there, not sent to the login page
    _collect(page, path, seen)


def _collect(page, where, seen):
    events = page.evaluate("window.__csp || []")
    assert page.evaluate("typeof window.__csp") == "object", f"{where} : enregistreur absent"
    seen.extend(f"{where} : {v}" for v in events + page.console_violations)
    page.console_violations.clear()
    seen_pages.append(where)


seen_pages = []


def _log_in(page, email, seen):
    _visit(page, "/connexion/", seen)
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_DEMO_PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_load_state("load")
    if "/connexion/second-facteur/" in page.url:
        _collect(page, "second-facteur " + email, seen)
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from referentiel.models import Agent

        device = TOTPDevice.objects.filter(user=Agent.objects.get(email=email), confirmed=True).first()
        if device is None:  # first login: the enrolment page shows the secret and the QR code
            secret = page.text_content("#totp-secret")
        else:
            secret = base64.b32encode(device.bin_key).decode()
        page.fill("#id_token", totp_now(secret))
        page.click("button[type=submit]:has-text('Valider')")
        page.wait_for_load_state("load")
    _collect(page, "accueil " + email, seen)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_csp_violation_on_the_main_pages(strict_page, browser):
    from django.core.management import call_command

    from exchanges import periods
    from exchanges.extracts.services import build_for_list
    from meetings.models import Meeting
    from referentiel.models import Agent
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    period = periods.current()
    validated = make_list("69", periods.previous(period), uploaded_by=siao, validated_by=siao, rows=4)
    draft = make_list("69", period, uploaded_by=siao, state="draft", rows=4)
    extract, _ = build_for_list(validated.pk)
    page, seen = strict_page, []
    seen_pages.clear()

    for path in ("/mentions-legales/", "/accessibilite/", "/donnees-personnelles/", "/mot-de-passe/oubli/"):
        _visit(page, path, seen)
    # The recorder works: an inline style attribute added now is refused and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">témoin</p>')")
    page.wait_for_timeout(300)
    probe = page.evaluate("window.__csp.splice(0)")
    assert any(v.startswith("style-src") for v in probe), f"style en ligne non bloqué : {probe}"
    page.console_violations.clear()

    _log_in(page, "siao.69@demo.test", seen)
    row = draft.rows.order_by("line_number").first()
    for path in ("/listes/", "/listes/departement/69/deposer/", f"/listes/{draft.pk}/",
                 f"/listes/{draft.pk}/lignes/", f"/listes/{draft.pk}/lignes/{row.pk}/", "/commissions/"):
        _visit(page, path, seen)
    screenshot(page, "csp_siao_commissions")
    page.context.clear_cookies()

    _log_in(page, "dt.lyon@demo.test", seen)
    for path in ("/listes/extraits/", "/listes/extraits/departement/69/", "/commissions/"):
        _visit(page, path, seen)
    page.goto(page.base + "/listes/extraits/departement/69/")
    page.click(f"form[action$='/extraits/{extract.pk}/mot-de-passe/'] button")
    page.wait_for_load_state("load")
    assert page.locator("#archive-password").count() == 1
    _collect(page, "mot de passe", seen)
    page.context.clear_cookies()

    _log_in(page, "admin@demo.test", seen)
    for path in ("/admin/", "/admin/audit/auditevent/", "/admin/referentiel/agent/",
                 f"/admin/referentiel/agent/{siao.pk}/change/", "/admin/referentiel/departement/"):
        _visit(page, path, seen)
    screenshot(page, "csp_admin_departements")
    page.context.clear_cookies()

    _log_in(page, "prefecture.69@demo.test", seen)
    _visit(page, "/commissions/", seen)
    if Meeting.objects.exists():
        _visit(page, f"/commissions/{Meeting.objects.first().pk}/", seen)

    assert len(seen_pages) >= 20
    assert not seen, "violations de la CSP :\n" + "\n".join(seen)

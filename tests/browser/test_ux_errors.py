"""Issue 13 point 13 in the browser: 405 page, CSRF failure page, idle-expiry notice on the login
page; each passes axe-core and is screenshotted."""

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in


def _seed():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_error_pages_are_readable(page, settings):
    from django.contrib.sessions.models import Session

    from referentiel.models import Agent
    from tests.factories import make_list

    settings.SESSION_IDLE_TIMEOUT_MINUTES = 20
    _seed()
    agent = Agent.objects.get(email="siao.69@demo.test")
    ml = make_list("69", "2026-11", uploaded_by=agent, validated_by=agent)
    log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)

    response = page.goto(page.base + f"/listes/{ml.pk}/corriger/")
    assert response.status == 405
    assert page.text_content("h1") == "Action impossible depuis cette adresse"
    check_a11y(page, "error_405")

    Session.objects.all().delete()  # the idle expiry, server side
    page.goto(page.base + "/listes/")
    assert "/connexion/" in page.url
    notice = page.text_content("#session-expired")
    assert "Session expirée" in notice and "fermée après 20 minutes d’inactivité" in notice
    check_a11y(page, "login_after_idle_expiry")

    page.context.clear_cookies()
    page.goto(page.base + "/connexion/")
    page.context.clear_cookies()  # the CSRF cookie is gone (another tab logged out, cookies cleared…)
    page.fill("#id_username", "siao.69@demo.test")
    page.fill("#id_password", DEFAULT_DEMO_PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_selector("h1")
    assert page.text_content("h1") == "Formulaire expiré"
    assert page.evaluate("document.documentElement.lang") == "fr"
    check_a11y(page, "error_csrf")

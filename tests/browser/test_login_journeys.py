"""Each demo account logs in through the real login page (and the second factor where its
role requires one), lands on its own home page, and every page passes axe-core."""

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot

HOME_SECTIONS = {
    "admin@demo.test": ["#section-admin", "#departements-sans-dt"],
    "siege@demo.test": ["#section-ofii", "#section-commissions", "#departements-sans-dt"],
    "dt.lyon@demo.test": ["#section-ofii", "#section-commissions"],
    "dt.paris@demo.test": ["#section-ofii", "#section-commissions"],
    "siao.69@demo.test": ["#section-siao", "#section-commissions"],
    "siao.75@demo.test": ["#section-siao", "#section-commissions"],
    "siao-dna.69@demo.test": ["#section-siao", "#section-dna"],
    "prefecture.69@demo.test": ["#section-commissions"],
}
ABSENT = {
    "dt.lyon@demo.test": ["#section-siao", "#section-admin", "#departements-sans-dt"],
    "siao.69@demo.test": ["#section-ofii", "#section-dna", "#section-admin"],
    "prefecture.69@demo.test": ["#section-ofii", "#section-siao", "#section-admin"],
}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("email", list(HOME_SECTIONS))
def test_demo_account_home(page, email):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, email, DEFAULT_DEMO_PASSWORD)
    assert page.url.rstrip("/") == page.base, page.url
    assert page.text_content("#current-user").strip() == email
    for selector in HOME_SECTIONS[email]:
        assert page.is_visible(selector), f"{selector} absent pour {email}"
    for selector in ABSENT.get(email, []):
        assert page.locator(selector).count() == 0, f"{selector} visible pour {email}"
    check_a11y(page, f"home_{email}")
    if "dt.lyon" in email:
        assert "69 Rhône" in page.text_content("#section-ofii")
        assert "75" not in page.text_content("#section-ofii")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_public_pages_and_login_are_accessible(page):
    for path, name in [("/connexion/", "login"), ("/mentions-legales/", "mentions"),
                       ("/accessibilite/", "accessibilite"), ("/donnees-personnelles/", "donnees")]:
        page.goto(page.base + path)
        check_a11y(page, f"public_{name}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_wrong_password_then_lockout_message(page, settings):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(page.base + "/connexion/")
        page.fill("#id_username", "siao.69@demo.test")
        page.fill("#id_password", "mauvais-mot-de-passe")
        page.click("button[type=submit]:has-text('Se connecter')")
    assert "bloqué" in page.text_content("main")
    screenshot(page, "lockout")

"""Issue 13 points 7, 11, 12 in the browser: the administrator creates an agent and lands on the
habilitation form for it; agent add, habilitation add, the admin audit list and the audit
journal pass axe-core (no serious or critical violation)."""

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_pages_accessible_and_agent_flow(page):
    from django.core.management import call_command

    from referentiel.models import Agent

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, "admin@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(page.base + "/admin/")
    assert "Second facteur (TOTP)" in page.content() and "Intervalles" in page.content()
    check_a11y(page, "admin_index")

    page.goto(page.base + "/admin/referentiel/agent/add/")
    assert page.text_content("h1") == "Ajouter un agent"
    check_a11y(page, "admin_agent_add")
    page.fill("#id_email", "nina.nouvel@exemple.gouv.fr")
    page.fill("#id_first_name", "Nina")
    page.fill("#id_last_name", "Nouvel")
    page.click("input[name=_save]")
    page.wait_for_selector("h1:has-text('Accorder une habilitation')")
    agent = Agent.objects.get(email="nina.nouvel@exemple.gouv.fr")
    assert page.url.endswith(f"/admin/referentiel/habilitation/add/?agent={agent.pk}")
    assert page.eval_on_selector("#id_agent", "el => el.value") == str(agent.pk)
    check_a11y(page, "admin_habilitation_add")

    page.goto(page.base + "/admin/audit/auditevent/")
    check_a11y(page, "admin_audit_list")
    page.goto(page.base + "/journal/")
    assert page.locator("#audit-filters input.fr-input").count() == 4
    assert page.locator("#audit-filters select.fr-select").count() == 1
    check_a11y(page, "audit_journal")

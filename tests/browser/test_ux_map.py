"""Issue 13 point 8: headquarters' national view has a server-drawn map of France (métropole and
the five overseas départements), coloured by state with patterns and a text legend, each
département a focusable link with an accessible name, the table kept, the same filters."""

import datetime

import pytest
from django.utils import timezone

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_national_map(page):
    from django.core.management import call_command

    from exchanges import periods
    from referentiel.models import Agent, DirectionTerritoriale
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    period = periods.previous(periods.current())  # its deadline has passed: missing lists are "Manquante"
    on_time = make_list("69", period, uploaded_by=siao, validated_by=siao)
    on_time.validated_at = timezone.make_aware(datetime.datetime.combine(periods.deadline(period), datetime.time(9)))
    on_time.save()
    late = make_list("42", period, uploaded_by=siao, validated_by=siao)
    late.is_late = True
    late.save()

    log_in(page, "siege@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(page.base + f"/listes/extraits/?period={period}")
    links = page.locator("#france-map a.app-map__dep")
    assert links.count() == 101  # 96 in métropole + 971, 972, 973, 974, 976
    assert page.get_attribute('#france-map a[data-code="69"]', "aria-label") == "69 Rhône : validée dans les délais"
    assert page.get_attribute('#france-map a[data-code="42"]', "aria-label") == "42 Loire : validée en retard"
    assert page.get_attribute('#france-map a[data-code="01"]', "aria-label") == "01 Ain : manquante"
    assert page.get_attribute('#france-map a[data-code="01"] path', "fill") == "url(#p-missing)"
    for code in ("971", "972", "973", "974", "976"):
        assert page.locator(f'#france-map a[data-code="{code}"]').count() == 1
    legend = page.text_content("#france-map .app-map__legend")
    assert "Validée dans les délais (1)" in legend and "Validée en retard (1)" in legend and "Manquante (99)" in legend
    assert page.is_visible("#extracts-table")  # the table equivalent stays
    # Keyboard: the départements are in the tab order and open the département's page.
    page.focus('#france-map a[data-code="69"]')
    assert page.evaluate("document.activeElement.getAttribute('data-code')") == "69"
    page.keyboard.press("Enter")
    page.wait_for_url("**/listes/extraits/departement/69/")
    page.go_back()
    check_a11y(page, "national_map")

    # Same filters as the table: one DT only, the others drawn neutral and not links.
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    page.goto(page.base + f"/listes/extraits/?period={period}&dt={lyon.pk}")
    assert page.locator("#france-map a.app-map__dep").count() == lyon.departements.count()
    assert page.locator('#france-map path[data-code="75"][data-state="outside"]').count() == 1
    assert page.locator("#extracts-table tbody tr").count() == lyon.departements.count()
    check_a11y(page, "national_map_dt_lyon")
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto(page.base + f"/listes/extraits/?period={period}")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, "national_map_320")

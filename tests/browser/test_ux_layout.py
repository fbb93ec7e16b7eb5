"""Issue 13 point 2: no horizontal page scroll at 1280 px and 320 px on the list pages, the OFII
dashboard and the agenda (wide tables scroll inside their own box); axe-core on each page."""

import datetime

import pytest
from django.utils import timezone

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot

NO_PAGE_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _setup():
    from django.core.management import call_command

    from exchanges.models import ListRow, ListState
    from meetings.models import Meeting
    from meetings.services.agenda import build_agenda
    from referentiel.models import Agent, Departement
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    period = timezone.localdate().strftime("%Y-%m")
    validated = make_list("69", period, uploaded_by=siao, validated_by=siao, rows=6)
    ListRow.objects.filter(monthly_list=validated).update(
        shelter_address="Centre d’hébergement d’urgence Jean-Macé, 125 avenue Berthelot, 69007 Lyon 7e Arrondissement",
        ada_flag=True, warnings=[{"column": "NOM", "field": "last_name", "message": "à vérifier"}])
    draft = make_list("69", period, uploaded_by=siao, state=ListState.DRAFT, rows=6, version=2, start=20)
    ListRow.objects.filter(monthly_list=draft).update(
        last_name="NOM-TRÈS-LONG-DE-FAMILLE-COMPOSÉ", shelter_address=validated.rows.first().shelter_address,
        errors=[{"column": "Sexe", "field": "sex", "message": "sexe inconnu"}], agdref="1234567890",
        nationality="République démocratique du Congo")
    draft.report = {"with_agdref": True}
    draft.save()
    dt = Agent.objects.get(email="dt.lyon@demo.test")
    meeting = Meeting.objects.create(departement=Departement.objects.get(code="69"), place="Préfecture du Rhône",
                                     starts_at=timezone.now() + datetime.timedelta(days=10),
                                     created_by=Agent.objects.get(email="prefecture.69@demo.test"))
    build_agenda(dt, meeting)
    return draft, meeting


def _check(page, path, name, widths=(1280, 320)):
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(page.base + path)
        page.wait_for_load_state("networkidle")
        sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        check_a11y(page, f"layout_{name}_{width}")
        assert page.evaluate(NO_PAGE_SCROLL), f"{path} à {width} px : la page défile horizontalement {sizes}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_horizontal_page_scroll(page):
    draft, meeting = _setup()
    log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)
    _check(page, f"/listes/{draft.pk}/lignes/", "rows")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base + f"/listes/{draft.pk}/lignes/")
    # At 1280 px every column of the rows table, ADA and Anomalies included, is on screen.
    box = page.locator("#rows th:has-text('Anomalies')").bounding_box()
    assert box["x"] + box["width"] <= 1280, box
    _check(page, "/listes/", "my_lists")
    _check(page, f"/listes/{draft.pk}/", "report")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_load_state("networkidle")
    log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
    _check(page, "/listes/extraits/", "extracts")
    _check(page, f"/commissions/{meeting.pk}/ordre-du-jour/", "agenda")
    # The DT reaches "Télécharger" without scrolling the page sideways at 320 px.
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto(page.base + "/listes/extraits/")
    screenshot(page, "layout_extracts_320_final")

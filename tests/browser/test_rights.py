"""Rights of access (R.744-52) in the browser: siège searches a person and downloads the CSV
export; the personal-data page links the notice. Accessibility checked with axe-core."""

import csv
import datetime
import io

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_headquarters_answers_an_access_request(page):
    from django.core.management import call_command

    from exchanges.models import ListRow
    from referentiel.models import Agent
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    ml = make_list("69", "2026-11", uploaded_by=siao, validated_by=siao, rows=2)
    row = ListRow.objects.filter(monthly_list=ml).first()
    row.last_name, row.first_name, row.birth_date = "Müller-Diop", "Zoé", datetime.date(1988, 6, 7)
    row.save()

    page.goto(f"{page.base}/donnees-personnelles/")
    assert page.locator("#notices a").count() == 2
    check_a11y(page, "personal_data")

    log_in(page, "siege@demo.test", DEFAULT_DEMO_PASSWORD)
    page.click("a:has-text('Droits des personnes')")
    page.fill("#id_nom", "muller diop")
    page.fill("#id_prenom", "ZOE")
    page.fill("#id_naissance", "1988-06-07")
    page.click("button:has-text('Rechercher')")
    page.wait_for_load_state("networkidle")
    assert page.locator(".person").count() == 1
    assert "Müller-Diop" in page.text_content(".person")
    check_a11y(page, "rights_search_results")
    screenshot(page, "rights_search_results")
    with page.expect_download() as dl:
        page.click("button:has-text('Exporter tout (CSV)')")
    text = open(dl.value.path(), encoding="utf-8-sig").read()
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=";") if r and r[0] == "Lignes des listes mensuelles"]
    assert [(r[6], r[7]) for r in rows] == [("Müller-Diop", "Zoé")]

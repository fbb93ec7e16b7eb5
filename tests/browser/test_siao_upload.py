"""siao.69 uploads a list with errors, sees them with row numbers and column names, fixes
them in the browser, validates, and sees the list as validated. Every page passes axe-core."""

import re

import pytest

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot
from tests.exchanges import samples


@pytest.fixture(autouse=True)
def _period_2026_11(monkeypatch):
    """The samples are written for November 2026 (the live server runs in this process)."""
    from exchanges.services import workflow

    monkeypatch.setattr(workflow, "current_period", lambda today=None: "2026-11")


def _seed():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_siao_uploads_fixes_and_validates(page):
    from exchanges.models import ListState, MonthlyList

    _seed()
    log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)
    page.click("#link-my-lists")
    page.wait_for_url(re.compile(r"/listes/$"))
    assert "Mes listes" in page.text_content("h1") and page.is_visible("#departement-69")
    check_a11y(page, "exchanges_my_lists")

    page.click("#departement-69 a:has-text('Déposer une liste')")
    check_a11y(page, "exchanges_upload")
    page.set_input_files("#id_file", files=[{"name": "liste_novembre.csv", "mimeType": "text/csv",
                                             "buffer": samples.csv_bytes(samples.GOOD + samples.BAD)}])
    page.click("button:has-text('Déposer et analyser')")
    page.wait_for_selector("#issues")
    ml = MonthlyList.objects.get()
    assert page.url.endswith(f"/listes/{ml.pk}/")
    table = page.text_content("#issues")
    assert "31/02/1990" in table and "Date de naissance" in table and "Situation administrative" in table
    row5 = page.locator("#issues tr", has_text="date impossible")
    assert row5.locator("td").first.text_content().strip() == "5"
    assert page.is_disabled("#validate-action")
    assert page.text_content("#error-count").strip() == "2"
    check_a11y(page, "exchanges_report_with_errors")

    # Fix row 5 (impossible birth date) in the browser.
    row5.locator("a:has-text('Corriger')").click()
    page.wait_for_selector("#row-form")
    assert "Valeur lue dans le fichier : « 31/02/1990 »" in page.text_content("#row-form")
    check_a11y(page, "exchanges_row_edit")
    page.fill("#id_birth_date", "28/02/1990")
    page.click("button:has-text('Enregistrer la ligne')")
    page.wait_for_selector("#issues")
    assert "Ligne 5 corrigée" in page.content()

    # Fix row 6 (missing name, unknown sex, non-transmissible status, entry date after the month).
    page.locator("#issues tr", has_text="valeur manquante").locator("a:has-text('Corriger')").first.click()
    page.wait_for_selector("#row-form")
    page.fill("#id_last_name", "SANS")
    page.select_option("#id_sex", "M")
    page.select_option("#id_status", "DA")
    page.fill("#id_entry_date", "02/11/2026")
    page.click("button:has-text('Enregistrer la ligne')")
    page.wait_for_selector("#issues")
    assert page.text_content("#error-count").strip() == "0"
    page.click("#validate-action")
    page.wait_for_selector("#validate-recap")
    recap = page.text_content("#validate-recap")
    assert "5 ligne(s) transmise(s) pour novembre 2026" in recap and "Aucune ligne en erreur" in recap
    assert "DT Lyon (direction territoriale de l’OFII) et le siège de l’OFII" in page.text_content("#validate-next")
    assert ml.refresh_from_db() or ml.state == ListState.DRAFT  # the recap changes nothing
    check_a11y(page, "exchanges_validate_recap")
    page.click("#validate-form button")
    page.wait_for_selector("#list-state")
    assert "Liste validée" in page.content()
    assert "Validée" in page.text_content("#list-state")
    ml.refresh_from_db()
    assert ml.state == ListState.VALIDATED and ml.validated_by.email == "siao.69@demo.test"
    check_a11y(page, "exchanges_report_validated")

    page.click("a:has-text('Voir toutes les lignes')")
    page.wait_for_selector("#rows")
    assert "SANS" in page.text_content("#rows")
    check_a11y(page, "exchanges_rows")

    page.click("nav#navigation a:has-text('Mes listes')") if page.is_visible("nav#navigation") else page.goto(page.base + "/listes/")
    page.wait_for_selector("#departement-69")
    assert "Validée" in page.text_content("#departement-69")
    screenshot(page, "exchanges_my_lists_validated")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_mapping_step_and_progress_bar(page):
    import threading

    from exchanges.models import MonthlyList
    from exchanges.services import workflow
    from referentiel.models import Agent, Departement

    _seed()
    log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)
    header = list(samples.HEADER_FR)
    header[3] = "F/H"
    page.goto(page.base + "/listes/departement/69/deposer/")
    page.set_input_files("#id_file", files=[{"name": "liste.csv", "mimeType": "text/csv",
                                             "buffer": samples.csv_bytes(samples.GOOD, header)}])
    page.click("button:has-text('Déposer et analyser')")
    page.wait_for_selector("#mapping-form")
    check_a11y(page, "exchanges_mapping")
    page.select_option("#id_sex", "3")
    page.click("button:has-text('Analyser avec ces colonnes')")
    page.wait_for_selector("#issues")
    assert page.text_content("#error-count").strip() == "0"

    # The progress page polls the JSON status and moves on by itself (JS in static/js).
    agent = Agent.objects.get(email="siao.69@demo.test")
    ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11", samples.xlsx_bytes(samples.GOOD),
                                 name="liste.xlsx", user=agent, run=False)
    page.goto(page.base + f"/listes/{ml.pk}/traitement/")
    assert page.is_visible("#progress-bar")
    check_a11y(page, "exchanges_processing")
    worker = threading.Thread(target=workflow.process_list, args=(ml.pk,))
    worker.start()
    worker.join()
    page.wait_for_url(re.compile(rf"/listes/{ml.pk}/$"), timeout=20_000)
    assert MonthlyList.objects.get(pk=ml.pk).state == "draft"
    assert page.text_content("#error-count").strip() == "0"

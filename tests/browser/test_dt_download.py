"""dt.lyon sees the 69 list as validated, downloads the archive, reveals the password through
the separate action, and the downloaded file opens with that password."""

import datetime

import pytest
import pyzipper
from django.utils import timezone

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dt_lyon_downloads_and_opens_the_69_archive(page, tmp_path):
    from django.core.management import call_command

    from exchanges import periods
    from exchanges.extracts.services import build_for_list
    from exchanges.models import MonthlyList
    from referentiel.models import Agent
    from siao_ofii.audit.models import AuditAction, AuditEvent
    from tests.exchanges_extracts.helpers import csv_rows, xlsx_rows
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    period = periods.current()
    ml = make_list("69", period, uploaded_by=siao, validated_by=siao, rows=12)
    on_time = timezone.make_aware(datetime.datetime.combine(periods.deadline(period), datetime.time(9)))
    MonthlyList.objects.filter(pk=ml.pk).update(validated_at=on_time)
    extract, _ = build_for_list(ml.pk)

    log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
    page.click("#section-ofii a:has-text('Listes reçues')")
    page.wait_for_url("**/listes/extraits/")
    row = page.locator("#dep-69")
    assert "Validée dans les délais" in row.text_content()
    assert page.locator("#dep-75").count() == 0
    check_a11y(page, "extracts_dashboard_dt_lyon")

    page.click("#dep-69 a:has-text('69 Rhône')")
    page.wait_for_url("**/listes/extraits/departement/69/")
    assert "7-Zip" in page.text_content("#aide-ouverture")
    check_a11y(page, "extracts_departement_69")

    with page.expect_download() as info:
        page.click(f"#month-{period} #download-{extract.pk}")
    download = info.value
    assert download.suggested_filename == extract.file_name
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    page.click(f"#month-{period} #reveal-{extract.pk}")
    page.wait_for_selector("#archive-password")
    password = page.text_content("#archive-password").strip()
    assert "mot-de-passe" in page.url and password not in page.url
    check_a11y(page, "extracts_password")

    with pyzipper.AESZipFile(saved) as zf:
        zf.setpassword(password.encode())
        members = {name: zf.read(name) for name in zf.namelist()}
    _, ws = xlsx_rows(members[extract.file_name.replace(".zip", ".xlsx")])
    assert ws.max_row == 13
    assert len(csv_rows(members[extract.file_name.replace(".zip", ".csv")])) == 13

    page.click("a:has-text('Retour aux listes du département')")
    history = page.text_content("#download-history")
    assert history.count("dt.lyon@demo.test") == 2
    assert "Téléchargement" in history and "Affichage du mot de passe" in history
    screenshot(page, "extracts_departement_69_history")
    dt_lyon = Agent.objects.get(email="dt.lyon@demo.test")
    assert AuditEvent.objects.filter(actor=dt_lyon, action=AuditAction.DOWNLOAD).count() == 1
    assert AuditEvent.objects.filter(actor=dt_lyon, action=AuditAction.PASSWORD_REVEAL).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_headquarters_dashboard_is_accessible(page):
    from django.core.management import call_command

    from exchanges import periods
    from exchanges.extracts.services import build_for_list
    from referentiel.models import Agent
    from tests.factories import make_list

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    siao = Agent.objects.get(email="siao.69@demo.test")
    for code in ("69", "2A"):
        build_for_list(make_list(code, periods.current(), uploaded_by=siao, rows=3).pk)
    log_in(page, "siege@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(page.base + "/listes/extraits/")
    assert "Sans DT — siège uniquement" in page.text_content("#dep-2A")
    check_a11y(page, "extracts_dashboard_siege")
    page.select_option("#id_dt", "sans")
    page.click("#extract-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    from referentiel.models import Departement

    assert page.locator("#extracts-table tbody tr").count() == Departement.objects.without_dt().count()
    assert page.locator("#dep-2A").count() == 1 and page.locator("#dep-69").count() == 0

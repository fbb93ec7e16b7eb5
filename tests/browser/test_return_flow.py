"""The return flow in a browser (Debian's chromium): dt.lyon uploads the sample return file for
69 (and sees a file with an extra column refused); siao-dna.69 sees it waiting, downloads the
archive, reveals its password, opens the archive with it, and sees the persons of the SIAO's
list found in the flow; siao.69 cannot reach any of it. Every new page passes axe-core."""

import datetime
import zoneinfo

import pytest
import pyzipper
import time_machine

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot

START = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))


def _persons_list():
    """The 69 validated list of November 2026: two persons of the sample return file (one under
    her usage name, spelled without accents), one namesake born another day, one stranger."""
    from exchanges.models import ListRow
    from referentiel.models import Agent
    from tests.factories import make_list

    siao = Agent.objects.get(email="siao.69@demo.test")
    ml = make_list("69", "2026-11", uploaded_by=siao, validated_by=siao, rows=4)
    persons = [("N'GUESSAN FICTIF", "Aicha", datetime.date(1994, 2, 14)),
               ("Leblanc-Demo", "Zoe", datetime.date(1988, 7, 3)),
               ("OMAROV-TEST", "Rustam", datetime.date(1979, 11, 22)),
               ("DUPONT-FICTIF", "Jean", datetime.date(1980, 1, 1))]
    for row, (last, first, birth) in zip(ListRow.objects.filter(monthly_list=ml).order_by("line_number"), persons):
        row.last_name, row.first_name, row.birth_date = last, first, birth
        row.save()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_return_flow_end_to_end(page, tmp_path):
    from django.core.management import call_command

    from exchanges.models import ReturnArchive, ReturnRow
    from tests.exchanges_returns.helpers import SAMPLE

    from referentiel.models import Habilitation

    with time_machine.travel(START, tick=True):
        # The session's demo accounts (tests/conftest.py) may still be there, with habilitations
        # starting on the frozen today, after START: seed_demo would refuse to grant overlapping
        # ones (the test failed whenever it ran before any transactional test had emptied the
        # database). The journey starts from habilitations granted at START.
        Habilitation.objects.filter(agent__email__endswith="@demo.test").delete()
        call_command("seed_demo", stdout=open("/dev/null", "w"))
        _persons_list()

        # --- dt.lyon uploads the month's return file for 69 --------------------------------
        log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
        page.click("#section-return-ofii a")
        page.wait_for_url("**/listes/flux-retour/")
        assert "Non transmis" in page.text_content("#return-dep-69")
        assert page.locator("#return-dep-75").count() == 0
        check_a11y(page, "returns_dashboard_dt_lyon")

        page.click("#upload-69")
        page.wait_for_url("**/listes/flux-retour/departement/69/deposer/")
        check_a11y(page, "returns_upload")
        page.set_input_files("#id_file", files=[{
            "name": "dna_69.csv", "mimeType": "text/csv",
            "buffer": SAMPLE.read_bytes().replace(b"Modalit\xc3\xa9s de sortie\r\n", b"Modalit\xc3\xa9s de sortie;T\xc3\xa9l\xc3\xa9phone\r\n"),
        }])
        page.click("button:has-text('Déposer et analyser')")
        page.wait_for_selector("#file-errors")
        assert "« Téléphone »" in page.text_content("#file-errors") and "R744-48" in page.text_content("#file-errors")
        assert ReturnRow.objects.count() == 0
        check_a11y(page, "returns_refused_extra_column")

        page.click("a:has-text('Déposer un nouveau fichier')")
        page.set_input_files("#id_file", str(SAMPLE))
        page.click("button:has-text('Déposer et analyser')")
        page.wait_for_selector("#stored")
        assert "4 personnes enregistrées" in page.text_content("#stored")
        check_a11y(page, "returns_stored")
        page.click("a:has-text('Retour au flux retour')")
        assert "Transmis" in page.text_content("#return-dep-69")
        archive = ReturnArchive.objects.get()

        # --- siao-dna.69 sees it waiting, downloads it, reveals the password ----------------
        page.context.clear_cookies()
        log_in(page, "siao-dna.69@demo.test", DEFAULT_DEMO_PASSWORD)
        assert "1 archive en attente" in page.text_content("#return-waiting")
        page.click("#section-dna a")
        page.wait_for_url("**/listes/flux-retour/recus/")
        assert "1 archive à télécharger" in page.text_content("#waiting")
        check_a11y(page, "returns_inbox")
        with page.expect_download() as info:
            page.click(f"#download-{archive.pk}")
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.name == "DNA_069_2026-11_v1.zip"
        page.click(f"#reveal-{archive.pk}")
        page.wait_for_selector("#archive-password")
        password = page.text_content("#archive-password").strip()
        assert password not in page.url
        check_a11y(page, "returns_password")
        with pyzipper.AESZipFile(saved) as zf:
            zf.setpassword(password.encode())
            csv_text = zf.read("DNA_069_2026-11_v1.csv").decode("utf-8-sig")
        assert csv_text.count("\r\n") == 5 and "KOVALENKO-EXEMPLE" in csv_text

        page.click("a:has-text('Retour au flux retour reçu')")
        page.click("#crosscheck-69")
        page.wait_for_selector("#flagged")
        flagged = page.locator("#flagged tbody tr.flagged-person")
        assert flagged.count() == 2
        table = page.text_content("#flagged")
        assert "N'GUESSAN FICTIF" in table and "12/10/2026" in table  # refusal date
        assert "Leblanc-Demo" in table and "20/10/2026" in table  # non-presentation date
        assert "OMAROV-TEST" not in table and "DUPONT-FICTIF" not in table
        check_a11y(page, "returns_crosscheck")

        # --- siao.69 (no prefect's habilitation) reaches none of it ------------------------
        page.context.clear_cookies()
        log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)
        assert page.locator("#section-dna").count() == 0
        assert page.locator("a.fr-nav__link:has-text('Flux retour')").count() == 0
        for path in ("/listes/flux-retour/recus/", "/listes/flux-retour/recus/departement/69/rapprochement/",
                     f"/listes/flux-retour/archives/{archive.pk}/telecharger/", "/listes/flux-retour/"):
            response = page.goto(page.base + path)
            assert response.status == 403, (path, response.status)
        screenshot(page, "returns_siao_69_refused")

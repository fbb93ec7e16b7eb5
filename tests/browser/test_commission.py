"""The commission journey in the browser: the prefecture schedules, the DT agent prepares the
agenda, records outcomes and downloads the minutes; another département sees none of it."""

import datetime
import io

import pytest
from django.core import mail
from django.utils import timezone

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in, screenshot


def _log_out(page):
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_load_state("networkidle")


def _prepare_list(period):
    from exchanges.models import ListRow, Movement
    from referentiel.models import Agent
    from tests.factories import make_list

    siao = Agent.objects.get(email="siao.69@demo.test")
    ml = make_list("69", period, uploaded_by=siao, validated_by=siao, rows=4)
    for i, row in enumerate(ListRow.objects.filter(monthly_list=ml).order_by("line_number")):
        row.movement = Movement.NEW if i == 1 else Movement.PRESENT
        row.continuous_months = [4, 1, 2, 3][i]
        row.ada_flag = i == 0
        row.save()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_commission_journey(page):
    from django.core.management import call_command

    from meetings.models import Meeting, Outcome

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    today = timezone.localdate()
    first_next = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    date = first_next.replace(day=16)
    while date.weekday() != 1:  # a Tuesday in the second half of next month
        date += datetime.timedelta(days=1)
    period = date.strftime("%Y-%m")
    _prepare_list(period)

    # 1. The prefecture of 69 schedules the commission and invites DT Lyon and SIAO 69.
    log_in(page, "prefecture.69@demo.test", DEFAULT_DEMO_PASSWORD)
    page.click("#navigation a:has-text('Commissions')")
    page.wait_for_load_state("networkidle")
    check_a11y(page, "commission_index_prefecture")
    page.click("#schedule-link")
    page.fill("#id_date", date.isoformat())
    page.fill("#id_time", "14:00")
    page.fill("#id_place", "Préfecture du Rhône, salle Rhône-Alpes")
    page.fill("#id_video_url", "https://visio.example/commission-69")
    for label in ["OFII — DT Lyon", "SIAO 69 — Rhône"]:
        page.locator("#fieldset-invited_organisations label", has_text=label).click()
    for email in ["dt.lyon@demo.test", "siao.69@demo.test"]:
        page.locator("#fieldset-invited_agents label", has_text=email).click()
    check_a11y(page, "commission_form")
    page.click("button:has-text('Planifier et envoyer les invitations')")
    page.wait_for_load_state("networkidle")
    assert "La commission est planifiée" in page.text_content("body")
    meeting = Meeting.objects.get()
    assert meeting.departement.code == "69" and meeting.period == period
    assert {o.name for o in meeting.invited_organisations.all()} == {"OFII — DT Lyon", "SIAO 69 — Rhône"}
    assert sorted(m.to[0] for m in mail.outbox) == ["dt.lyon@demo.test", "siao.69@demo.test"]
    assert all(a.get_content_type() == "text/calendar" for m in mail.outbox for a in m.attachments)
    assert page.locator(".meeting-warning").count() == 0  # 20th, list validated
    check_a11y(page, "commission_detail_prefecture")
    _log_out(page)

    # 2. The DT Lyon agent opens the agenda, records two outcomes, downloads the minutes.
    log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(f"{page.base}/commissions/?mois={period}")
    page.click(f"#month-calendar a[href='/commissions/{meeting.pk}/']")
    page.click("#agenda-link")
    page.click("#build-agenda")
    page.wait_for_load_state("networkidle")
    # default criteria: ADA flag, new arrival, 3 months or more — not NOM2 (2 months, no flag)
    assert "3 situation(s) ajoutée(s)" in page.text_content("body")
    rows = page.locator(".agenda-table tbody tr")
    assert rows.count() == 3
    assert "NOM0" in rows.nth(0).text_content()  # ADA flag first
    assert "NOM2" not in " ".join(rows.all_text_contents())
    assert "NOM2" in page.text_content("#pick-form")  # can be placed one by one
    check_a11y(page, "commission_agenda_dt")
    for decision, org in [("dna", "OFII — DT Lyon"), ("cph", "SIAO 69 — Rhône")]:
        page.locator(".outcome-link", has_text="Enregistrer la suite").first.click()
        page.select_option("#id_decision", decision)
        page.select_option("#id_responsible_organisation", label=org)
        page.fill("#id_due_date", (date + datetime.timedelta(days=30)).isoformat())
        page.fill("#id_comment", "Suite décidée en commission")
        if decision == "dna":
            check_a11y(page, "commission_outcome_form")
        page.click("button:has-text('Enregistrer la suite')")
        page.wait_for_load_state("networkidle")
    assert page.locator(".outcome-summary").count() == 2
    assert Outcome.objects.count() == 2
    screenshot(page, "commission_agenda_with_outcomes")
    page.goto(f"{page.base}/commissions/{meeting.pk}/")
    # The minutes are built by the Celery task (in-process here), the next page gives the file.
    page.click("#minutes-pdf")
    page.wait_for_selector("#minutes-download")
    screenshot(page, "commission_minutes_ready")
    check_a11y(page, "commission_minutes_ready")
    minutes_page = page.url
    with page.expect_download() as dl:
        page.click("#minutes-download")
    pdf = open(dl.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "NOM0" in text and "Orientation vers le DNA" in text
    page.goto(f"{page.base}/commissions/{meeting.pk}/")
    page.click("#minutes-xlsx")
    with page.expect_download() as dl:
        page.click("#minutes-download")
    from openpyxl import load_workbook

    assert dl.value.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert "Situations" in wb.sheetnames
    page.goto(f"{page.base}/commissions/{meeting.pk}/")
    page.locator("#agenda-link").click()
    page.locator("a:has-text('Historique')").first.click()
    check_a11y(page, "commission_history")
    _log_out(page)

    # 3. The SIAO agent of 69 reads the outcomes and may place persons of its list, not decide.
    log_in(page, "siao.69@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(f"{page.base}/commissions/{meeting.pk}/ordre-du-jour/")
    assert page.locator(".outcome-summary").count() == 2
    assert page.locator(".outcome-link").count() == 0
    assert page.locator("#agenda-form, #build-form").count() == 2
    check_a11y(page, "commission_agenda_siao")
    _log_out(page)

    # 4. The prefecture sees the agenda items, with only what the examination needs.
    log_in(page, "prefecture.69@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(f"{page.base}/commissions/{meeting.pk}/ordre-du-jour/")
    assert page.locator(".outcome-summary").count() == 2
    assert page.locator("#agenda-form, #build-form, #pick-form").count() == 0
    main = page.text_content("main")
    assert "NOM0" in main and "né(e)" not in main and "ADA non dû" not in main
    check_a11y(page, "commission_agenda_prefecture")
    screenshot(page, "commission_agenda_prefecture")
    _log_out(page)

    # 4. Another département's users see none of it.
    for email in ["siao.75@demo.test", "dt.paris@demo.test"]:
        log_in(page, email, DEFAULT_DEMO_PASSWORD)
        page.goto(f"{page.base}/commissions/?mois={period}")
        assert page.locator(f"a[href='/commissions/{meeting.pk}/']").count() == 0
        assert "Aucune commission ce mois-ci" in page.text_content("main")
        check_a11y(page, f"commission_index_{email}")
        for path in (f"/commissions/{meeting.pk}/", f"/commissions/{meeting.pk}/ordre-du-jour/",
                     minutes_page.removeprefix(page.base)):
            response = page.goto(page.base + path)
            assert response.status == 404, (email, path)
        _log_out(page)

    # 5. Headquarters sees that 69 scheduled its commission.
    log_in(page, "siege@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(f"{page.base}/commissions/suivi-national/?mois={period}")
    assert "Planifiée" in page.text_content("tr.dep-69")
    check_a11y(page, "commission_national")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_commission_secondary_pages(page):
    """A DT agent (several départements) picks the département, edits, adds a free item and
    cancels: every page passes axe-core."""
    from django.core.management import call_command

    from meetings.models import Meeting, MeetingState
    from referentiel.models import Agent, Departement

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    today = timezone.localdate()
    starts = timezone.make_aware(datetime.datetime.combine(
        (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=18), datetime.time(10, 0)))
    meeting = Meeting.objects.create(departement=Departement.objects.get(code="69"), starts_at=starts,
                                     place="DT Lyon, salle 2", created_by=Agent.objects.get(email="dt.lyon@demo.test"))
    log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(page.base + "/commissions/planifier/")
    assert page.locator("#id_departement option[value='75']").count() == 0
    check_a11y(page, "commission_choose_departement")
    page.select_option("#id_departement", "42")
    page.click("button:has-text('Continuer')")
    assert "Planifier une commission — 42 Loire" in page.text_content("h1")

    page.goto(f"{page.base}/commissions/{meeting.pk}/modifier/")
    page.fill("#id_time", "11:00")
    check_a11y(page, "commission_edit")
    page.click("button:has-text('Enregistrer et envoyer la mise à jour')")
    page.wait_for_load_state("networkidle")
    meeting.refresh_from_db()
    assert meeting.sequence == 1 and timezone.localtime(meeting.starts_at).hour == 11

    page.goto(f"{page.base}/commissions/{meeting.pk}/ordre-du-jour/ajouter/")
    page.fill("#id_text", "Bilan des places CADA vacantes dans le département")
    check_a11y(page, "commission_free_item")
    page.click("button:has-text('Ajouter')")
    page.wait_for_load_state("networkidle")
    assert "Bilan des places CADA vacantes" in page.text_content("#categorie-9 ~ div")

    page.goto(f"{page.base}/commissions/{meeting.pk}/annuler/")
    check_a11y(page, "commission_cancel")
    page.click("button:has-text('Confirmer l’annulation')")
    page.wait_for_load_state("networkidle")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED and meeting.sequence == 2
    assert "Annulée" in page.text_content("main")
    screenshot(page, "commission_cancelled")

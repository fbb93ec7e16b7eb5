"""Issue 13 point 9 in the browser: the DT agent downloads the invitation (.ics) from the
commission page; its organiser is the prefecture agent who scheduled it. axe-core on the page."""

import datetime

import pytest
from django.utils import timezone

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.browser.conftest import check_a11y, log_in


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ics_download_from_the_commission_page(page):
    from django.core.management import call_command
    from icalendar import Calendar

    from meetings.models import Meeting
    from referentiel.models import Agent, Departement

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    prefecture = Agent.objects.get(email="prefecture.69@demo.test")
    meeting = Meeting.objects.create(departement=Departement.objects.get(code="69"), place="Préfecture du Rhône",
                                     starts_at=timezone.now() + datetime.timedelta(days=10), created_by=prefecture)
    log_in(page, "dt.lyon@demo.test", DEFAULT_DEMO_PASSWORD)
    page.goto(page.base + f"/commissions/{meeting.pk}/")
    assert page.is_visible("#ics-link")
    check_a11y(page, "commission_detail_with_ics")
    with page.expect_download() as info:
        page.click("#ics-link")
    download = info.value
    assert download.suggested_filename.startswith("commission_69_") and download.suggested_filename.endswith(".ics")
    event = Calendar.from_ical(open(download.path(), "rb").read()).walk("VEVENT")[0]
    assert str(event["organizer"]) == "mailto:prefecture.69@demo.test"
    assert page.locator("#mark-held").count() == 0  # the commission is in ten days

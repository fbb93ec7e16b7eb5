"""The deadline (instruction II.A.4: "au plus tard le 10 de chaque mois"), with a frozen clock on
either side of midnight Paris time, in summer (UTC+2) and winter (UTC+1): the late flag as
computed, as stored on validation, as journaled, and as shown on the SIAO and OFII pages."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from exchanges import periods
from exchanges.extracts import services as extract_services
from exchanges.models import LateSubmission, ListState
from exchanges.services import workflow
from referentiel.models import Agent, Departement, Role
from referentiel.services import grant_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from tests.helpers import login

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.UTC


def paris(*args):
    return datetime.datetime(*args, tzinfo=PARIS)


# period, last instant on time, first instant late (Paris), the same two instants in UTC
BOUNDARIES = [
    pytest.param("2026-07", paris(2026, 7, 10, 23, 59, 59), paris(2026, 7, 11, 0, 0, 1),
                 datetime.datetime(2026, 7, 10, 21, 59, 59, tzinfo=UTC), id="summer"),
    pytest.param("2027-01", paris(2027, 1, 10, 23, 59, 59), paris(2027, 1, 11, 0, 0, 1),
                 datetime.datetime(2027, 1, 10, 22, 59, 59, tzinfo=UTC), id="winter"),
    pytest.param("2026-10", paris(2026, 10, 10, 23, 59, 59), paris(2026, 10, 11, 0, 0, 1),
                 datetime.datetime(2026, 10, 10, 21, 59, 59, tzinfo=UTC), id="october-still-summer"),
    pytest.param("2027-03", paris(2027, 3, 10, 23, 59, 59), paris(2027, 3, 11, 0, 0, 1),
                 datetime.datetime(2027, 3, 10, 22, 59, 59, tzinfo=UTC), id="march-still-winter"),
]


@pytest.mark.parametrize("period, on_time, late, on_time_utc", BOUNDARIES)
def test_deadline_is_the_end_of_the_10th_paris_time(period, on_time, late, on_time_utc):
    y, m = int(period[:4]), int(period[5:])
    assert workflow.deadline(period) == paris(y, m, 10, 23, 59, 59, 999999)
    assert periods.deadline(period) == datetime.date(y, m, 10)
    assert on_time == on_time_utc  # the offset of the season
    assert workflow.is_late(period, on_time) is False
    assert workflow.is_late(period, late) is True
    # One second after the last on-time instant, in UTC terms too.
    assert workflow.is_late(period, on_time_utc + datetime.timedelta(seconds=1)) is True
    # The 9th and the 12th, far from the boundary.
    assert workflow.is_late(period, paris(y, m, 9, 12)) is False
    assert workflow.is_late(period, paris(y, m, 12, 0, 0, 0)) is True


@pytest.mark.parametrize("period", ["2026-02", "2028-02", "2026-04", "2026-12"])
def test_deadline_every_month_is_the_10th(period):
    y, m = int(period[:4]), int(period[5:])
    assert workflow.deadline(period).date() == datetime.date(y, m, 10)
    assert workflow.is_late(period, paris(y, m, 10, 23, 59, 59)) is False
    assert workflow.is_late(period, paris(y, m, 11, 0, 0, 1)) is True


def test_is_late_without_instant_reads_the_frozen_clock(time_machine):
    time_machine.move_to(paris(2027, 1, 10, 23, 59, 59), tick=False)
    assert workflow.is_late("2027-01") is False
    time_machine.move_to(paris(2027, 1, 11, 0, 0, 1), tick=False)
    assert workflow.is_late("2027-01") is True


@pytest.fixture
def agents(demo):
    """A SIAO 69 agent and an OFII headquarters agent habilitated for 2026 and 2027 (the demo
    habilitations start on the frozen day, after some of the instants below)."""
    siao = Agent.objects.create_user("siao.annuel@demo.test", "x")
    siege = Agent.objects.create_user("siege.annuel@demo.test", "x")
    span = {"valid_from": datetime.date(2026, 1, 1), "valid_until": datetime.date(2027, 12, 31)}
    grant_habilitation(agent=siao, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                       departements=Departement.objects.filter(code="69"), **span)
    # An installation grant (granted_by=None): a SIEGE grant by one administrator stays pending
    # until headquarters approve it (R744-47).
    grant_habilitation(agent=siege, role=Role.SIEGE, granted_by=None, reason="test", **span)
    return siao, siege


HISTORY_LABELS = {"2026-07": "juillet 2026", "2027-01": "janvier 2027"}  # as the page writes the month


def _history_row(page, period):
    return page.split(f'<td class="app-nowrap">{HISTORY_LABELS[period]}</td>')[1].split("</tr>")[0]


@pytest.mark.parametrize("period, on_time, late, on_time_utc", BOUNDARIES[:2])
@pytest.mark.parametrize("side", ["on_time", "late"])
def test_validation_stores_journals_and_shows_the_late_flag(client, time_machine, agents, period, on_time, late,
                                                            on_time_utc, side):
    siao, siege = agents
    when = on_time if side == "on_time" else late
    expected_late = side == "late"
    ml = make_list("69", period, uploaded_by=siao, state=ListState.DRAFT, rows=2)
    time_machine.move_to(when, tick=False)
    workflow.validate_list(ml, siao)
    ml.refresh_from_db()
    assert ml.state == ListState.VALIDATED and ml.validated_at == when
    assert ml.is_late is expected_late
    event = AuditEvent.objects.get(action=AuditAction.LIST_VALIDATED, object_id=str(ml.pk))
    assert event.details["late"] is expected_late
    # The SIAO page shows the stored flag in the history and the time left in the callout.
    login(client, siao)
    page = client.get(reverse("exchanges:my_lists")).content.decode()
    assert ("En retard" in _history_row(page, period)) is expected_late
    # Validated: the callout no longer counts down to the deadline (issue 13, point 3).
    assert "Validée et transmise à l’OFII" in page
    assert "il reste" not in page and "échéance dépassée" not in page
    # OFII's dashboard shows the same.
    login(client, siege)
    page = client.get(reverse("exchanges:extract_dashboard"), {"period": period}).content.decode()
    row = page.split('id="dep-69"')[1].split("</tr>")[0]
    assert ("Validée en retard" if expected_late else "Validée dans les délais") in row
    assert ("Validée dans les délais" if expected_late else "Validée en retard") not in row


def test_dashboard_shows_the_stored_late_flag():
    """A list flagged late on validation is late on the dashboard even if its validation
    instant reads on time (e.g. validated by the import command for a late month)."""
    from exchanges.models import MonthlyList

    flagged = MonthlyList(validated_at=paris(2026, 11, 9, 12), is_late=True)
    assert extract_services.submission_state("2026-11", flagged, False, datetime.date(2026, 11, 20)) == \
        extract_services.LATE
    plain = MonthlyList(validated_at=paris(2026, 11, 10, 23, 59, 59), is_late=False)
    assert extract_services.submission_state("2026-11", plain, False, datetime.date(2026, 11, 20)) == \
        extract_services.ON_TIME


@pytest.mark.parametrize("today, expected", [
    (datetime.date(2026, 11, 10), extract_services.AWAITING),
    (datetime.date(2026, 11, 11), extract_services.MISSING),
])
def test_missing_list_becomes_missing_on_the_11th(today, expected):
    assert extract_services.submission_state("2026-11", None, False, today) == expected


def test_sweep_of_the_10th_records_missing_departements_and_a_list_validated_after_it_stays_on_time(
        time_machine, agents, demo):
    """The sweep runs on the 10th at 23:55 (exchanges/migrations/0003): a département without a
    validated list is recorded late. A list validated at 23:58 the same evening is still on
    time (the deadline is the end of the 10th): the recorded lateness must not override it."""
    siao, siege = agents
    ml = make_list("69", "2027-01", uploaded_by=siao, state=ListState.DRAFT, rows=2)
    time_machine.move_to(paris(2027, 1, 10, 23, 55), tick=False)
    result = extract_services.sweep(record_late=True)
    assert result["period"] == "2027-01"
    assert "69" in result["late"] and "75" in result["late"]
    assert LateSubmission.objects.filter(period="2027-01", departement__code="69").exists()
    time_machine.move_to(paris(2027, 1, 10, 23, 58), tick=False)
    workflow.validate_list(ml, siao)
    ml.refresh_from_db()
    assert ml.is_late is False
    [month] = extract_services.overview(Departement.objects.filter(code="69"), "2027-01")
    assert month.state == extract_services.ON_TIME
    [other] = extract_services.overview(Departement.objects.filter(code="75"), "2027-01")
    assert other.state == extract_services.MISSING


def test_sweep_of_the_9th_records_nobody(time_machine, db):
    time_machine.move_to(paris(2027, 1, 9, 20, 0), tick=False)
    result = extract_services.sweep(record_late=False)
    assert result == {"period": "2027-01", "built": [], "late": []}
    assert not LateSubmission.objects.exists()


def test_schedules_of_the_monthly_cycle(db):
    """The reminders on the 5th and 8th, the sweeps on the 9th evening and the 10th at 23:55,
    the missing départements on the 11th, all in Paris time."""
    from django_celery_beat.models import PeriodicTask

    tasks = {(t.task, t.kwargs.replace(" ", ""), t.crontab.day_of_month, t.crontab.hour, t.crontab.minute,
              str(t.crontab.timezone))
             for t in PeriodicTask.objects.filter(task__startswith="exchanges.extracts.").select_related("crontab")}
    assert tasks == {
        ("exchanges.extracts.sweep_extracts", '{"record_late":false}', "9", "20", "0", "Europe/Paris"),
        ("exchanges.extracts.sweep_extracts", '{"record_late":true}', "10", "23", "55", "Europe/Paris"),
        ("exchanges.extracts.remind_siao", "{}", "5", "9", "0", "Europe/Paris"),
        ("exchanges.extracts.remind_siao", "{}", "8", "9", "0", "Europe/Paris"),
        ("exchanges.extracts.notify_missing", "{}", "11", "8", "0", "Europe/Paris"),
        ("exchanges.extracts.purge_retention", "{}", "*", "3", "30", "Europe/Paris"),
    }


@pytest.mark.parametrize("day", [5, 8])
def test_reminders_of_the_5th_and_8th_name_the_month_and_its_deadline(time_machine, agents, mailoutbox, day):
    from exchanges.extracts import notifications

    siao, _ = agents
    time_machine.move_to(paris(2027, 1, day, 9, 0), tick=False)
    notifications.remind_siao()
    to_siao = [m for m in mailoutbox if "siao.annuel@demo.test" in m.to]
    assert len(to_siao) == 1
    assert "janvier 2027" in to_siao[0].body and "10 janvier 2027" in to_siao[0].body
    # Once the list is validated, no more reminder for that département.
    mailoutbox.clear()
    workflow.validate_list(make_list("69", "2027-01", uploaded_by=siao, state=ListState.DRAFT, rows=1), siao)
    notifications.remind_siao()
    assert [m for m in mailoutbox if "siao.annuel@demo.test" in m.to] == []

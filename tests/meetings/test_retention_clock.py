"""Retention limits with the clock frozen on either side of midnight Paris time (the purges run
without a date: they read the clock)."""

import datetime
import zoneinfo

from exchanges.extracts.tasks import purge_retention
from exchanges.models import ListRow
from meetings.models import AgendaItem
from meetings.services.agenda import EVERYONE, build_agenda
from meetings.services.retention import purge_expired
from referentiel.models import PlatformSettings
from tests.factories import make_list

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _retention(months):
    settings = PlatformSettings.load()
    settings.retention_months = months
    settings.save()


def test_meeting_data_kept_from_the_first_day_of_the_oldest_month_paris_time(demo, make_meeting, validated_list,
                                                                              time_machine):
    _retention(24)
    validated_list("2024-10", rows=1)
    before = make_meeting(datetime.datetime(2024, 10, 31, 23, 30, tzinfo=PARIS))  # 22:30 UTC
    build_agenda(demo["dt.lyon"], before, EVERYONE)
    validated_list("2024-11", rows=1, start=5)
    after = make_meeting(datetime.datetime(2024, 11, 1, 0, 30, tzinfo=PARIS))  # 23:30 UTC the day before
    build_agenda(demo["dt.lyon"], after, EVERYONE)
    assert before.items.count() == 1 and after.items.count() == 1
    # 30 November 2026: the oldest month kept is November 2024.
    time_machine.move_to(datetime.datetime(2026, 11, 30, 23, 59, 59, tzinfo=PARIS), tick=False)
    assert purge_expired() == {"agenda_items": 1, "outcomes": 0, "before": "2024-11-01"}
    assert not AgendaItem.objects.filter(meeting=before).exists()
    assert AgendaItem.objects.filter(meeting=after).count() == 1
    # One second after midnight, 1 December 2026: November 2024 goes too.
    time_machine.move_to(datetime.datetime(2026, 12, 1, 0, 0, 1, tzinfo=PARIS), tick=False)
    assert purge_expired() == {"agenda_items": 1, "outcomes": 0, "before": "2024-12-01"}
    assert not AgendaItem.objects.exists()


def test_list_rows_purged_by_the_daily_task_when_the_month_ends_paris_time(demo, time_machine):
    _retention(24)
    old = make_list("69", "2024-11", uploaded_by=demo["siao.69"], rows=2)
    kept = make_list("69", "2024-12", uploaded_by=demo["siao.69"], rows=3)
    time_machine.move_to(datetime.datetime(2026, 11, 30, 22, 59, 59, tzinfo=datetime.UTC), tick=False)
    assert purge_retention.delay().get()["before_period"] == "2024-11"
    assert ListRow.objects.filter(monthly_list=old).count() == 2
    time_machine.move_to(datetime.datetime(2026, 11, 30, 23, 0, 1, tzinfo=datetime.UTC), tick=False)  # 00:00:01 Paris
    result = purge_retention.delay().get()
    assert result == {"before_period": "2024-12", "archives": 0, "rows": 2, "abandoned_uploads": 0,
                      "return_archives": 0, "return_rows": 0}
    assert not ListRow.objects.filter(monthly_list=old).exists()
    assert ListRow.objects.filter(monthly_list=kept).count() == 3

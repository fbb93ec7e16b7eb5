import datetime

from django_celery_beat.models import PeriodicTask

from meetings.models import AgendaItem, Decision, Meeting, Outcome
from meetings.services.agenda import EVERYONE, build_agenda, record_outcome
from meetings.services.retention import cutoff, purge_expired
from referentiel.models import PlatformSettings
from siao_ofii.audit.models import AuditAction, AuditEvent

from .conftest import aware


def test_cutoff_follows_the_platform_setting(db):
    settings = PlatformSettings.load()
    settings.retention_months = 24
    settings.save()
    assert cutoff(datetime.date(2026, 11, 24)) == datetime.date(2024, 11, 1)
    assert cutoff(datetime.date(2026, 1, 5), months=1) == datetime.date(2025, 12, 1)


def test_purge_removes_old_nominative_data_keeps_meetings(demo, make_meeting, validated_list):
    settings = PlatformSettings.load()
    settings.retention_months = 12
    settings.save()
    validated_list("2025-09", rows=2)
    old = make_meeting(aware(2025, 9, 16))
    build_agenda(demo["dt.lyon"], old, EVERYONE)
    for item in old.items.all():
        record_outcome(demo["dt.lyon"], item, decision=Decision.DNA)
    validated_list("2026-11", rows=1, start=10)
    recent = make_meeting(aware(2026, 11, 17))
    build_agenda(demo["dt.lyon"], recent, EVERYONE)
    result = purge_expired(today=datetime.date(2026, 11, 24))
    assert result == {"agenda_items": 2, "outcomes": 2, "before": "2025-11-01"}
    assert not AgendaItem.objects.filter(meeting=old).exists() and not Outcome.objects.exists()
    # the recent agenda keeps its items (the list row and the two situations carried over,
    # whose link to the purged outcome is cut)
    assert AgendaItem.objects.filter(meeting=recent).count() == 3
    assert not AgendaItem.objects.filter(carried_from__isnull=False).exists()
    assert Meeting.objects.filter(pk=old.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.RETENTION_PURGE)
    assert event.details["outcomes"] == 2
    assert purge_expired(today=datetime.date(2026, 11, 24))["agenda_items"] == 0


def test_purge_is_scheduled_daily(db):
    task = PeriodicTask.objects.get(task="meetings.tasks.purge_expired_meeting_data")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("3", "30")

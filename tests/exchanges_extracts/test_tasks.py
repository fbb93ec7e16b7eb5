"""Tasks: build on validation, idempotence under concurrency, sweep, notifications, retention,
the management command and the beat schedules."""

import datetime
import hashlib
import io
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from exchanges import periods
from exchanges.extracts import tasks
from exchanges.extracts.services import build_for_list, sweep
from exchanges.models import Extract, LateSubmission, ListRow, MonthlyList
from exchanges.signals import list_validated
from referentiel.models import Departement, PlatformSettings
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.privatefiles.storage import private_storage
from tests.factories import make_list


def test_validation_signal_builds_archive_and_notifies_dt_without_password(demo, django_capture_on_commit_callbacks,
                                                                          caplog):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=4)
    with django_capture_on_commit_callbacks(execute=True):
        list_validated.send(sender=MonthlyList, monthly_list=ml)
    extract = Extract.objects.get(monthly_list=ml)
    password = extract.reveal_password()
    assert AuditEvent.objects.filter(action=AuditAction.ARCHIVE_BUILT, object_id=str(extract.pk)).exists()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["dt.lyon@demo.test"]
    message = mail.outbox[0]
    assert "69" in message.subject and "novembre 2026" in message.subject
    assert "/listes/extraits/departement/69/" in message.body and "7-Zip" in message.body
    assert password not in message.body and password not in message.subject
    assert password not in caplog.text
    extract.refresh_from_db()
    assert extract.notified_at is not None
    assert tasks.notify_extract_ready(extract.pk) == 0  # once only


def test_no_dt_departement_notifies_headquarters(demo, django_capture_on_commit_callbacks):
    ml = make_list("2A", "2026-11", uploaded_by=demo["siao.69"], rows=1)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.build_extract(ml.pk)
    assert [m.to[0] for m in mail.outbox] == ["siege@demo.test"]


def test_task_retry_is_idempotent(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)
    first = tasks.build_extract.apply(args=[ml.pk]).get()
    second = tasks.build_extract.apply(args=[ml.pk]).get()
    assert first["created"] and not second["created"] and first["extract"] == second["extract"]
    assert Extract.objects.count() == 1
    assert tasks.build_extract.acks_late


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_builds_leave_one_archive(demo):
    if connection.vendor != "postgresql":
        pytest.skip("VERROUS NON TESTÉS : il faut PostgreSQL (lancer tests/run_suite.py)")
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=300)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results.append(build_for_list(ml.pk))
        except Exception:  # noqa: BLE001
            import traceback

            errors.append(traceback.format_exc())
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(created for _, created in results) == [False, True]
    assert len({e.pk for e, _ in results}) == 1
    extract = Extract.objects.get()
    assert private_storage().listdir("extracts/2026-11") == ([], [extract.file_name])
    from tests.exchanges_extracts.helpers import read_members
    from tests.helpers import archive_file, stored_bytes

    assert hashlib.sha256(stored_bytes(extract.file_path)).hexdigest() == extract.sha256
    assert len(read_members(archive_file(extract), extract.reveal_password())) == 2


def test_sweep_builds_missing_and_records_late(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)
    result = sweep("2026-11", record_late=False)
    assert result["built"] == ["69"] and result["late"] == []
    assert Extract.objects.filter(monthly_list=ml).exists()
    assert not LateSubmission.objects.exists()
    result = tasks.sweep_extracts("2026-11", record_late=True)
    assert result["built"] == []
    total = Departement.objects.count()
    assert len(result["late"]) == total - 1 and "69" not in result["late"]
    assert LateSubmission.objects.count() == total - 1
    tasks.sweep_extracts("2026-11", record_late=True)  # again: nothing doubled
    assert LateSubmission.objects.count() == total - 1


def test_siao_reminder_goes_to_agents_who_have_not_validated(demo):
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], rows=1)
    sent = tasks.remind_siao("2026-11")
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["siao-dna.69@demo.test", "siao.69@demo.test"]  # not siao.75, not expired
    assert sent == 2
    assert "69" in mail.outbox[0].body and "10 novembre 2026" in mail.outbox[0].body


def test_missing_notice_on_the_11th_to_dt_prefecture_and_headquarters(demo):
    make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=1)
    tasks.notify_missing("2026-11")
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    assert "dt.lyon@demo.test" in by_recipient and "dt.paris@demo.test" in by_recipient
    lyon = by_recipient["dt.lyon@demo.test"]
    assert "42 — Loire" in lyon and "69 — Rhône" not in lyon and "75 —" not in lyon
    assert "75 — Paris" in by_recipient["dt.paris@demo.test"]
    assert "prefecture.69@demo.test" not in by_recipient  # 69 was validated
    assert "2A — Corse-du-Sud" in by_recipient["siege@demo.test"]
    assert not any(a in by_recipient for a in ("siao.69@demo.test", "expire.69@demo.test"))
    assert LateSubmission.objects.filter(period="2026-11", notified_at__isnull=False).count() == (
        Departement.objects.count() - 1)


def test_missing_notice_reaches_prefecture_of_a_missing_departement(demo):
    tasks.notify_missing("2026-11")
    assert any(m.to == ["prefecture.69@demo.test"] and "69 — Rhône" in m.body for m in mail.outbox)


def test_retention_purge_deletes_old_archives_and_rows(demo):
    today = periods.deadline("2026-11")
    old = make_list("69", "2024-10", uploaded_by=demo["siao.69"], rows=3)
    kept = make_list("69", "2024-11", uploaded_by=demo["siao.69"], rows=2)
    old_extract, _ = build_for_list(old.pk)
    kept_extract, _ = build_for_list(kept.pk)
    from exchanges.extracts.services import purge_expired

    result = purge_expired(today=today)
    assert result == {"before_period": "2024-11", "archives": 1, "rows": 3, "abandoned_uploads": 0,
                      "return_archives": 0, "return_rows": 0}
    old_extract.refresh_from_db()
    assert old_extract.purged_at and not old_extract.file_path and not old_extract.password_encrypted
    assert not private_storage().exists("extracts/2024-10/SIAO_069_2024-10_v1.zip")
    assert private_storage().exists(kept_extract.file_path) and ListRow.objects.filter(monthly_list=kept).count() == 2
    assert not ListRow.objects.filter(monthly_list=old).exists()
    event = AuditEvent.objects.get(action=AuditAction.RETENTION_PURGE)
    assert event.details == {"retention_months": 24, "before_period": "2024-11", "archives": 1, "rows": 3,
                             "abandoned_uploads": 0, "return_archives": 0, "return_rows": 0}
    settings_row = PlatformSettings.load()
    settings_row.retention_months = 12
    settings_row.save()
    assert purge_expired(today=today) == {"before_period": "2025-11", "archives": 1, "rows": 2,
                                          "abandoned_uploads": 0, "return_archives": 0, "return_rows": 0}


def test_purge_removes_abandoned_uploads(demo):
    """A file left by a mapping step never finished (or a dead worker) goes after a week."""
    from exchanges.extracts.services import purge_expired
    from siao_ofii.privatefiles.crypto import save_encrypted
    from tests.helpers import backdate_stored

    stale = save_encrypted("uploads/abandoned.csv", "Nom;Notes sociales\nDUPONT;…".encode())
    fresh = save_encrypted("uploads/waiting.csv", b"Nom\nMARTIN")
    backdate_stored(stale, timezone.now() - datetime.timedelta(days=8))
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state="failed", rows=0)
    ml.source_path = "abandoned.csv"
    ml.save()
    assert purge_expired()["abandoned_uploads"] == 1
    assert not private_storage().exists(stale) and private_storage().exists(fresh)
    ml.refresh_from_db()
    assert ml.source_path == ""


def test_build_extracts_command_prints_name_rows_hash_never_password(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=5)
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], rows=2)
    out = io.StringIO()
    call_command("build_extracts", "--period", "2026-11", "--departement", "69", stdout=out)
    extract = Extract.objects.get(monthly_list=ml)
    text = out.getvalue()
    assert "SIAO_069_2026-11_v1.zip" in text and "5 ligne(s)" in text and extract.sha256 in text
    assert extract.reveal_password() not in text
    assert not Extract.objects.filter(departement__code="75").exists()
    out = io.StringIO()
    call_command("build_extracts", "--period", "2026-11", stdout=out)
    assert "(existante)" in out.getvalue() and "SIAO_075_2026-11_v1.zip" in out.getvalue()
    assert Extract.objects.count() == 2
    for e in Extract.objects.all():
        assert e.reveal_password() not in out.getvalue()


@pytest.mark.django_db
def test_beat_schedules_are_registered_and_point_to_real_tasks():
    from django_celery_beat.models import PeriodicTask

    from siao_ofii.celery import app

    schedules = {t.task: t for t in PeriodicTask.objects.filter(task__startswith="exchanges.extracts.")}
    assert set(schedules) == {"exchanges.extracts.sweep_extracts", "exchanges.extracts.remind_siao",
                              "exchanges.extracts.notify_missing", "exchanges.extracts.purge_retention"}
    for name in schedules:
        assert name in app.tasks
    days = sorted(t.crontab.day_of_month for t in PeriodicTask.objects.filter(task__startswith="exchanges.extracts."))
    assert days == ["*", "10", "11", "5", "8", "9"]


def test_schedules_are_editable_in_the_admin(client, demo):
    from django.contrib import admin
    from django.urls import reverse
    from django_celery_beat.models import PeriodicTask

    from tests.helpers import login

    assert PeriodicTask in admin.site._registry
    login(client, demo["admin"])
    task = PeriodicTask.objects.get(task="exchanges.extracts.purge_retention")
    response = client.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    assert response.status_code == 200


def test_purge_removes_builds_left_by_a_killed_worker(settings, db):
    import os
    import time

    from exchanges.extracts.archive import scratch_dir
    from exchanges.extracts.services import remove_stale_builds

    stale, fresh = scratch_dir() / ".build-old", scratch_dir() / ".build-new"
    for d in (stale, fresh):
        d.mkdir(parents=True)
        (d / "SIAO_069_2026-11_v1.csv").write_text("NOM;Prénom\n")
    now = 2_000_000_000
    os.utime(stale, (now - 2 * 24 * 3600,) * 2)
    os.utime(fresh, (now - 3600,) * 2)
    assert remove_stale_builds(now=now) == 1
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("backend", ["DatabaseStorage", "PrivateFileSystemStorage"])
def test_failed_build_leaves_no_archive_and_its_own_error(demo, settings, monkeypatch, backend):
    """A database error after the archive was published: the original error comes out and
    the published archive is gone (deleted, or rolled back with the database storage)."""
    from django.db import DatabaseError

    from exchanges.extracts import services

    settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": f"siao_ofii.privatefiles.storage.{backend}"}}
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], rows=2)

    def broken_counts(ml):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")  # fails on PostgreSQL and SQLite alike

    monkeypatch.setattr(services, "_change_counts", broken_counts)
    with pytest.raises(DatabaseError, match="no_such_table"):
        build_for_list(ml.pk)
    assert not private_storage().exists("extracts/2026-11/SIAO_069_2026-11_v1.zip")
    assert not Extract.objects.exists()

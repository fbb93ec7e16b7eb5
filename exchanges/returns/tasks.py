"""Celery tasks of the return flow. Arguments are ids and periods only — never a password."""

from celery import shared_task
from django.db import OperationalError

from . import notifications, services

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="exchanges.returns.process_return_file", acks_late=True)
def process_return_file(return_file_id):
    """Read and check an uploaded return file with progress updates, store it all or nothing."""
    rf = services.process_return(return_file_id)
    return {"id": return_file_id, "state": rf.state if rf is not None else "missing"}


@shared_task(name="exchanges.returns.build_return_archive", acks_late=True, reject_on_worker_lost=True, **RETRY)
def build_return_archive(return_file_id):
    archive, created = services.build_archive_for(return_file_id)
    if archive is None:
        return None
    return {"archive": archive.pk, "created": created, "rows": archive.row_count, "sha256": archive.sha256}


@shared_task(name="exchanges.returns.notify_return_archive_ready", acks_late=True, **RETRY)
def notify_return_archive_ready(archive_id):
    return notifications.archive_ready(archive_id)


@shared_task(name="exchanges.returns.remind_ofii", acks_late=True, **RETRY)
def remind_ofii(period=None):
    return notifications.remind_ofii(period)

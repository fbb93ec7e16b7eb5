"""Celery tasks of the extracts. Arguments are ids and periods only — never a password.

``acks_late`` (with the broker visibility timeout of the settings, longer than the longest
build): a worker that dies mid-build leaves the message to another worker, and the build is
idempotent (see services.build_for_list).
"""

import logging

from celery import shared_task
from django.db import OperationalError

from . import notifications, services

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="exchanges.extracts.build_extract", acks_late=True, reject_on_worker_lost=True, **RETRY)
def build_extract(monthly_list_id):
    extract, created = services.build_for_list(monthly_list_id)
    if extract is None:
        return None
    return {"extract": extract.pk, "created": created, "rows": extract.row_count, "sha256": extract.sha256}


@shared_task(name="exchanges.extracts.sweep_extracts", acks_late=True, **RETRY)
def sweep_extracts(period=None, record_late=False):
    result = services.sweep(period=period, record_late=record_late)
    logger.info("Balayage %s : %d archive(s) produite(s), %d département(s) en retard", result["period"],
                len(result["built"]), len(result["late"]))
    return result


@shared_task(name="exchanges.extracts.notify_extract_ready", acks_late=True, **RETRY)
def notify_extract_ready(extract_id):
    return notifications.extract_ready(extract_id)


@shared_task(name="exchanges.extracts.remind_siao", acks_late=True, **RETRY)
def remind_siao(period=None):
    return notifications.remind_siao(period)


@shared_task(name="exchanges.extracts.notify_missing", acks_late=True, **RETRY)
def notify_missing(period=None):
    return notifications.missing_departements(period)


@shared_task(name="exchanges.extracts.purge_retention", acks_late=True, **RETRY)
def purge_retention():
    return services.purge_expired()

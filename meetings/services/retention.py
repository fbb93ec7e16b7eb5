"""Retention of the commissions' nominative data (PlatformSettings.retention_months).

Past the retention period, the situations examined (agenda items) and their outcomes are
deleted; the meeting itself (date, place, invitations: not nominative about the persons) is
kept for the national follow-up. The minutes documents built for an agent (copies of those
situations) are deleted with them, and in any case MINUTES_KEEP_DAYS after they were asked for.
"""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from referentiel.models import PlatformSettings
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from ..models import AgendaItem, MinutesDocument, Outcome
from .minutes import delete_documents
from .scheduling import next_month


def cutoff(today=None, months=None):
    """The first day of the oldest month still kept."""
    today = today or timezone.localdate()
    months = months if months is not None else PlatformSettings.load().retention_months
    y, m = next_month(today.year, today.month, -months)
    return datetime.date(y, m, 1)


MINUTES_KEEP_DAYS = 7


@transaction.atomic
def purge_expired(today=None):
    limit = cutoff(today)
    start = timezone.make_aware(datetime.datetime.combine(limit, datetime.time.min))
    delete_documents(MinutesDocument.objects.filter(
        Q(meeting__starts_at__lt=start)
        | Q(requested_at__lt=timezone.now() - datetime.timedelta(days=MINUTES_KEEP_DAYS))
    ))
    items = AgendaItem.objects.filter(meeting__starts_at__lt=start)
    deleted, per_model = items.delete()
    item_count = per_model.get(AgendaItem._meta.label, 0)
    outcome_count = per_model.get(Outcome._meta.label, 0)
    if deleted:
        record(AuditAction.RETENTION_PURGE, scope="meetings", before=limit.isoformat(),
               agenda_items=item_count, outcomes=outcome_count)
    return {"agenda_items": item_count, "outcomes": outcome_count, "before": limit.isoformat()}

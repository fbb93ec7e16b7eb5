from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_meeting_invitations(meeting_id, method, recipients=None):
    """E-mail the iCalendar invitation (REQUEST or CANCEL) of one commission."""
    from .services.invitations import send_for_pk

    return send_for_pk(meeting_id, method, recipients)


@shared_task
def purge_expired_meeting_data():
    """Daily: delete the agenda items and outcomes older than the retention period."""
    from .services.retention import purge_expired

    return purge_expired()


@shared_task
def build_minutes(document_id):
    """The minutes (PDF or XLSX) of a commission, with progress (issue 15: never in the request)."""
    from .services.minutes import build_document

    build_document(document_id)

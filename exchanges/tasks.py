"""Celery tasks of the list pipeline. Arguments are ids only: never a file content or a password."""

from celery import shared_task


@shared_task(name="exchanges.process_uploaded_list", acks_late=True)
def process_uploaded_list(monthly_list_id):
    """Parse and validate an uploaded list with progress updates, then store it all or nothing."""
    from exchanges.services.workflow import process_list, start_attempt

    if not start_attempt(monthly_list_id):  # its reading killed the worker twice: now failed
        return {"id": monthly_list_id, "state": "failed"}
    ml = process_list(monthly_list_id)
    return {"id": monthly_list_id, "state": ml.state if ml is not None else "replaced"}

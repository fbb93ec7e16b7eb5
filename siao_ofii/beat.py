"""Celery beat's scheduler (django-celery-beat's, schedules edited in the admin) plus a
heartbeat: every tick of the beat loop touches a file, which the container health check
(``python -m siao_ofii.healthcheck beat``) reads. A beat that died or hangs stops touching it."""

from pathlib import Path

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        Path(settings.CELERY_BEAT_HEARTBEAT_FILE).touch()
        return interval

"""Celery application. Tasks run in-process (eager) when REDIS_URL is not set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings")

app = Celery("siao_ofii")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

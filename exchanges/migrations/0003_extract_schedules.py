"""Schedules of the monthly cycle (django-celery-beat), editable in the admin afterwards.

Europe/Paris times. The list of month M is due by the 10th of M.
"""

import json

from django.db import migrations

SCHEDULES = [
    # name, task, kwargs, (minute, hour, day_of_month)
    ("Archives : balayage du 9 au soir", "exchanges.extracts.sweep_extracts", {"record_late": False}, ("0", "20", "9")),
    ("Archives : balayage du 10 et retards", "exchanges.extracts.sweep_extracts", {"record_late": True}, ("55", "23", "10")),
    ("Relance des SIAO (le 5)", "exchanges.extracts.remind_siao", {}, ("0", "9", "5")),
    ("Relance des SIAO (le 8)", "exchanges.extracts.remind_siao", {}, ("0", "9", "8")),
    ("Départements manquants aux DT et préfectures (le 11)", "exchanges.extracts.notify_missing", {}, ("0", "8", "11")),
    ("Purge de conservation (archives et lignes nominatives)", "exchanges.extracts.purge_retention", {}, ("30", "3", "*")),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, kwargs, (minute, hour, day) in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day, month_of_year="*", day_of_week="*",
            timezone="Europe/Paris",
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "kwargs": json.dumps(kwargs), "enabled": True},
        )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0002_extracts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]

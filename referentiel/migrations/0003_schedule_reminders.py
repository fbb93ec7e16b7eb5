"""Daily habilitation-expiry reminders, editable in the admin (django-celery-beat)."""

from django.db import migrations


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="7", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Paris"
    )
    PeriodicTask.objects.get_or_create(
        name="Rappel d’échéance des habilitations",
        defaults={"task": "referentiel.tasks.notify_expiring_habilitations", "crontab": cron},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="referentiel.tasks.notify_expiring_habilitations"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("referentiel", "0002_load_annex1"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]

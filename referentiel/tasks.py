"""Scheduled reminders about habilitations (django-celery-beat runs them daily)."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Habilitation

REMINDER_DAYS = (30, 7)


def expiring_habilitations(on=None):
    on = on or timezone.localdate()
    dates = [on + datetime.timedelta(days=d) for d in REMINDER_DAYS]
    return Habilitation.objects.active(on).filter(valid_until__in=dates).select_related("agent", "granted_by", "dt")


@shared_task
def notify_expiring_habilitations():
    """E-mail each agent (and whoever granted the habilitation) 30 and 7 days before it ends."""
    sent = 0
    for hab in expiring_habilitations():
        recipients = [hab.agent.email] + ([hab.granted_by.email] if hab.granted_by_id else [])
        body = render_to_string("emails/habilitation_expiring.txt", {"hab": hab, "site_url": settings.SITE_URL})
        send_mail(
            "Transmission SIAO → OFII : votre habilitation arrive à échéance",
            body,
            None,
            recipients,
        )
        sent += 1
    return sent

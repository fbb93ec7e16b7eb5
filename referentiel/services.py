"""Habilitation life cycle. Every change goes through here and is audited."""

import datetime

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from .models import Habilitation
from .perimeter import forget


def _snapshot(hab):
    return {
        "agent": hab.agent.email,
        "role": hab.role,
        "perimetre": hab.perimeter_label(),
        "valid_from": hab.valid_from.isoformat(),
        "valid_until": hab.valid_until.isoformat(),
        "granted_by": hab.granted_by.email if hab.granted_by_id else "",
    }


@transaction.atomic
def grant_habilitation(*, agent, role, granted_by, reason, departements=(), dt=None, valid_from=None,
                       valid_until=None, request=None):
    hab = Habilitation(agent=agent, role=role, dt=dt, granted_by=granted_by, reason=reason)
    if valid_from:
        hab.valid_from = valid_from
    if valid_until:
        hab.valid_until = valid_until
    hab.full_clean()
    hab.save()
    hab.departements.set(departements)
    record(AuditAction.HABILITATION_GRANTED, request=request, actor=granted_by, obj=hab, **_snapshot(hab))
    forget(agent)
    return hab


def record_change(hab, *, actor, request=None, created=False):
    """Audit an edit made through a form (the admin): the new state of the habilitation."""
    action = AuditAction.HABILITATION_GRANTED if created else AuditAction.HABILITATION_CHANGED
    record(action, request=request, actor=actor, obj=hab, **_snapshot(hab))


@transaction.atomic
def revoke_habilitation(hab, *, revoked_by, reason="", request=None):
    if hab.revoked_at:
        return hab
    hab.revoked_at = timezone.now()
    hab.revoked_by = revoked_by
    hab.revocation_reason = reason
    hab.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    record(AuditAction.HABILITATION_REVOKED, request=request, actor=revoked_by, obj=hab, motif=reason,
           **_snapshot(hab))
    forget(hab.agent)
    return hab


@transaction.atomic
def extend_habilitation(hab, *, until=None, days=365, extended_by, request=None):
    if hab.revoked_at:
        raise ValueError("Une habilitation révoquée ne se prolonge pas : accordez-en une nouvelle.")
    previous = hab.valid_until
    base = max(hab.valid_until, timezone.localdate())
    hab.valid_until = until or (base + datetime.timedelta(days=days))
    hab.full_clean()
    hab.save(update_fields=["valid_until"])
    record(AuditAction.HABILITATION_EXTENDED, request=request, actor=extended_by, obj=hab,
           previous_valid_until=previous.isoformat(), **_snapshot(hab))
    return hab


def holds_habilitation(agent):
    """A habilitation that is not revoked nor over (current, upcoming or awaiting approval)."""
    return agent.habilitations.filter(revoked_at__isnull=True, valid_until__gte=timezone.localdate()).exists()


def notify_email_change(agent, old_email):
    """Tell the former address that the account's e-mail changed: a password reset cannot then
    be sent silently to someone else (issue 10, point 5). The change itself is journaled by the
    administration (old and new values)."""
    send_mail(
        "Transmission SIAO → OFII : l’adresse de votre compte a été modifiée",
        f"Bonjour,\n\nL’adresse e-mail de votre compte sur la plateforme de transmission SIAO → OFII "
        f"vient d’être remplacée par {agent.email} par un administrateur.\n\nSi vous n’êtes pas à "
        f"l’origine de cette demande, prévenez immédiatement votre hiérarchie et le siège de l’OFII.\n",
        None,
        [old_email],
    )


@transaction.atomic
def reset_second_factor(agent, *, reset_by, request=None):
    """Remove the agent's TOTP devices: at the next login they enrol a new application, and an
    open session must pass the second factor again. The administrator never sees a secret."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    count, _ = TOTPDevice.objects.filter(user=agent).delete()
    record(AuditAction.OTP_RESET, request=request, actor=reset_by, obj=agent, devices=count)
    send_mail(
        "Transmission SIAO → OFII : votre second facteur a été réinitialisé",
        "Bonjour,\n\nUn administrateur a réinitialisé le second facteur de votre compte. À votre prochaine "
        "connexion, enregistrez de nouveau votre application d’authentification (un QR code vous sera "
        "présenté).\n\nSi vous n’avez rien demandé, prévenez immédiatement le siège de l’OFII.\n",
        None,
        [agent.email],
    )
    return count

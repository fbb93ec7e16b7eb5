"""Habilitation life cycle. Every change goes through here and is audited.

Granting authority (issue 10, points 4 and 6; see ``models.APPROVER_ROLE``): an administrator
asks; a habilitation takes effect once the authority the texts name has approved it (OFII
headquarters for DT and SIEGE, R744-47; the prefecture of the département for SIAO_DNA, R744-48;
a second administrator for ADMIN and PREFECTURE). The approver is never the requester nor the
beneficiary. Only the SIAO role is granted by an administrator alone.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from .models import APPROVER_ROLE, Habilitation, Role
from .perimeter import active_habilitations, forget

# Roles whose grant always needs a second person (four-eyes), even when the requester holds
# the approving role.
FOUR_EYES_ROLES = {Role.ADMIN, Role.SIEGE, Role.DT, Role.PREFECTURE}
AUTHORITY_LABELS = {
    Role.ADMIN: "un autre administrateur",
    Role.SIEGE: "le siège de l’OFII (R744-47)",
    Role.PREFECTURE: "la préfecture du département (R744-48)",
}


def _snapshot(hab):
    return {
        "agent": hab.agent.email,
        "role": hab.role,
        "perimetre": hab.perimeter_label(),
        "valid_from": hab.valid_from.isoformat(),
        "valid_until": hab.valid_until.isoformat(),
        "granted_by": hab.granted_by.email if hab.granted_by_id else "",
        "designated_by": hab.designated_by.email if hab.designated_by_id else "",
        "approved_by": hab.approved_by.email if hab.approved_by_id else "",
        "etat": hab.state,
    }


def approver_role(role):
    """The role whose holder makes a habilitation of ``role`` effective (for a SIAO habilitation,
    pending only when an administrator asked it for themselves: another administrator)."""
    return APPROVER_ROLE.get(Role(role), Role.ADMIN)


def authority_label(role):
    return AUTHORITY_LABELS[approver_role(role)]


def holds_authority(actor, role, departements=()):
    """Does ``actor`` hold, today, the role that approves ``role`` (for every département)?"""
    if actor is None:
        return False
    wanted = approver_role(role)
    habs = [h for h in active_habilitations(actor) if h.role == wanted]
    if not habs:
        return False
    if wanted == Role.PREFECTURE:
        covered = {d.pk for h in habs for d in h.departements.all()}
        return bool(departements) and {d.pk for d in departements} <= covered
    return True


def refusal_to_approve(actor, hab, departements=None):
    """Why ``actor`` may not approve ``hab`` (French), or ``None``."""
    departements = list(hab.departements.all()) if departements is None else departements
    if hab.agent_id == actor.pk:
        return "Personne n’approuve sa propre habilitation."
    if hab.granted_by_id == actor.pk and (hab.role in FOUR_EYES_ROLES or hab.granted_by_id == hab.agent_id):
        return "La demande doit être approuvée par une autre personne que celle qui l’a faite."
    if not holds_authority(actor, hab.role, departements):
        return f"Cette habilitation ne peut être approuvée que par {authority_label(hab.role)}."
    return None


def _takes_effect_at_once(hab, requester, departements):
    if requester is None:  # installation (seed_demo, tests): no request, no approval
        return True
    if requester.pk == hab.agent_id or hab.role in FOUR_EYES_ROLES:
        return False
    if hab.role == Role.SIAO_DNA:
        return holds_authority(requester, Role.SIAO_DNA, departements)
    return True  # SIAO: the administrator alone


def _may_request(requester, role, departements):
    if requester is None:
        return True
    from .perimeter import Capability, has_capability

    if has_capability(requester, Capability.ADMINISTER):
        return True
    return role == Role.SIAO_DNA and holds_authority(requester, Role.SIAO_DNA, departements)


def overlapping(hab, departements=None):
    """Non-revoked habilitations identical to ``hab`` (agent, role, perimeter) whose period meets it."""
    key = hab.compute_perimeter_key(departements)
    return (Habilitation.objects.filter(agent_id=hab.agent_id, role=hab.role, perimeter_key=key,
                                        revoked_at__isnull=True, valid_from__lte=hab.valid_until,
                                        valid_until__gte=hab.valid_from)
            .exclude(pk=hab.pk))


def check_request(hab, departements, requester):
    """Raise ValidationError (French) if ``hab`` may not be asked by ``requester``."""
    if not _may_request(requester, hab.role, departements):
        raise ValidationError("Vous ne pouvez pas demander cette habilitation.")
    if hab.agent_id and hab.valid_from and hab.valid_until and overlapping(hab, departements).exists():
        raise ValidationError(
            "Cet agent a déjà cette habilitation (en cours ou en attente) sur une période qui recouvre "
            "celle-ci : prolongez-la plutôt que de l’accorder une seconde fois."
        )


@transaction.atomic
def submit_habilitation(hab, *, departements, requested_by, request=None, designated_by=None):
    """Store ``hab`` (unsaved) as granted by ``requested_by``: effective at once when the
    requester is the authority and no second person is needed, otherwise a pending request."""
    departements = list(departements)
    hab.granted_by = requested_by
    hab.perimeter_key = hab.compute_perimeter_key(departements)
    check_request(hab, departements, requested_by)
    hab.full_clean(exclude=["departements"], validate_constraints=False)
    if _takes_effect_at_once(hab, requested_by, departements):
        hab.approved_at = timezone.now()
        hab.approved_by = requested_by
        if hab.role == Role.SIAO_DNA:
            hab.designated_by = designated_by or requested_by
            if not holds_authority(hab.designated_by, Role.SIAO_DNA, departements):
                raise ValidationError("Une habilitation aux données DNA est désignée par un agent de la préfecture "
                                      "du département (R744-48).")
    hab.save()
    hab.departements.set(departements)
    action = AuditAction.HABILITATION_GRANTED if hab.approved_at else AuditAction.HABILITATION_REQUESTED
    record(action, request=request, actor=requested_by, obj=hab, **_snapshot(hab))
    forget(hab.agent)
    return hab


def grant_habilitation(*, agent, role, granted_by, reason, departements=(), dt=None, valid_from=None,
                       valid_until=None, request=None, designated_by=None):
    hab = Habilitation(agent=agent, role=role, dt=dt, reason=reason)
    if valid_from:
        hab.valid_from = valid_from
    if valid_until:
        hab.valid_until = valid_until
    return submit_habilitation(hab, departements=departements, requested_by=granted_by, request=request,
                               designated_by=designated_by)


@transaction.atomic
def approve_habilitation(hab, *, approved_by, request=None):
    hab = Habilitation.objects.select_for_update().get(pk=hab.pk)
    if hab.revoked_at or hab.approved_at:
        raise ValidationError("Cette habilitation n’est plus en attente d’approbation.")
    refusal = refusal_to_approve(approved_by, hab)
    if refusal:
        raise ValidationError(refusal)
    hab.approved_by, hab.approved_at = approved_by, timezone.now()
    if hab.role == Role.SIAO_DNA:
        hab.designated_by = approved_by  # the prefect's designation (R744-48)
    hab.save(update_fields=["approved_by", "approved_at", "designated_by"])
    record(AuditAction.HABILITATION_APPROVED, request=request, actor=approved_by, obj=hab, **_snapshot(hab))
    forget(hab.agent)
    return hab


def needs_approval_to_widen(hab, actor):
    """May ``actor`` alone lengthen ``hab``? Not for their own habilitation, not for a role whose
    authority they are not (four-eyes roles never)."""
    if actor is None:
        return False
    if hab.agent_id == actor.pk or hab.role in FOUR_EYES_ROLES:
        return True
    if hab.role == Role.SIAO_DNA:
        return not holds_authority(actor, Role.SIAO_DNA, list(hab.departements.all()))
    return False


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
    """Lengthen ``hab``; when ``extended_by`` may not do it alone (their own habilitation, a
    privileged role), ask instead for a following habilitation that the authority approves.
    Returns the habilitation that carries the new end date."""
    if hab.revoked_at:
        raise ValueError("Une habilitation révoquée ne se prolonge pas : accordez-en une nouvelle.")
    previous = hab.valid_until
    base = max(hab.valid_until, timezone.localdate())
    new_until = until or (base + datetime.timedelta(days=days))
    if needs_approval_to_widen(hab, extended_by):
        return grant_habilitation(
            agent=hab.agent, role=hab.role, granted_by=extended_by, departements=hab.departements.all(), dt=hab.dt,
            valid_from=hab.valid_until + datetime.timedelta(days=1), valid_until=new_until, request=request,
            reason=f"Prolongation de l’habilitation n° {hab.pk} ({hab.reason})"[:2000],
        )
    hab.valid_until = new_until
    hab.full_clean(exclude=["departements"], validate_constraints=False)
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

"""E-mails of the return flow (never the archive password: it is shown only by the audited
"Afficher le mot de passe" action).

- To the recipients R744-48 2° allows, and only them: SIAO agents holding a valid SIAO_DNA
  habilitation (prefect's designation) for the département, each one checked again through
  the perimeter rule (capability READ_REVERSE_FLOW).
- Reminder to OFII (DT of the département, headquarters for a département without DT) when
  the month's return file has not been sent.
"""

from collections import defaultdict

from django.urls import reverse
from django.utils import timezone

from exchanges import periods
from exchanges.extracts.notifications import _agents, _send
from exchanges.models import ReturnArchive
from referentiel.models import Departement, Role
from referentiel.perimeter import Capability

from .services import sent_departement_ids


def siao_dna_recipients(departement):
    return _agents(departement, Role.SIAO_DNA, Capability.READ_REVERSE_FLOW)


def archive_ready(archive_id):
    archive = ReturnArchive.objects.select_related("departement").filter(pk=archive_id, purged_at__isnull=True).first()
    if archive is None or archive.notified_at:
        return 0
    sent = _send("return_ready", {
        "archive": archive, "departement": archive.departement, "period_label": periods.label(archive.period),
        "url": reverse("exchanges:return_inbox"),
    }, siao_dna_recipients(archive.departement))
    ReturnArchive.objects.filter(pk=archive.pk).update(notified_at=timezone.now())
    return sent


def remind_ofii(period=None):
    """Each DT agent (headquarters for départements without DT) receives the départements of
    its perimeter whose return file of ``period`` (default: the previous month) was not sent."""
    period = period or periods.previous(periods.current())
    deps = list(Departement.objects.select_related("dt"))
    sent_ids = sent_departement_ids([d.pk for d in deps], period)
    by_agent, agents = defaultdict(list), {}
    for dep in deps:
        if dep.pk in sent_ids:
            continue
        role = Role.DT if dep.dt_id else Role.SIEGE
        for agent in _agents(dep, role, Capability.UPLOAD_REVERSE_FLOW):
            agents[agent.pk] = agent
            by_agent[agent.pk].append(dep)
    total = 0
    for pk, missing in by_agent.items():
        total += _send("return_reminder", {"departements": missing, "period_label": periods.label(period),
                                           "url": reverse("exchanges:return_dashboard")}, [agents[pk]])
    return total

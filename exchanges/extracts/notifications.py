"""E-mails of the monthly cycle (French templates). Never the archive password: it travels by
another channel (the "Afficher le mot de passe" action of the site).

Recipients are chosen by role, then each one is checked through the perimeter rule
(``referentiel.perimeter.can_access_departement``) so that an expired or revoked habilitation
never receives anything.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from exchanges import periods
from exchanges.models import Extract, LateSubmission
from referentiel.models import Agent, Habilitation, Role
from referentiel.perimeter import Capability, can_access_departement

from . import services


def _agents(departement, role, capability):
    habs = Habilitation.objects.active().filter(role=role)
    if role == Role.DT:
        habs = habs.filter(dt_id=departement.dt_id)
    elif role in (Role.SIAO, Role.SIAO_DNA, Role.PREFECTURE):
        habs = habs.filter(departements=departement)
    agents = Agent.objects.filter(pk__in=habs.values("agent_id"), is_active=True).order_by("email")
    return [a for a in agents if can_access_departement(a, capability, departement)]


def ofii_recipients(departement):
    """The DT agents of the département; headquarters for a département without DT."""
    role = Role.DT if departement.dt_id else Role.SIEGE
    return _agents(departement, role, Capability.READ_EXTRACT)


def _send(template, context, recipients):
    if not recipients:
        return 0
    context = {**context, "site_url": settings.SITE_URL.rstrip("/")}
    subject = " ".join(render_to_string(f"exchanges/emails/{template}_subject.txt", context).split())
    body = render_to_string(f"exchanges/emails/{template}.txt", context)
    sent = 0
    for agent in recipients:
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [agent.email])
    return sent


def extract_ready(extract_id):
    extract = Extract.objects.select_related("departement").filter(pk=extract_id, purged_at__isnull=True).first()
    if extract is None or extract.notified_at:
        return 0
    dep = extract.departement
    sent = _send("extract_ready", {
        "extract": extract, "departement": dep, "period_label": periods.label(extract.period),
        "url": reverse("exchanges:extract_departement", kwargs={"code": dep.code}),
    }, ofii_recipients(dep))
    Extract.objects.filter(pk=extract.pk).update(notified_at=timezone.now())
    return sent


def remind_siao(period=None):
    """Reminder (5th and 8th) to SIAO agents whose list of the month is not validated yet."""
    period = period or periods.current()
    by_agent = defaultdict(list)
    agents = {}
    for dep in services.missing_departements(period):
        for agent in _agents(dep, Role.SIAO, Capability.SUBMIT_LIST):
            agents[agent.pk] = agent
            by_agent[agent.pk].append(dep)
    sent = 0
    for pk, deps in by_agent.items():
        sent += _send("siao_reminder", {
            "departements": deps, "period_label": periods.label(period),
            "deadline": periods.deadline(period),
        }, [agents[pk]])
    return sent


def missing_departements(period=None):
    """On the 11th: each DT (headquarters for départements without DT) and each prefecture
    receives the départements of its perimeter whose list is missing."""
    period = period or periods.current()
    missing_deps = list(services.missing_departements(period))
    for dep in missing_deps:
        LateSubmission.objects.get_or_create(departement=dep, period=period)
    context = {"period_label": periods.label(period), "deadline": periods.deadline(period)}
    by_agent = defaultdict(list)
    agents = {}
    for dep in missing_deps:
        for agent in ofii_recipients(dep) + _agents(dep, Role.PREFECTURE, Capability.VIEW_MEETINGS):
            agents[agent.pk] = agent
            by_agent[agent.pk].append(dep)
    sent = 0
    for pk, deps in by_agent.items():
        sent += _send("missing", {**context, "departements": deps}, [agents[pk]])
    LateSubmission.objects.filter(period=period, departement__in=missing_deps, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return sent

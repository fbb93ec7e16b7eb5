"""siao_ofii.audit.services.record and client_ip called directly: every field of the entry,
with literal expectations; habilitation changes journaled with old and new values."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from referentiel.models import Agent, Departement, Role
from referentiel.services import extend_habilitation, grant_habilitation, revoke_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.audit.services import client_ip, record

pytestmark = pytest.mark.django_db
D = datetime.date


def _request(user=None, **meta):
    request = RequestFactory().get("/x/", **meta)
    request.user = user or AnonymousUser()
    return request


def test_record_every_field(demo):
    dep = Departement.objects.get(code="69")
    request = _request(demo["dt.lyon"], REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="U" * 300)
    event = record(AuditAction.DOWNLOAD, request=request, obj=dep, departement=dep, fichier="a.zip", vide=None,
                   zero=0)
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.action == "download"
    assert event.actor == demo["dt.lyon"] and event.actor_email == "dt.lyon@demo.test"
    assert event.departement == "69"
    assert event.details == {"fichier": "a.zip", "zero": 0}  # None values dropped, falsy kept
    assert (event.object_type, event.object_id) == ("referentiel.Departement", str(dep.pk))
    assert event.object_repr == str(dep)
    assert event.ip_address == "198.51.100.4"
    assert event.user_agent == "U" * 255


def test_explicit_actor_wins_over_the_request_user(demo):
    event = record(AuditAction.LOGOUT, request=_request(demo["siege"]), actor=demo["admin"])
    assert event.actor == demo["admin"] and event.actor_email == "admin@demo.test"


def test_anonymous_request_and_attempted_email(demo):
    event = record(AuditAction.LOGIN_FAILURE, request=_request(REMOTE_ADDR="203.0.113.9"),
                   attempted_email="inconnu@demo.test")
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor is None and event.actor_email == "inconnu@demo.test"
    assert event.details == {} and event.departement == "" and event.ip_address == "203.0.113.9"
    assert (event.object_type, event.object_id, event.object_repr) == ("", "", "")


def test_without_request_nor_actor():
    event = AuditEvent.objects.get(pk=record(AuditAction.RETENTION_PURGE, departement="2A", rows=3).pk)
    assert event.actor is None and event.actor_email == "" and event.departement == "2A"
    assert event.ip_address is None and event.user_agent == "" and event.details == {"rows": 3}


def test_unsaved_actor_is_not_linked_but_named():
    ghost = Agent(email="fantome@demo.test")
    event = record(AuditAction.LOGIN_FAILURE, actor=ghost)
    assert event.actor is None and event.actor_email == "fantome@demo.test"


def test_long_object_repr_is_cut(demo):
    agent = Agent.objects.create_user("long@demo.test", "x", last_name="N" * 140, first_name="P" * 140)
    event = record(AuditAction.HABILITATION_CHANGED, obj=agent)
    assert len(event.object_repr) == 255 and event.object_repr == str(agent)[:255]


@pytest.mark.parametrize("count, forwarded, remote, expected", [
    (0, "1.1.1.1, 2.2.2.2", "10.0.0.1", "10.0.0.1"),  # no trusted proxy: the header is ignored
    (1, "1.1.1.1, 2.2.2.2", "10.0.0.1", "2.2.2.2"),  # one proxy: the address it saw
    (2, "1.1.1.1, 2.2.2.2", "10.0.0.1", "1.1.1.1"),
    (2, "2.2.2.2", "10.0.0.1", "10.0.0.1"),  # fewer entries than proxies: not trusted
    (1, " , 3.3.3.3 ,", "10.0.0.1", "3.3.3.3"),
    (1, "", "10.0.0.1", "10.0.0.1"),
    (0, "", "", None),
])
def test_client_ip(settings, count, forwarded, remote, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected


def test_habilitation_life_cycle_is_journaled_with_old_and_new_values(demo):
    agent = Agent.objects.create_user("cycle@demo.test", "x")
    hab = grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="Arrêté 7",
                             departements=Departement.objects.filter(code__in=["69", "01"]),
                             valid_from=D(2026, 11, 24), valid_until=D(2026, 12, 31))
    granted = AuditEvent.objects.get(action=AuditAction.HABILITATION_GRANTED, object_id=str(hab.pk))
    assert granted.actor == demo["admin"]
    assert granted.details == {"agent": "cycle@demo.test", "role": "SIAO", "perimetre": "01, 69",
                               "valid_from": "2026-11-24", "valid_until": "2026-12-31",
                               "granted_by": "admin@demo.test", "designated_by": "",
                               "approved_by": "admin@demo.test", "etat": "active"}
    extend_habilitation(hab, until=D(2027, 6, 30), extended_by=demo["admin"])
    extended = AuditEvent.objects.get(action=AuditAction.HABILITATION_EXTENDED, object_id=str(hab.pk))
    assert extended.details["previous_valid_until"] == "2026-12-31" and extended.details["valid_until"] == "2027-06-30"
    revoke_habilitation(hab, revoked_by=demo["siege"], reason="départ")
    revoked = AuditEvent.objects.get(action=AuditAction.HABILITATION_REVOKED, object_id=str(hab.pk))
    assert revoked.actor == demo["siege"] and revoked.details["motif"] == "départ"
    assert revoked.details["valid_until"] == "2027-06-30"
    revoke_habilitation(hab, revoked_by=demo["siege"], reason="encore")  # already revoked: nothing more
    assert AuditEvent.objects.filter(action=AuditAction.HABILITATION_REVOKED, object_id=str(hab.pk)).count() == 1


def test_extension_by_days_counts_from_the_later_of_today_and_the_end(demo, time_machine):
    agent = Agent.objects.create_user("prolonge@demo.test", "x")
    hab = grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="x",
                             departements=Departement.objects.filter(code="69"),
                             valid_from=D(2026, 11, 1), valid_until=D(2026, 11, 30))
    extend_habilitation(hab, days=10, extended_by=demo["admin"])
    assert hab.valid_until == D(2026, 12, 10)  # from the end (30/11), later than today (24/11)
    expired = grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="x",
                                 departements=Departement.objects.filter(code="75"),
                                 valid_from=D(2026, 11, 1), valid_until=D(2026, 11, 20))
    extend_habilitation(expired, days=10, extended_by=demo["admin"])
    assert expired.valid_until == D(2026, 12, 4)  # from today (24/11), the end being past
    extend_habilitation(expired, extended_by=demo["admin"])
    assert expired.valid_until == D(2027, 12, 4)  # 365 days by default


def test_login_receivers_journal_exact_entries(demo):
    """The receivers called directly (django-axes also listens to these signals)."""
    from siao_ofii.audit.signals import on_login, on_login_failed, on_logout

    request = _request(REMOTE_ADDR="192.0.2.1")
    on_login_failed(None, {"username": "X" * 300}, request=request)
    on_login_failed(None, {"email": "par-courriel@demo.test"}, request=request)
    on_login_failed(None, None)
    failures = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILURE).order_by("pk")
                    .values_list("actor_email", "ip_address"))
    assert failures == [("X" * 254, "192.0.2.1"), ("par-courriel@demo.test", "192.0.2.1"), ("", None)]
    on_login(Agent, request, demo["siao.69"])
    on_logout(Agent, request, demo["siao.69"])
    on_logout(Agent, request, None)  # session without user: nothing
    assert list(AuditEvent.objects.filter(action__in=[AuditAction.LOGIN_SUCCESS, AuditAction.LOGOUT])
                .order_by("pk").values_list("action", "actor__email")) == [
        (AuditAction.LOGIN_SUCCESS, "siao.69@demo.test"), (AuditAction.LOGOUT, "siao.69@demo.test")]

"""Issue 10, points 4 and 6: who grants what (R744-47: OFII staff designated by OFII; R744-48:
SIAO agents receiving DNA data designated and habilitated by the prefect), four-eyes on
privileged grants, no self-extension, no duplicate habilitation."""

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Role
from referentiel.perimeter import Capability, has_capability, visible_departements
from referentiel.services import grant_habilitation
from siao_ofii.audit.models import AuditEvent
from tests.helpers import login

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 24)  # the suite's frozen day (tests/helpers.FROZEN_NOW)
DAY = datetime.timedelta(days=1)


def fresh(agent):
    return Agent.objects.get(pk=agent.pk)


def codes(agent, cap):
    return set(visible_departements(fresh(agent), cap).values_list("code", flat=True))


def _hab_post(agent, role, **extra):
    data = {"agent": agent.pk, "role": role, "valid_from": TODAY.isoformat(),
            "valid_until": (TODAY + 90 * DAY).isoformat(), "reason": "Décision n° 12"}
    data.update(extra)
    return data


def _second_admin():
    other = Agent.objects.create_user("admin2@demo.test", "x")
    grant_habilitation(agent=other, role=Role.ADMIN, granted_by=None, reason="installation")
    return other


def test_siege_for_a_puppet_account_is_not_granted_by_one_administrator(client, demo):
    login(client, demo["admin"])
    response = client.post(reverse("admin:referentiel_agent_add"), {
        "email": "marionnette@example.org", "first_name": "M", "last_name": "Arionnette", "is_active": "on",
        "habilitations-TOTAL_FORMS": "0", "habilitations-INITIAL_FORMS": "0",
        "habilitations-MIN_NUM_FORMS": "0", "habilitations-MAX_NUM_FORMS": "1000"})
    assert response.status_code == 302
    puppet = Agent.objects.get(email="marionnette@example.org")
    client.post(reverse("admin:referentiel_habilitation_add"), _hab_post(puppet, "SIEGE"))
    assert not has_capability(fresh(puppet), Capability.READ_EXTRACT)
    hab = Habilitation.objects.get(agent=puppet, role=Role.SIEGE)
    # The requesting administrator cannot approve it, nor can any administrator: OFII headquarters does.
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "approve", "_selected_action": [hab.pk]})
    login(client, _second_admin())
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "approve", "_selected_action": [hab.pk]})
    assert not has_capability(fresh(puppet), Capability.READ_EXTRACT)
    login(client, demo["siege"])
    page = client.get(reverse("habilitations:approvals")).content.decode()
    assert "marionnette@example.org" in page
    assert client.post(reverse("habilitations:approve", args=[hab.pk])).status_code == 302
    assert len(codes(puppet, Capability.READ_EXTRACT)) == 101
    hab.refresh_from_db()
    assert hab.granted_by == demo["admin"] and hab.approved_by == demo["siege"]
    assert AuditEvent.objects.filter(action="habilitation_approved", object_id=str(hab.pk),
                                     actor=demo["siege"]).exists()


def test_admin_grant_needs_a_different_administrator(client, demo):
    target = Agent.objects.create_user("futur.admin@example.org", "x")
    login(client, demo["admin"])
    client.post(reverse("admin:referentiel_habilitation_add"), _hab_post(target, "ADMIN"))
    hab = Habilitation.objects.get(agent=target, role=Role.ADMIN)
    assert not has_capability(fresh(target), Capability.ADMINISTER)
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "approve", "_selected_action": [hab.pk]})
    assert not has_capability(fresh(target), Capability.ADMINISTER)
    login(client, _second_admin())
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "approve", "_selected_action": [hab.pk]})
    assert has_capability(fresh(target), Capability.ADMINISTER)


def test_dt_habilitation_is_approved_by_headquarters_only(client, demo):
    target = Agent.objects.create_user("agent.dt@ofii.fr", "x")
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    login(client, demo["admin"])
    client.post(reverse("admin:referentiel_habilitation_add"), _hab_post(target, "DT", dt=lyon.pk))
    hab = Habilitation.objects.get(agent=target, role=Role.DT)
    assert codes(target, Capability.READ_EXTRACT) == set()
    login(client, demo["dt.paris"])  # a DT agent is not headquarters
    assert client.post(reverse("habilitations:approve", args=[hab.pk])).status_code == 403
    login(client, demo["siege"])
    client.post(reverse("habilitations:approve", args=[hab.pk]))
    assert codes(target, Capability.READ_EXTRACT) == {"01", "07", "42", "69"}


def test_admin_cannot_extend_their_own_habilitation(client, demo):
    login(client, demo["admin"])
    own = Habilitation.objects.get(agent=demo["admin"], role=Role.ADMIN)
    until = own.valid_until
    client.post(reverse("admin:referentiel_habilitation_change", args=[own.pk]), {
        "valid_from": own.valid_from.isoformat(), "valid_until": "2099-12-31", "reason": own.reason})
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "extend_one_year", "_selected_action": [own.pk]})
    own.refresh_from_db()
    assert own.valid_until == until
    # At most a request for a following habilitation, that another administrator must approve.
    assert not Habilitation.objects.active(until + DAY).filter(agent=demo["admin"], role=Role.ADMIN).exists()


def test_admin_cannot_push_a_dt_habilitation_end_date(client, demo):
    login(client, demo["admin"])
    hab = Habilitation.objects.get(agent=demo["dt.lyon"], role=Role.DT)
    client.post(reverse("admin:referentiel_habilitation_change", args=[hab.pk]), {
        "valid_from": hab.valid_from.isoformat(), "valid_until": "2099-12-31", "reason": hab.reason})
    hab.refresh_from_db()
    assert hab.valid_until < datetime.date(2099, 1, 1)


def test_the_same_habilitation_twice_is_refused(client, demo):
    target = Agent.objects.create_user("double@siao38.fr", "x")
    login(client, demo["admin"])
    data = _hab_post(target, "SIAO", departements=[Departement.objects.get(code="38").pk])
    client.post(reverse("admin:referentiel_habilitation_add"), data)
    client.post(reverse("admin:referentiel_habilitation_add"), data)  # double-submitted form
    assert Habilitation.objects.filter(agent=target, revoked_at__isnull=True).count() == 1


def test_database_refuses_identical_active_habilitations(demo):
    hab = Habilitation.objects.get(agent=demo["siao.75"])
    copy = Habilitation(agent=hab.agent, role=hab.role, valid_from=hab.valid_from, valid_until=hab.valid_until,
                        reason="copie", granted_by=hab.granted_by)
    for name in ("perimeter_key", "approved_at", "approved_by_id"):
        setattr(copy, name, getattr(hab, name))
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_siao_dna_requested_by_an_admin_waits_for_the_prefecture(client, demo):
    agent = demo["siao.69"]
    login(client, demo["admin"])
    client.post(reverse("admin:referentiel_habilitation_add"),
                _hab_post(agent, "SIAO_DNA", departements=[Departement.objects.get(code="69").pk]))
    hab = Habilitation.objects.get(agent=agent, role=Role.SIAO_DNA)
    assert codes(agent, Capability.READ_REVERSE_FLOW) == set()
    client.post(reverse("admin:referentiel_habilitation_changelist"),
                {"action": "approve", "_selected_action": [hab.pk]})
    assert codes(agent, Capability.READ_REVERSE_FLOW) == set()
    # A prefecture agent of another département cannot designate for the Rhône.
    pref75 = Agent.objects.create_user("prefecture.75@demo.test", "x")
    grant_habilitation(agent=pref75, role=Role.PREFECTURE, granted_by=None, reason="installation",
                       departements=Departement.objects.filter(code="75"))
    login(client, pref75)
    assert client.post(reverse("habilitations:approve", args=[hab.pk])).status_code == 404
    assert codes(agent, Capability.READ_REVERSE_FLOW) == set()
    login(client, demo["prefecture.69"])
    assert "siao.69@demo.test" in client.get(reverse("habilitations:dna")).content.decode()
    client.post(reverse("habilitations:approve", args=[hab.pk]))
    assert codes(agent, Capability.READ_REVERSE_FLOW) == {"69"}
    hab.refresh_from_db()
    assert hab.designated_by == demo["prefecture.69"]


def test_prefecture_designates_and_revokes_siao_agents_for_dna_data(client, demo):
    agent = demo["siao.69"]
    login(client, demo["prefecture.69"])
    response = client.post(reverse("habilitations:dna"), {
        "agent": agent.pk, "departement": Departement.objects.get(code="69").pk,
        "valid_until": (TODAY + 180 * DAY).isoformat(), "reason": "Arrêté préfectoral n° 2026-17"})
    assert response.status_code == 302, response.content.decode()[:3000]
    hab = Habilitation.objects.get(agent=agent, role=Role.SIAO_DNA)
    assert hab.designated_by == demo["prefecture.69"] and hab.granted_by == demo["prefecture.69"]
    assert codes(agent, Capability.READ_REVERSE_FLOW) == {"69"}
    # Only SIAO agents of the département may be designated.
    response = client.post(reverse("habilitations:dna"), {
        "agent": demo["siao.75"].pk, "departement": Departement.objects.get(code="69").pk,
        "valid_until": (TODAY + 180 * DAY).isoformat(), "reason": "x"})
    assert response.status_code == 200
    assert not Habilitation.objects.filter(agent=demo["siao.75"], role=Role.SIAO_DNA).exists()
    client.post(reverse("habilitations:revoke", args=[hab.pk]), {"reason": "Fin de mission"})
    assert codes(agent, Capability.READ_REVERSE_FLOW) == set()
    actions = set(AuditEvent.objects.filter(object_id=str(hab.pk), object_type="referentiel.Habilitation")
                  .values_list("action", flat=True))
    assert {"habilitation_granted", "habilitation_revoked"} <= actions


def test_database_refuses_an_effective_siao_dna_without_designation(demo):
    hab = Habilitation.objects.get(agent=demo["siao-dna.69"], role=Role.SIAO_DNA)
    with pytest.raises(IntegrityError), transaction.atomic():
        Habilitation.objects.filter(pk=hab.pk).update(designated_by=None)


def test_seed_demo_siao_dna_is_designated_by_the_prefecture(demo):
    hab = Habilitation.objects.active().get(agent=demo["siao-dna.69"], role=Role.SIAO_DNA)
    assert hab.designated_by == demo["prefecture.69"]
    assert Habilitation.objects.active().filter(agent=demo["prefecture.69"], role=Role.PREFECTURE,
                                                departements__code="69").exists()


def test_import_agents_leaves_privileged_roles_to_their_authority(tmp_path, demo):
    f = tmp_path / "agents.csv"
    f.write_text("email;prenom;nom;role;departements;dt;debut;fin;motif\n"
                 "b.durand@ofii.fr;Bruno;Durand;DT;;DT Grenoble;;;Note 7\n"
                 "c.martin@siao38.fr;Claire;Martin;SIAO_DNA;38;;;;Demande\n", encoding="utf-8")
    call_command("import_agents", str(f), "--granted-by", "admin@demo.test", stdout=open("/dev/null", "w"))
    assert codes(Agent.objects.get(email="b.durand@ofii.fr"), Capability.READ_EXTRACT) == set()
    assert codes(Agent.objects.get(email="c.martin@siao38.fr"), Capability.READ_REVERSE_FLOW) == set()
    assert Habilitation.objects.filter(agent__email="b.durand@ofii.fr", approved_at__isnull=True).count() == 1


@pytest.mark.skipif(__import__("django.db").db.connection.vendor != "postgresql",
                    reason="contrainte d’exclusion PostgreSQL (sur SQLite : contrainte unique partielle et contrôle du service)")
def test_postgresql_refuses_overlapping_identical_habilitations(demo):
    hab = Habilitation.objects.get(agent=demo["siao.75"])
    copy = Habilitation(agent=hab.agent, role=hab.role, valid_from=hab.valid_from + DAY,
                        valid_until=hab.valid_until + 30 * DAY, reason="chevauchement", granted_by=hab.granted_by,
                        perimeter_key=hab.perimeter_key, approved_at=hab.approved_at, approved_by=hab.approved_by)
    with pytest.raises(IntegrityError, match="habilitation_no_overlap"), transaction.atomic():
        copy.save()
    # The period right after the end is not an overlap (a prolongation waiting for approval).
    copy.valid_from, copy.valid_until = hab.valid_until + DAY, hab.valid_until + 30 * DAY
    copy.save()


def test_service_refuses_an_overlapping_request(demo):
    from django.core.exceptions import ValidationError

    hab = Habilitation.objects.get(agent=demo["siao.75"])
    with pytest.raises(ValidationError, match="déjà cette habilitation"):
        grant_habilitation(agent=demo["siao.75"], role=Role.SIAO, granted_by=demo["admin"], reason="x",
                           departements=Departement.objects.filter(code="75"), valid_from=hab.valid_from + DAY,
                           valid_until=hab.valid_until + DAY)

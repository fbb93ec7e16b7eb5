import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Role
from referentiel.perimeter import (
    Capability,
    active_habilitations,
    departement_in_perimeter_or_404,
    get_in_perimeter_or_404,
    has_capability,
    visible_departements,
)
from referentiel.services import approve_habilitation, extend_habilitation, grant_habilitation, revoke_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from tests.helpers import FROZEN_NOW, login

pytestmark = pytest.mark.django_db
TODAY = FROZEN_NOW.date()  # the suite runs at FROZEN_NOW (tests/conftest.py)
DAY = datetime.timedelta(days=1)


def codes(user, cap):
    return set(visible_departements(user, cap).values_list("code", flat=True))


def _siao(agent, start, end, admin):
    return grant_habilitation(agent=agent, role=Role.SIAO, granted_by=admin, reason="test",
                              departements=Departement.objects.filter(code="69"), valid_from=start, valid_until=end)


def test_habilitation_starting_tomorrow_gives_nothing_today(demo):
    agent = Agent.objects.create_user("demain@demo.test", "x")
    _siao(agent, TODAY + DAY, TODAY + 30 * DAY, demo["admin"])
    assert active_habilitations(agent) == []
    assert codes(agent, Capability.SUBMIT_LIST) == set()


def test_habilitation_ended_yesterday_gives_nothing(demo):
    assert codes(demo["expired"], Capability.SUBMIT_LIST) == set()


def test_habilitation_valid_on_its_first_and_last_day(demo):
    agent = Agent.objects.create_user("bornes@demo.test", "x")
    _siao(agent, TODAY, TODAY, demo["admin"])
    assert codes(agent, Capability.SUBMIT_LIST) == {"69"}


def test_revoked_mid_session_loses_access_at_next_request(client, demo):
    agent = Agent.objects.create_user("revoque@demo.test", "x")
    hab = _siao(agent, TODAY - DAY, TODAY + DAY, demo["admin"])
    login(client, agent)
    assert client.get(reverse("home")).status_code == 200
    revoke_habilitation(Habilitation.objects.get(pk=hab.pk), revoked_by=demo["admin"], reason="départ")
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "Aucune habilitation en cours" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.HABILITATION_REVOKED, object_id=str(hab.pk)).exists()


def test_deactivated_agent_loses_access(client, demo):
    agent = demo["siao.69"]
    login(client, agent)
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code in (302, 403)


def test_perimeter_per_role(demo):
    lyon = {"01", "07", "42", "69"}
    assert codes(demo["dt.lyon"], Capability.READ_EXTRACT) == lyon
    assert codes(demo["dt.paris"], Capability.READ_EXTRACT) == {"75"}
    assert len(codes(demo["siege"], Capability.READ_EXTRACT)) == 101
    assert codes(demo["siao.69"], Capability.SUBMIT_LIST) == {"69"}
    assert codes(demo["siao.69"], Capability.READ_EXTRACT) == set()
    assert codes(demo["siao.69"], Capability.READ_REVERSE_FLOW) == set()
    assert codes(demo["siao-dna.69"], Capability.READ_REVERSE_FLOW) == {"69"}
    assert codes(demo["prefecture.69"], Capability.MANAGE_MEETINGS) == {"69"}
    assert codes(demo["prefecture.69"], Capability.SUBMIT_LIST) == set()
    assert codes(demo["prefecture.69"], Capability.READ_EXTRACT) == set()
    for cap in Capability:
        assert codes(demo["admin"], cap) == set(), cap  # administrators see no nominative data
    assert has_capability(demo["admin"], Capability.ADMINISTER)
    assert not has_capability(demo["siege"], Capability.ADMINISTER)


def test_dt_perimeter_follows_the_referentiel(demo):
    corse = Departement.objects.get(code="2A")
    assert "2A" not in codes(demo["dt.lyon"], Capability.READ_EXTRACT)
    corse.dt = DirectionTerritoriale.objects.get(name="DT Lyon")
    corse.save()
    assert "2A" in codes(Agent.objects.get(pk=demo["dt.lyon"].pk), Capability.READ_EXTRACT)


def test_nominative_queryset_visible_to(demo):
    from exchanges.models import ListRow, MonthlyList

    make_list("69", uploaded_by=demo["siao.69"])
    make_list("75", uploaded_by=demo["siao.75"])
    assert set(MonthlyList.objects.visible_to(demo["dt.lyon"], Capability.READ_EXTRACT)
               .values_list("departement__code", flat=True)) == {"69"}
    assert ListRow.objects.visible_to(demo["dt.paris"], Capability.READ_EXTRACT).count() == 3
    assert ListRow.objects.visible_to(demo["admin"], Capability.READ_EXTRACT).count() == 0
    assert ListRow.objects.visible_to(demo["siege"], Capability.READ_EXTRACT).count() == 6


def test_object_outside_perimeter_is_404_and_audited(demo):
    from exchanges.models import MonthlyList

    ml = make_list("75", uploaded_by=demo["siao.75"])
    request = RequestFactory().get("/x")
    request.user = demo["dt.lyon"]
    with pytest.raises(Http404):
        get_in_perimeter_or_404(request, MonthlyList.objects.all(), Capability.READ_EXTRACT, pk=ml.pk)
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert event.actor == demo["dt.lyon"] and event.departement == "75" and event.object_id == str(ml.pk)
    # A missing object is a 404 too, without an entry (nothing to reveal either way).
    with pytest.raises(Http404):
        get_in_perimeter_or_404(request, MonthlyList.objects.all(), Capability.READ_EXTRACT, pk=999999)
    assert AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).count() == 1
    with pytest.raises(Http404):
        departement_in_perimeter_or_404(request, Capability.READ_EXTRACT, "75")
    assert departement_in_perimeter_or_404(request, Capability.READ_EXTRACT, "69").code == "69"


def test_validation_rules(demo):
    with pytest.raises(ValidationError):
        grant_habilitation(agent=demo["nohab"], role=Role.DT, granted_by=demo["admin"], reason="x")
    with pytest.raises(ValidationError):
        grant_habilitation(agent=demo["nohab"], role=Role.SIAO, granted_by=demo["admin"], reason="x",
                           valid_from=TODAY, valid_until=TODAY - DAY)


def test_extend_and_audit(demo):
    hab = Habilitation.objects.get(agent=demo["siao.75"])
    old = hab.valid_until
    extend_habilitation(hab, extended_by=demo["admin"])
    hab.refresh_from_db()
    assert hab.valid_until == old + datetime.timedelta(days=365)
    event = AuditEvent.objects.get(action=AuditAction.HABILITATION_EXTENDED)
    assert event.actor == demo["admin"] and event.details["previous_valid_until"] == old.isoformat()
    revoke_habilitation(hab, revoked_by=demo["admin"])
    with pytest.raises(ValueError):
        extend_habilitation(hab, extended_by=demo["admin"])


def test_admin_creates_and_revokes_a_habilitation(client, demo, time_machine):
    time_machine.move_to(FROZEN_NOW, tick=False)
    login(client, demo["admin"])
    agent = Agent.objects.create_user("nouveau@demo.test", "x")
    response = client.post(reverse("admin:referentiel_habilitation_add"), {
        "agent": agent.pk, "role": "SIAO", "departements": [Departement.objects.get(code="38").pk],
        "valid_from": TODAY.isoformat(), "valid_until": (TODAY + 90 * DAY).isoformat(), "reason": "Arrêté n° 42",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    hab = Habilitation.objects.get(agent=agent)
    assert hab.granted_by == demo["admin"]
    assert codes(agent, Capability.SUBMIT_LIST) == {"38"}
    assert AuditEvent.objects.filter(action=AuditAction.HABILITATION_GRANTED, object_id=str(hab.pk),
                                     actor=demo["admin"]).exists()
    response = client.post(reverse("admin:referentiel_habilitation_changelist"),
                           {"action": "revoke", "_selected_action": [hab.pk]})
    assert response.status_code == 302
    hab.refresh_from_db()
    assert hab.revoked_at == FROZEN_NOW and hab.revoked_by == demo["admin"]
    assert codes(Agent.objects.get(pk=agent.pk), Capability.SUBMIT_LIST) == set()


def test_admin_refuses_inconsistent_perimeter(client, demo):
    login(client, demo["admin"])
    response = client.post(reverse("admin:referentiel_habilitation_add"), {
        "agent": demo["nohab"].pk, "role": "SIAO", "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + DAY).isoformat(), "reason": "x",
    })
    assert response.status_code == 200
    assert "choisissez-les" in response.content.decode()
    assert not Habilitation.objects.filter(agent=demo["nohab"]).exists()


def test_admin_habilitation_list_search_and_filters(client, demo):
    login(client, demo["admin"])
    url = reverse("admin:referentiel_habilitation_changelist")
    for query in ("q=siao.69", "etat=active", "etat=expired", "etat=revoked", "role__exact=DT", "echeance=30"):
        assert client.get(f"{url}?{query}").status_code == 200, query
    page = client.get(f"{url}?etat=expired").content.decode()
    assert "expire.69@demo.test" in page and "siao.75@demo.test" not in page


def test_import_agents(tmp_path, demo):
    f = tmp_path / "agents.csv"
    f.write_text("email;prenom;nom;role;departements;dt;debut;fin;motif\n"
                 "a.martin@siao38.fr;Anne;Martin;SIAO;38;;01/01/2026;31/12/2027;Arrêté 12\n"
                 "b.durand@ofii.fr;Bruno;Durand;DT;;DT Grenoble;;;Note 7\n", encoding="utf-8")
    call_command("import_agents", str(f), "--granted-by", "admin@demo.test", stdout=open("/dev/null", "w"))
    martin = Agent.objects.get(email="a.martin@siao38.fr")
    assert codes(martin, Capability.SUBMIT_LIST) == {"38"}
    durand = Agent.objects.get(email="b.durand@ofii.fr")
    # A DT habilitation waits for OFII headquarters (R744-47), then covers the DT's départements.
    assert codes(durand, Capability.READ_EXTRACT) == set()
    approve_habilitation(Habilitation.objects.get(agent=durand), approved_by=demo["siege"])
    assert codes(Agent.objects.get(pk=durand.pk), Capability.READ_EXTRACT) == {"26", "38", "73", "74"}
    assert not martin.has_usable_password()
    # Running it again creates nothing more.
    call_command("import_agents", str(f), "--granted-by", "admin@demo.test", stdout=open("/dev/null", "w"))
    assert Habilitation.objects.filter(agent=martin).count() == 1


def test_import_agents_is_all_or_nothing(tmp_path, demo):
    f = tmp_path / "agents.csv"
    f.write_text("email,prenom,nom,role,departements,dt,debut,fin,motif\n"
                 "c.petit@siao38.fr,C,Petit,SIAO,38,,,,x\n"
                 "d.roux@siao38.fr,D,Roux,SIAO,99,,,,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Ligne 3, colonne « departements »"):
        call_command("import_agents", str(f), "--granted-by", "admin@demo.test")
    assert not Agent.objects.filter(email="c.petit@siao38.fr").exists()
    with pytest.raises(CommandError, match="pas un administrateur"):
        call_command("import_agents", str(f), "--granted-by", "siao.69@demo.test")


def test_expiry_reminders(demo, mailoutbox):
    from django_celery_beat.models import PeriodicTask

    from referentiel.tasks import notify_expiring_habilitations

    agent = Agent.objects.create_user("bientot@demo.test", "x")
    _siao(agent, TODAY - DAY, TODAY + 7 * DAY, demo["admin"])
    _siao(Agent.objects.create_user("plus-tard@demo.test", "x"), TODAY, TODAY + 8 * DAY, demo["admin"])
    assert notify_expiring_habilitations.delay().get() == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert set(message.to) == {"bientot@demo.test", "admin@demo.test"}
    assert (TODAY + 7 * DAY).strftime("%d/%m/%Y") in message.body
    assert PeriodicTask.objects.filter(task="referentiel.tasks.notify_expiring_habilitations", enabled=True).exists()


def test_admin_cannot_grant_themselves_nor_rewrite_who_and_what(client, demo):
    login(client, demo["admin"])
    response = client.post(reverse("admin:referentiel_habilitation_add"), {
        "agent": demo["admin"].pk, "role": "SIEGE", "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + DAY).isoformat(), "reason": "moi-même",
    })
    assert response.status_code == 200 and "à lui-même" in response.content.decode()
    assert not Habilitation.objects.filter(agent=demo["admin"], role="SIEGE").exists()
    hab = Habilitation.objects.get(agent=demo["siao.75"])
    client.post(reverse("admin:referentiel_habilitation_change", args=[hab.pk]), {
        "agent": demo["nohab"].pk, "role": "SIEGE", "valid_from": hab.valid_from.isoformat(),
        "valid_until": hab.valid_until.isoformat(), "reason": "changé",
    })
    hab.refresh_from_db()
    assert hab.agent == demo["siao.75"] and hab.role == "SIAO"
    assert codes(Agent.objects.get(pk=demo["nohab"].pk), Capability.READ_EXTRACT) == set()


def test_seed_demo_refused_in_production(settings):
    settings.DEBUG = False
    settings.ALLOW_DEMO_ACCOUNTS = False
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")


def test_new_agent_without_password_can_choose_one(client, db, mailoutbox):
    agent = Agent.objects.create_user("nouvelle@siao38.fr", None)
    assert not agent.has_usable_password()
    client.post(reverse("password_reset"), {"email": "Nouvelle@siao38.fr"})
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["nouvelle@siao38.fr"]
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    client.post(reverse("password_reset"), {"email": "nouvelle@siao38.fr"})
    assert len(mailoutbox) == 1

"""The states of a habilitation on the frozen day (2026-11-24) and on either side of its bounds,
its checks and labels, the agents' accounts and the platform settings, with literal expectations
(found by ``make mutation GROUPS=habilitations``)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from referentiel.models import (
    Agent,
    Departement,
    DirectionTerritoriale,
    Habilitation,
    PlatformSettings,
    Role,
    default_valid_until,
    departement_sort_key,
    validate_period,
)
from referentiel.services import grant_habilitation, holds_habilitation, notify_email_change, revoke_habilitation
from tests.helpers import FROZEN_NOW

pytestmark = pytest.mark.django_db
TODAY = FROZEN_NOW.date()
DAY = datetime.timedelta(days=1)


def _agent(email):
    return Agent.objects.create_user(email, "x-not-used-123")


def _siao(agent, start, end, by=None):
    return grant_habilitation(agent=agent, role=Role.SIAO, granted_by=by, reason="r", valid_from=start,
                              valid_until=end, departements=[Departement.objects.get(code="69")])


def test_states_on_the_frozen_day(demo):
    x = _agent("etats@demo.test")
    ends_today = _siao(x, TODAY - 10 * DAY, TODAY)
    starts_tomorrow = _siao(x, TODAY + DAY, TODAY + 5 * DAY)
    ended_yesterday = _siao(x, TODAY - 20 * DAY, TODAY - 11 * DAY)
    revoked = _siao(_agent("revoque@demo.test"), TODAY, TODAY + DAY)
    revoke_habilitation(revoked, revoked_by=demo["admin"])
    revoked_then_ended = _siao(Agent.objects.get(email="revoque@demo.test"), TODAY - 30 * DAY, TODAY - 20 * DAY)
    revoke_habilitation(revoked_then_ended, revoked_by=demo["admin"])
    pending = grant_habilitation(agent=x, role=Role.SIEGE, granted_by=demo["admin"], reason="r",
                                 valid_from=TODAY + DAY, valid_until=TODAY + 2 * DAY)
    mine = Habilitation.objects.filter(agent__email__in=["etats@demo.test", "revoque@demo.test"])

    def pks(state, on=None):
        return set(mine.state(state, on).values_list("pk", flat=True))

    assert pks("active") == {ends_today.pk}
    assert pks("pending") == {pending.pk}
    assert pks("upcoming") == {starts_tomorrow.pk}  # not the pending one, which also starts later
    assert pks("expired") == {ended_yesterday.pk}
    assert pks("revoked") == {revoked.pk, revoked_then_ended.pk}  # revoked, never "expired"
    assert pks("anything else") == {ends_today.pk, starts_tomorrow.pk, ended_yesterday.pk, revoked.pk, pending.pk,
                                    revoked_then_ended.pk}
    # The same question asked for another day.
    assert pks("active", TODAY + DAY) == {starts_tomorrow.pk}
    assert pks("expired", TODAY + DAY) == {ends_today.pk, ended_yesterday.pk}
    assert pks("upcoming", TODAY - 11 * DAY) == {ends_today.pk, starts_tomorrow.pk}
    assert [h.state for h in (ends_today, starts_tomorrow, ended_yesterday, revoked, pending)] == [
        "active", "upcoming", "expired", "revoked", "pending"]
    # A deactivated account holds nothing active.
    Agent.objects.filter(pk=x.pk).update(is_active=False)
    assert pks("active") == set()


def test_checks_of_a_habilitation():
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    x = _agent("controle@demo.test")
    with pytest.raises(ValidationError) as exc:
        Habilitation(agent=x, role=Role.SIAO, valid_from=TODAY, valid_until=TODAY - DAY, dt=lyon).clean()
    assert exc.value.message_dict == {"valid_until": ["La date de fin doit suivre la date de début."],
                                      "dt": ["Seule une habilitation d’agent de DT désigne une DT."]}
    with pytest.raises(ValidationError) as exc:
        Habilitation(agent=x, role=Role.DT, valid_from=TODAY, valid_until=TODAY).clean()
    assert exc.value.message_dict == {"dt": ["Une habilitation d’agent de DT désigne une DT."]}
    Habilitation(agent=x, role=Role.DT, dt=lyon, valid_from=TODAY, valid_until=TODAY).clean()  # one day: valid
    assert default_valid_until() == datetime.date(2027, 11, 24)


def test_perimeter_labels():
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    x = _agent("libelles@demo.test")
    assert Habilitation(agent=x, role=Role.SIEGE).perimeter_label() == "national"
    assert Habilitation(agent=x, role=Role.ADMIN).perimeter_label() == "administration"
    assert Habilitation(agent=x, role=Role.DT, dt=lyon).perimeter_label() == str(lyon) == "DT Lyon"
    assert Habilitation(agent=x, role=Role.DT).perimeter_label() == "?"
    hab = grant_habilitation(agent=x, role=Role.SIAO, granted_by=None, reason="r",
                             departements=Departement.objects.filter(code__in=["69", "01"]))
    assert sorted(hab.perimeter_label().split(", ")) == ["01", "69"] and ", " in hab.perimeter_label()
    empty = grant_habilitation(agent=_agent("vide@demo.test"), role=Role.PREFECTURE, granted_by=None, reason="r")
    assert empty.perimeter_label() == "aucun département"


def test_insee_sort_keys():
    assert [departement_sort_key(c) for c in ("01", "19", "2A", "2B", "21", "95", "971")] == [
        "01", "19", "20A", "20B", "21", "95", "Z971"]
    corse = Departement.objects.get(code="2B")
    corse.sort_key = ""
    corse.save()
    assert Departement.objects.get(code="2B").sort_key == "20B"


def test_accounts():
    agent = Agent.objects.create_user("Marie.Curie@Example.ORG", "un-mot-de-passe-42", first_name="Marie")
    assert agent.email == "marie.curie@example.org" and agent.check_password("un-mot-de-passe-42")
    assert Agent.objects.get(pk=agent.pk).first_name == "Marie"
    assert Agent.objects.get_by_natural_key("MARIE.CURIE@example.org") == agent
    assert agent.get_short_name() == "Marie"
    assert Agent(email="sans.prenom@demo.test").get_short_name() == "sans.prenom@demo.test"
    with pytest.raises(ValueError, match="^L’adresse e-mail est obligatoire.$"):
        Agent.objects.create_user("", "x")


def test_admin_permissions_follow_the_habilitation(demo):
    admin, siao = demo["admin"], demo["siao.69"]
    assert (admin.has_perm("x"), admin.has_perms(["a", "b"]), admin.has_module_perms("referentiel")) == (True,) * 3
    assert (siao.has_perm("x"), siao.has_perms(["a"]), siao.has_module_perms("referentiel")) == (False,) * 3
    assert siao.has_perms([]) is True
    Agent.objects.filter(pk=admin.pk).update(is_active=False)
    admin = Agent.objects.get(pk=admin.pk)
    assert (admin.has_perm("x"), admin.has_module_perms("referentiel")) == (False, False)


def test_holds_a_habilitation_until_its_last_day(demo):
    x = _agent("tient@demo.test")
    assert holds_habilitation(x) is False
    last_day = _siao(x, TODAY - 10 * DAY, TODAY)
    assert holds_habilitation(x) is True
    Habilitation.objects.filter(pk=last_day.pk).update(valid_until=TODAY - DAY)
    assert holds_habilitation(x) is False
    upcoming = _siao(x, TODAY + DAY, TODAY + 2 * DAY)
    assert holds_habilitation(x) is True
    revoke_habilitation(upcoming, revoked_by=demo["admin"])
    assert holds_habilitation(x) is False


def test_the_former_address_is_told_of_an_email_change():
    agent = _agent("nouvelle@demo.test")
    notify_email_change(agent, "ancienne@demo.test")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ancienne@demo.test"]
    assert sent.subject == "Transmission SIAO → OFII : l’adresse de votre compte a été modifiée"
    assert "vient d’être remplacée par nouvelle@demo.test par un administrateur." in sent.body
    assert "prévenez immédiatement votre hiérarchie et le siège de l’OFII" in sent.body


def test_platform_settings_are_one_row(settings):
    settings.DEFAULT_RETENTION_MONTHS = 30
    PlatformSettings.objects.all().delete()
    first = PlatformSettings.load()
    assert (first.pk, first.retention_months, first.collect_agdref_nationality) == (1, 30, False)
    assert str(first) == "Paramètres de la plateforme"
    other = PlatformSettings(retention_months=12)
    other.save()
    assert PlatformSettings.objects.count() == 1 and PlatformSettings.load().retention_months == 12
    # save() passes its options on: only the listed field is written.
    loaded = PlatformSettings.load()
    loaded.collect_agdref_nationality, loaded.retention_months = True, 18
    loaded.save(update_fields=["retention_months"])
    assert (PlatformSettings.load().collect_agdref_nationality, PlatformSettings.load().retention_months) == (False, 18)
    rhone = Departement.objects.get(code="69")
    rhone.name, rhone.prefecture_town = "Rhône (nouveau nom)", "Ailleurs"
    rhone.save(update_fields=["name"])
    assert Departement.objects.filter(code="69").values_list("name", "prefecture_town").get() == (
        "Rhône (nouveau nom)", "Lyon")
    validate_period("")
    validate_period("2026-11")
    with pytest.raises(ValidationError) as exc:
        validate_period("2026-13")
    assert exc.value.messages == ["Mois attendu au format AAAA-MM (par exemple 2026-11)."]

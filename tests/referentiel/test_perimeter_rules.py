"""The perimeter rule (referentiel/perimeter.py) called directly, with exact expectations: what
each role sees for each capability, the per-request cache, and the journal entry of every
refused lookup (old and new values are literals, never computed by the code under test)."""

import datetime

import pytest
from django.utils import timezone
from django.http import Http404
from django.test import RequestFactory

from exchanges.models import ListState, MonthlyList
from referentiel import perimeter
from referentiel.models import Agent, Departement, DirectionTerritoriale, Role
from referentiel.perimeter import Capability
from referentiel.services import grant_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list

pytestmark = pytest.mark.django_db
C = Capability


def _request(user, path="/chemin/"):
    request = RequestFactory().get(path, REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="navigateur-test")
    request.user = user
    return request


def codes(user, capability):
    return set(perimeter.visible_departements(user, capability).values_list("code", flat=True))


def test_capabilities_of_each_role_exactly(demo):
    assert perimeter.capabilities(demo["siao.69"]) == {C.SUBMIT_LIST, C.VIEW_MEETINGS, C.USE_LIST}
    # SIAO and SIAO habilitated by the prefect for the return flow: the union of both roles.
    assert perimeter.capabilities(demo["siao-dna.69"]) == {C.SUBMIT_LIST, C.VIEW_MEETINGS, C.USE_LIST,
                                                           C.READ_REVERSE_FLOW}
    assert perimeter.roles(demo["siao-dna.69"]) == {Role.SIAO, Role.SIAO_DNA}
    assert perimeter.capabilities(demo["dt.lyon"]) == {C.READ_EXTRACT, C.UPLOAD_REVERSE_FLOW, C.VIEW_MEETINGS,
                                                       C.MANAGE_MEETINGS, C.USE_LIST}
    assert perimeter.capabilities(demo["siege"]) == {C.READ_EXTRACT, C.UPLOAD_REVERSE_FLOW, C.VIEW_MEETINGS,
                                                     C.MANAGE_MEETINGS, C.USE_LIST, C.RIGHTS_REQUESTS,
                                                     C.NATIONAL_DASHBOARD, C.VIEW_AUDIT,
                                                     C.APPROVE_OFII_HABILITATIONS}
    # Never USE_LIST: the list belongs to OFII (instruction I.A, II.A.2).
    assert perimeter.capabilities(demo["prefecture.69"]) == {C.VIEW_MEETINGS, C.MANAGE_MEETINGS, C.DESIGNATE_DNA}
    assert perimeter.capabilities(demo["admin"]) == {C.ADMINISTER, C.VIEW_AUDIT}
    assert perimeter.capabilities(demo["nohab"]) == set()
    assert perimeter.capabilities(demo["expired"]) == set()
    assert perimeter.roles(demo["dt.lyon"]) == {Role.DT}
    assert perimeter.has_capability(demo["siao.69"], "submit_list") is True
    assert perimeter.has_capability(demo["siao.69"], C.READ_EXTRACT) is False


def test_departements_of_each_role_exactly(demo):
    lyon = DirectionTerritoriale.objects.get(pk=demo["dt.lyon"].habilitations.get().dt_id)
    lyon_codes = set(lyon.departements.values_list("code", flat=True))
    assert "69" in lyon_codes and "75" not in lyon_codes and len(lyon_codes) > 1
    assert codes(demo["siao.69"], C.SUBMIT_LIST) == {"69"}
    assert codes(demo["siao.69"], C.READ_EXTRACT) == set()  # capability not in the role
    assert codes(demo["dt.lyon"], C.READ_EXTRACT) == lyon_codes
    assert codes(demo["dt.lyon"], C.SUBMIT_LIST) == set()
    assert codes(demo["siege"], C.READ_EXTRACT) == set(Departement.objects.values_list("code", flat=True))
    assert codes(demo["prefecture.69"], C.MANAGE_MEETINGS) == {"69"}
    assert codes(demo["siao-dna.69"], C.READ_REVERSE_FLOW) == {"69"}
    assert codes(demo["admin"], C.READ_EXTRACT) == set()
    assert codes(demo["nohab"], C.VIEW_MEETINGS) == set()


def test_several_habilitations_add_up_and_an_inactive_agent_sees_nothing(demo):
    agent = Agent.objects.create_user("deux@demo.test", "x")
    for code in ("69", "75"):
        grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                           departements=Departement.objects.filter(code=code))
    assert codes(agent, C.SUBMIT_LIST) == {"69", "75"}
    agent.is_active = False
    perimeter.forget(agent)
    assert perimeter.active_habilitations(agent) == []
    assert codes(agent, C.SUBMIT_LIST) == set()


def test_anonymous_sees_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert perimeter.active_habilitations(AnonymousUser()) == []
    assert perimeter.active_habilitations(None) == []


def test_habilitations_are_read_once_per_user_object_and_forget_drops_the_cache(demo, django_assert_num_queries):
    agent = Agent.objects.create_user("cache@demo.test", "x")
    assert perimeter.active_habilitations(agent) == []
    with django_assert_num_queries(0):
        assert perimeter.active_habilitations(agent) == []
    from referentiel.models import Habilitation

    new = Habilitation.objects.create(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="x",
                                      approved_by=demo["admin"], approved_at=timezone.now())
    new.departements.set(Departement.objects.filter(code="69"))
    assert perimeter.active_habilitations(agent) == []  # still the cached answer
    perimeter.forget(agent)
    assert [h.pk for h in perimeter.active_habilitations(agent)] == [new.pk]
    perimeter.forget(agent)
    perimeter.forget(agent)  # twice: no error


def test_habilitation_ending_today_works_until_midnight_paris(demo, time_machine):
    paris = datetime.timezone(datetime.timedelta(hours=1))
    agent = Agent.objects.create_user("fin@demo.test", "x")
    grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                       departements=Departement.objects.filter(code="69"),
                       valid_from=datetime.date(2026, 11, 24), valid_until=datetime.date(2026, 11, 30))
    time_machine.move_to(datetime.datetime(2026, 11, 30, 23, 59, 59, tzinfo=paris), tick=False)
    perimeter.forget(agent)
    assert codes(agent, C.SUBMIT_LIST) == {"69"}
    time_machine.move_to(datetime.datetime(2026, 12, 1, 0, 0, 1, tzinfo=paris), tick=False)
    perimeter.forget(agent)
    assert codes(agent, C.SUBMIT_LIST) == set()
    # Starting today: from 00:00 Paris, not before.
    starting = Agent.objects.create_user("debut@demo.test", "x")
    grant_habilitation(agent=starting, role=Role.SIAO, granted_by=demo["admin"], reason="test",
                       departements=Departement.objects.filter(code="75"),
                       valid_from=datetime.date(2026, 12, 2), valid_until=datetime.date(2026, 12, 31))
    time_machine.move_to(datetime.datetime(2026, 12, 1, 23, 59, 59, tzinfo=paris), tick=False)
    assert codes(starting, C.SUBMIT_LIST) == set()
    time_machine.move_to(datetime.datetime(2026, 12, 2, 0, 0, 1, tzinfo=paris), tick=False)
    perimeter.forget(starting)
    assert codes(starting, C.SUBMIT_LIST) == {"75"}


def test_departement_outside_the_perimeter_is_404_and_journaled(demo):
    request = _request(demo["siao.75"], "/listes/69/deposer/")
    with pytest.raises(Http404):
        perimeter.departement_in_perimeter_or_404(request, C.SUBMIT_LIST, "69")
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert event.actor == demo["siao.75"] and event.actor_email == "siao.75@demo.test"
    assert event.departement == "69"
    assert event.details == {"capability": "submit_list", "path": "/listes/69/deposer/"}
    assert event.ip_address == "192.0.2.7" and event.user_agent == "navigateur-test"
    assert event.object_type == "" and event.object_id == ""


def test_departement_inside_the_perimeter_is_returned_without_journal(demo):
    dep = perimeter.departement_in_perimeter_or_404(_request(demo["siao.69"]), C.SUBMIT_LIST, "69")
    assert dep == Departement.objects.get(code="69")
    assert not AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).exists()


def test_unknown_departement_is_404_without_journal(demo):
    with pytest.raises(Http404):
        perimeter.departement_in_perimeter_or_404(_request(demo["siao.75"]), C.SUBMIT_LIST, "999")
    assert not AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).exists()


def test_object_outside_the_perimeter_is_404_and_journaled(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    request = _request(demo["siao.75"], f"/listes/{ml.pk}/")
    with pytest.raises(Http404):
        perimeter.get_in_perimeter_or_404(request, MonthlyList.objects.all(), C.SUBMIT_LIST, pk=ml.pk)
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert event.actor == demo["siao.75"] and event.departement == "69"
    assert event.object_type == "exchanges.MonthlyList" and event.object_id == str(ml.pk)
    assert event.details == {"capability": "submit_list", "path": f"/listes/{ml.pk}/", "reason": "hors périmètre"}
    assert event.ip_address == "192.0.2.7"
    # Inside the perimeter: the object, no journal entry.
    found = perimeter.get_in_perimeter_or_404(_request(demo["siao.69"]), MonthlyList.objects.all(),
                                              C.SUBMIT_LIST, pk=ml.pk)
    assert found == ml and AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).count() == 1


def test_a_row_behind_another_list_and_a_row_outside_are_journaled_with_their_reason(demo):
    """A row is looked up among the rows of the list named in the URL. Behind one's own other list: « hors de
    l’objet demandé »; in another département's list: « hors périmètre ». Both name the row's
    département (found through its list: a row has no département of its own)."""
    from exchanges.models import ListRow

    mine = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=2)
    other = make_list("69", "2026-10", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=1)
    row = mine.rows.order_by("line_number").first()
    with pytest.raises(Http404):
        perimeter.get_in_perimeter_or_404(_request(demo["siao.69"], "/r/"), other.rows.all(), C.SUBMIT_LIST,
                                          pk=row.pk)
    with pytest.raises(Http404):
        perimeter.get_in_perimeter_or_404(_request(demo["siao.75"], "/r/"), ListRow.objects.all(), C.SUBMIT_LIST,
                                          pk=row.pk)
    events = list(AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).order_by("pk"))
    assert [(e.actor_email, e.departement, e.object_type, e.object_id, e.details) for e in events] == [
        ("siao.69@demo.test", "69", "exchanges.ListRow", str(row.pk),
         {"capability": "submit_list", "path": "/r/", "reason": "hors de l’objet demandé"}),
        ("siao.75@demo.test", "69", "exchanges.ListRow", str(row.pk),
         {"capability": "submit_list", "path": "/r/", "reason": "hors périmètre"}),
    ]


def test_a_page_without_object_refuses_a_role_without_the_capability_and_journals_it(demo):
    """Only OFII uploads the return flow (R744-48 2°): a SIAO agent gets 403 and an entry; a DT
    agent goes through, unjournaled."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        perimeter.require_capability(_request(demo["siao.69"], "/flux-retour/"), C.UPLOAD_REVERSE_FLOW)
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert (event.actor_email, event.departement, event.details) == (
        "siao.69@demo.test", "", {"capability": "upload_reverse_flow", "path": "/flux-retour/"})
    assert perimeter.require_capability(_request(demo["dt.lyon"]), C.UPLOAD_REVERSE_FLOW) is None
    assert AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).count() == 1


def test_object_that_does_not_exist_is_404_without_journal(demo):
    with pytest.raises(Http404):
        perimeter.get_in_perimeter_or_404(_request(demo["siao.75"]), MonthlyList.objects.all(), C.SUBMIT_LIST,
                                          pk=987654)
    assert not AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).exists()


def test_departement_code_of_the_journaled_object(demo):
    dep = Departement.objects.get(code="2A")
    assert perimeter._departement_code(dep) == "2A"
    ml = make_list("971", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=1)
    assert perimeter._departement_code(ml) == "971"
    assert perimeter._departement_code(demo["admin"]) == ""


def test_departement_queryset_asked_outside_the_perimeter_is_404_and_journaled(demo):
    request = _request(demo["dt.lyon"], "/listes/extraits/departement/75/")
    with pytest.raises(Http404):
        perimeter.get_in_perimeter_or_404(request, Departement.objects.all(), C.READ_EXTRACT, code="75")
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert event.departement == "75" and event.object_type == "referentiel.Departement"


def test_only_an_authenticated_active_user_object_has_habilitations(demo):
    from types import SimpleNamespace

    pk = demo["siao.69"].pk
    assert perimeter.active_habilitations(SimpleNamespace(is_authenticated=False, is_active=True, pk=pk)) == []
    assert perimeter.active_habilitations(SimpleNamespace(is_active=True, pk=pk)) == []  # no is_authenticated
    real = SimpleNamespace(is_authenticated=True, is_active=True, pk=pk)
    assert [h.role for h in perimeter.active_habilitations(real)] == [Role.SIAO]


def test_habilitations_come_with_their_dt_and_departements_in_a_fixed_number_of_queries(demo,
                                                                                      django_assert_num_queries):
    # DT habilitations as installation grants (granted_by=None): one administrator's DT grant
    # waits for headquarters' approval (R744-47), tested in tests/trust.
    agent = Agent.objects.create_user("requetes@demo.test", "x")
    lyon = demo["dt.lyon"].habilitations.get().dt
    grant_habilitation(agent=agent, role=Role.DT, dt=lyon, granted_by=None, reason="x")
    grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="x",
                       departements=Departement.objects.filter(code__in=["75", "92"]))
    perimeter.forget(agent)
    # One query per request: the habilitations with their DT (joined). The perimeter filters read
    # the départements in a subquery of the query they filter, so they are not fetched here.
    with django_assert_num_queries(1):
        habs = perimeter.active_habilitations(agent)
    with django_assert_num_queries(0):
        assert sorted(str(h.dt) for h in habs if h.dt_id) == [str(lyon)]
    with django_assert_num_queries(1):
        assert sorted(perimeter.visible_departements(agent, C.VIEW_MEETINGS).filter(
            code__in=["75", "92"]).values_list("code", flat=True)) == ["75", "92"]


def test_departements_of_a_siao_and_a_dt_habilitation_add_up_whatever_their_order(demo):
    lyon = demo["dt.lyon"].habilitations.get().dt
    lyon_codes = set(lyon.departements.values_list("code", flat=True))
    for first_ends, second_ends in ((datetime.date(2027, 12, 31), datetime.date(2027, 6, 30)),
                                    (datetime.date(2027, 6, 30), datetime.date(2027, 12, 31))):
        agent = Agent.objects.create_user(f"mixte-{first_ends.month}@demo.test", "x")
        grant_habilitation(agent=agent, role=Role.SIAO, granted_by=demo["admin"], reason="x",
                           departements=Departement.objects.filter(code="75"), valid_until=first_ends)
        grant_habilitation(agent=agent, role=Role.DT, dt=lyon, granted_by=None, reason="x",
                           valid_until=second_ends)
        assert codes(agent, C.VIEW_MEETINGS) == lyon_codes | {"75"}
        second = Agent.objects.create_user(f"deux-dt-{first_ends.month}@demo.test", "x")
        paris = demo["dt.paris"].habilitations.get().dt
        grant_habilitation(agent=second, role=Role.DT, dt=lyon, granted_by=None, reason="x",
                           valid_until=first_ends)
        grant_habilitation(agent=second, role=Role.DT, dt=paris, granted_by=None, reason="x",
                           valid_until=second_ends)
        assert codes(second, C.READ_EXTRACT) == lyon_codes | set(paris.departements.values_list("code", flat=True))


def test_the_agent_of_a_session_comes_with_their_valid_habilitations_in_one_query(demo, django_assert_num_queries):
    """AgentBackend.get_user (every request): the agent and their habilitations valid today, in
    one query (issue 15), the same habilitations as HabilitationQuerySet.active() reads, in its
    order, each with its DT; pending, upcoming, expired and revoked ones left out."""
    from referentiel.backends import AgentBackend
    from referentiel.models import Habilitation

    agent = Agent.objects.create_user("jointure@demo.test", "x")
    lyon = demo["dt.lyon"].habilitations.get().dt
    today = timezone.localdate()
    grant_habilitation(agent=agent, role=Role.DT, dt=lyon, granted_by=None, reason="x",
                       valid_until=today + datetime.timedelta(days=100))
    grant_habilitation(agent=agent, role=Role.SIAO, granted_by=None, reason="x",
                       departements=Departement.objects.filter(code="75"), valid_until=today + datetime.timedelta(days=30))
    Habilitation.objects.create(agent=agent, role=Role.SIAO, reason="x", valid_from=today - datetime.timedelta(days=60),
                                valid_until=today - datetime.timedelta(days=1), approved_at=timezone.now())  # ended
    revoked = grant_habilitation(agent=agent, role=Role.PREFECTURE, granted_by=None, reason="x",
                                 departements=Departement.objects.filter(code="13"))
    Habilitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    Habilitation.objects.create(agent=agent, role=Role.PREFECTURE, reason="x", valid_from=today + datetime.timedelta(days=1),
                                approved_at=timezone.now())  # upcoming
    Habilitation.objects.create(agent=agent, role=Role.SIAO_DNA, reason="x")  # pending (never approved)
    # Created last, ends last: first in the order (latest end first, as Habilitation.Meta says).
    grant_habilitation(agent=agent, role=Role.PREFECTURE, granted_by=None, reason="x",
                       departements=Departement.objects.filter(code="69"), valid_until=today + datetime.timedelta(days=200))
    with django_assert_num_queries(1):
        loaded = AgentBackend().get_user(str(agent.pk))
        habs = perimeter.active_habilitations(loaded)
        assert [(h.role, str(h.dt) if h.dt_id else None) for h in habs] == [
            ("PREFECTURE", None), ("DT", str(lyon)), ("SIAO", None)]
        assert loaded.email == "jointure@demo.test" and habs[0].agent is loaded
        # Values as the ORM reads them (its converters): aware datetimes, dates.
        assert loaded.date_joined == agent.date_joined and loaded.date_joined.tzinfo is not None
        assert habs[2].valid_until == today + datetime.timedelta(days=30)
    assert [h.pk for h in habs] == list(Habilitation.objects.active().filter(agent=agent).values_list("pk", flat=True))
    # Without any valid habilitation: the agent, and none.
    with django_assert_num_queries(1):
        assert perimeter.active_habilitations(AgentBackend().get_user(str(demo["nohab"].pk))) == []
    # Unknown or deactivated agent: no user.
    assert AgentBackend().get_user("999999") is None
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert AgentBackend().get_user(str(agent.pk)) is None

"""The rules of the API, word for word (issue 11, "tests that bite"): tokens (format, hash,
expiry at the instant, revocation, constant-time comparison), scopes that never widen a
habilitation, the rate limit at the limit and one past it, idempotent writes, problem+json
bodies, and the journal of every call."""

import datetime
import hashlib
import io
import json
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions

from exchanges.models import MonthlyList
from referentiel.models import Agent, Habilitation, Organisation, Role
from siao_ofii.api import services
from siao_ofii.api.base import FileBodyParser, idempotent
from siao_ofii.api.models import ApiClient, IdempotentResponse, Scope
from siao_ofii.api.problems import ProblemError, exception_handler, problem
from siao_ofii.api.throttling import ClientRateThrottle
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges import samples

from .conftest import bearer

PROBLEM = "application/problem+json"
LISTS = "/api/v1/listes/"
UNKNOWN = "Jeton d’accès inconnu ou erroné."
EXPIRED = "Ce jeton d’accès a expiré : demandez-en un nouveau à l’administrateur."
REVOKED = "Ce jeton d’accès a été révoqué."
HEADER = "En-tête Authorization attendu : « Bearer <jeton> »."


def _problem_body(response):
    assert response["Content-Type"] == PROBLEM
    return response.json()


def _calls():
    return list(AuditEvent.objects.filter(action=AuditAction.API_CALL).order_by("id"))


# --- tokens --------------------------------------------------------------------------------

def test_a_client_its_service_agent_its_token_and_its_journal(demo, make_token):
    client, token = make_token(Role.SIAO, ["69"], scopes=["list:read", Scope.LIST_WRITE, "list:read"],
                               created_by=demo["admin"])
    token_id, secret = token.split(".")
    assert len(token_id) == 16 and int(token_id, 16) >= 0 and len(secret) >= 43
    assert client.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert client.scopes == ["list:read", "list:write"]
    assert abs(client.expires_at - timezone.now() - datetime.timedelta(days=365)) < datetime.timedelta(seconds=5)
    agent = client.agent
    assert (agent.email, agent.first_name, agent.last_name, agent.organisation) == (
        f"api-{token_id}@clients-api.invalid", "Client API", "client SIAO ['69']", client.organisation)
    assert not agent.has_usable_password()
    hab = Habilitation.objects.get(agent=agent)
    assert (hab.role, [d.code for d in hab.departements.all()], hab.granted_by) == (Role.SIAO, ["69"], demo["admin"])
    created = AuditEvent.objects.get(action=AuditAction.API_CLIENT_CREATED)
    assert created.actor == demo["admin"] and created.details == {
        "client": "client SIAO ['69']", "organisation": "SI de test", "token_id": token_id,
        "scopes": ["list:read", "list:write"], "expires_at": client.expires_at.isoformat()}


def test_the_longest_client_name_names_the_service_agent_and_an_expiry_may_be_chosen(demo):
    org = Organisation.objects.create(name="SI long", kind=Organisation.Kind.SIAO)
    when = timezone.now() + datetime.timedelta(days=30)
    client, _ = services.create_client(organisation=org, name="N" * 150, scopes=[Scope.LIST_READ], role=Role.SIAO,
                                       created_by=demo["admin"], reason="convention", expires_at=when)
    assert client.agent.last_name == "N" * 150 and client.name == "N" * 150 and client.expires_at == when


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PREFECTURE])
def test_people_roles_are_never_given_to_a_client(demo, role):
    org = Organisation.objects.create(name="SI", kind=Organisation.Kind.SIAO)
    with pytest.raises(ValueError, match="^Ce rôle ne peut pas être donné à un client de l’API.$"):
        services.create_client(organisation=org, name="x", scopes=[Scope.LIST_READ], role=role,
                               created_by=demo["admin"], reason="r")
    assert not ApiClient.objects.exists() and not Agent.objects.filter(email__endswith="clients-api.invalid").exists()


@pytest.mark.parametrize("role", [Role.SIAO, Role.SIAO_DNA, Role.DT, Role.SIEGE])
def test_machine_roles_may_be_given(demo, role):
    org = Organisation.objects.create(name="SI", kind=Organisation.Kind.SIAO)
    from referentiel.models import Departement

    dt = demo["dt.lyon"].habilitations.get(role="DT").dt if role == Role.DT else None
    codes = ["69"] if role in (Role.SIAO, Role.SIAO_DNA) else []
    client, _ = services.create_client(organisation=org, name="x", scopes=[Scope.LIST_READ], role=role,
                                       created_by=demo["prefecture.69"] if role == Role.SIAO_DNA else demo["admin"],
                                       reason="r", departements=Departement.objects.filter(code__in=codes), dt=dt)
    assert Habilitation.objects.get(agent=client.agent).role == role


def test_the_token_expires_at_its_instant_not_a_microsecond_before(make_token):
    client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    assert services.authenticate_token(token, now=client.expires_at - datetime.timedelta(microseconds=1)) == client
    for now in (client.expires_at, client.expires_at + datetime.timedelta(days=1)):
        with pytest.raises(services.TokenError) as exc:
            services.authenticate_token(token, now=now)
        assert str(exc.value) == EXPIRED


def test_unknown_wrong_and_malformed_tokens_get_one_message(make_token):
    client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    token_id, secret = token.split(".")
    assert services.authenticate_token(f"  {token}\n") == client
    for wrong in (f"{token_id}.{secret[:-1]}", f"{token_id}.{secret}x", f"{token_id}.{secret}.x", f"x{token_id}.{secret}",
                  token_id, f"{token_id}.", f".{secret}", "", None, "inconnu.secret"):
        with pytest.raises(services.TokenError) as exc:
            services.authenticate_token(wrong)
        assert str(exc.value) == UNKNOWN, wrong


def test_revoked_before_expired_and_the_disabled_service_agent(demo, make_token):
    client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    Agent.objects.filter(pk=client.agent_id).update(is_active=False)
    with pytest.raises(services.TokenError, match="^Le compte de service de ce client est désactivé.$"):
        services.authenticate_token(token)
    services.revoke_client(client, revoked_by=demo["admin"])
    for now in (None, client.expires_at):
        with pytest.raises(services.TokenError) as exc:
            services.authenticate_token(token, now=now)
        assert str(exc.value) == REVOKED


def test_the_secret_is_compared_in_constant_time_even_for_an_unknown_id(make_token, monkeypatch):
    client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    seen = []
    real = services.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(services.hmac, "compare_digest", spy)
    _, secret = token.split(".")
    services.authenticate_token(token)
    with pytest.raises(services.TokenError):
        services.authenticate_token(f"{client.token_id}.faux")
    with pytest.raises(services.TokenError):
        services.authenticate_token("0123456789abcdef.faux")
    faux = hashlib.sha256(b"faux").hexdigest()
    assert seen[:2] == [(hashlib.sha256(secret.encode()).hexdigest(), client.secret_hash), (faux, client.secret_hash)]
    # An unknown id is compared too, against a hash of the same length: no shortcut to time.
    assert seen[2][0] == faux and len(seen[2][1]) == 64 and seen[2][1] != client.secret_hash
    assert len(seen) == 3


def test_revocation_is_journaled_once_with_before_and_after(demo, make_token):
    client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    revoked = services.revoke_client(client, revoked_by=demo["admin"])
    assert revoked.revoked_by == demo["admin"]
    assert abs(revoked.revoked_at - timezone.now()) < datetime.timedelta(seconds=5)
    again = services.revoke_client(client, revoked_by=demo["siege"])
    assert (again.revoked_at, again.revoked_by) == (revoked.revoked_at, demo["admin"])
    stored = ApiClient.objects.get(pk=client.pk)
    assert (stored.revoked_at, stored.revoked_by) == (revoked.revoked_at, demo["admin"])
    event = AuditEvent.objects.get(action=AuditAction.API_CLIENT_REVOKED)
    assert event.actor == demo["admin"] and event.details["token_id"] == client.token_id
    assert event.details["old"]["revoked_at"] is None
    assert event.details["new"]["revoked_at"] == revoked.revoked_at.isoformat()
    assert event.details["new"]["scopes"] == ["list:read"]


# --- the Authorization header, through HTTP -------------------------------------------------

@pytest.mark.parametrize("header", ["Token abc.def", "Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Bearerabc.def"])
def test_a_malformed_authorization_header_is_refused_word_for_word(client, db, header):
    response = client.get(LISTS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert _problem_body(response) == {"type": "about:blank", "title": "Authentification requise", "status": 401,
                                       "detail": HEADER, "instance": LISTS}
    assert "token_id" not in _calls()[-1].details


def test_a_refused_token_is_journaled_with_its_id_cut_to_32_characters(client, db):
    response = client.get(LISTS, HTTP_AUTHORIZATION=f"Bearer {'a' * 40}.secret")
    assert _problem_body(response) == {"type": "about:blank", "title": "Authentification requise", "status": 401,
                                       "detail": UNKNOWN, "instance": LISTS}
    event = _calls()[-1]
    assert (event.actor, event.details["token_id"], event.details["status"], "client" in event.details) == (
        None, "a" * 32, 401, False)


def test_no_header_at_all_is_401_with_the_bearer_challenge(client, db):
    response = client.get(LISTS)
    body = _problem_body(response)
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert (body["title"], body["status"], body["instance"]) == ("Authentification requise", 401, LISTS)
    assert "token_id" not in _calls()[-1].details


# --- scopes and habilitation (403) ---------------------------------------------------------

def test_a_scope_missing_from_the_token_is_403_word_for_word(client, make_token):
    _, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_WRITE])
    response = client.get(LISTS, **bearer(token))
    assert response.status_code == 403
    assert _problem_body(response) == {
        "type": "about:blank", "title": "Opération non autorisée", "status": 403,
        "detail": "Ce jeton n’est pas autorisé pour l’opération « list:read ».", "instance": LISTS}
    event = _calls()[-1]
    assert (event.details["scope"], event.details["status"], event.details["method"]) == ("list:read", 403, "GET")


def test_a_scope_never_widens_the_habilitation(client, demo, make_token):
    # A SIAO client given return:read: the scope is on the token, the SIAO_DNA habilitation is not.
    _, token = make_token(Role.SIAO, ["69"], scopes=[Scope.RETURN_READ])
    response = client.get("/api/v1/flux-retour/archives/", **bearer(token))
    assert response.status_code == 403
    assert _problem_body(response)["detail"] == (
        "Le compte de service de ce client n’a pas d’habilitation valide pour cette opération (habilitation en "
        "attente d’approbation, expirée ou révoquée).")


def test_a_return_reader_client_waits_for_the_prefects_designation(client, demo, make_token):
    """R744-48 2°: a SIAO_DNA client asked by an administrator reads nothing until the
    prefecture of the département designates it."""
    from referentiel.services import approve_habilitation

    api_client, token = make_token(Role.SIAO_DNA, ["69"], scopes=[Scope.RETURN_READ], created_by=demo["admin"])
    response = client.get("/api/v1/flux-retour/archives/", **bearer(token))
    assert response.status_code == 403 and "en attente d’approbation" in response.json()["detail"]
    approve_habilitation(Habilitation.objects.get(agent=api_client.agent), approved_by=demo["prefecture.69"])
    assert client.get("/api/v1/flux-retour/archives/", **bearer(token)).status_code == 200


# --- rate limit ------------------------------------------------------------------------------

def test_the_rate_limit_at_the_limit_and_one_past_it(client, make_token, settings, time_machine):
    settings.API_RATE_LIMIT = "3/min"
    _, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    assert [client.get(LISTS, **bearer(token)).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(LISTS, **bearer(token))
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    body = _problem_body(refused)
    assert (body["type"], body["title"], body["status"], body["instance"]) == (
        "about:blank", "Trop de requêtes", 429, LISTS)
    assert _calls()[-1].details["status"] == 429
    time_machine.move_to(timezone.now() + datetime.timedelta(seconds=59), tick=False)
    assert client.get(LISTS, **bearer(token)).status_code == 429
    time_machine.move_to(timezone.now() + datetime.timedelta(seconds=2), tick=False)
    assert client.get(LISTS, **bearer(token)).status_code == 200


def test_the_counter_is_per_token_and_per_address_for_the_anonymous(settings):
    settings.API_RATE_LIMIT = "2/min"
    cache.clear()
    throttle = ClientRateThrottle()

    def request(auth=None, ip="192.0.2.1"):
        return SimpleNamespace(auth=auth, META={"REMOTE_ADDR": ip}, headers={})

    one, two = ApiClient(token_id="jeton-un"), ApiClient(token_id="jeton-deux")
    assert throttle.get_cache_key(request(one), None) == "throttle_api_client-jeton-un"
    assert throttle.get_cache_key(request(None, "192.0.2.9"), None) == "throttle_api_ip-192.0.2.9"
    assert throttle.get_cache_key(request("pas un client", "192.0.2.9"), None) == "throttle_api_ip-192.0.2.9"
    assert [ClientRateThrottle().allow_request(request(one), None) for _ in range(3)] == [True, True, False]
    assert ClientRateThrottle().allow_request(request(two), None) is True
    assert [ClientRateThrottle().allow_request(request(), None) for _ in range(3)] == [True, True, False]
    assert ClientRateThrottle().allow_request(request(ip="192.0.2.2"), None) is True
    # The same address with a token is counted for the token, not the address.
    assert ClientRateThrottle().allow_request(request(two, "192.0.2.1"), None) is True


# --- idempotent writes -----------------------------------------------------------------------

def _push(client, token, data, *, key, code="69", period="2026-11"):
    headers = {**bearer(token), **({"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {})}
    return client.post(f"/api/v1/departements/{code}/listes/{period}/", data=data, content_type="text/csv",
                       **headers)


@pytest.fixture
def writer(make_token):
    return make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_WRITE, Scope.LIST_READ])


def test_the_idempotency_key_is_required_and_bounded_word_for_word(client, writer):
    _, token = writer
    data = samples.csv_bytes(samples.GOOD)
    for key in (None, "", "   "):
        response = _push(client, token, data, key=key)
        assert response.status_code == 428
        assert _problem_body(response) == {
            "type": "about:blank", "title": "En-tête Idempotency-Key obligatoire", "status": 428,
            "detail": "Chaque écriture porte un en-tête Idempotency-Key (par exemple un UUID) : en cas de nouvel essai, "
                      "le même en-tête garantit qu’aucune seconde version n’est créée.",
            "instance": "/api/v1/departements/69/listes/2026-11/"}
    response = _push(client, token, data, key="k" * 256)
    assert response.status_code == 400 and _problem_body(response)["detail"] == (
        "L’en-tête Idempotency-Key ne doit pas dépasser 255 caractères.")
    assert _problem_body(response)["title"] == "Requête invalide"
    assert not MonthlyList.objects.exists() and not IdempotentResponse.objects.exists()
    assert _push(client, token, data, key="k" * 255).status_code == 202
    assert IdempotentResponse.objects.get().key == "k" * 255


def test_a_replay_gives_the_stored_answer_and_is_journaled_as_such(client, writer):
    api_client, token = writer
    data = samples.csv_bytes(samples.GOOD)
    first = _push(client, token, data, key=" cle ")
    again = _push(client, token, data, key="cle")
    assert (first.status_code, again.status_code) == (202, 202)
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again["Location"] == first["Location"]
    stored = IdempotentResponse.objects.get()
    assert (stored.client, stored.key, stored.status_code, stored.location) == (api_client, "cle", 202,
                                                                                first["Location"])
    expected = hashlib.sha256(b"POST /api/v1/departements/69/listes/2026-11/\n" + data).hexdigest()
    assert stored.fingerprint == expected
    assert [e.details.get("replayed") for e in _calls()] == [None, True]
    assert MonthlyList.objects.count() == 1


def test_the_same_key_for_another_request_is_422_word_for_word(client, writer):
    _, token = writer
    _push(client, token, samples.csv_bytes(samples.GOOD), key="cle")
    response = _push(client, token, samples.csv_bytes(samples.GOOD[:1]), key="cle")
    assert response.status_code == 422 and _problem_body(response) == {
        "type": "about:blank", "title": "Requête impossible à traiter", "status": 422,
        "detail": "Cette clé Idempotency-Key a déjà servi pour une autre requête : utilisez une nouvelle clé pour "
                  "chaque nouvelle écriture.",
        "instance": "/api/v1/departements/69/listes/2026-11/"}


def test_a_key_still_in_progress_is_409_word_for_word(client, writer):
    api_client, token = writer
    data = samples.csv_bytes(samples.GOOD)
    fingerprint = hashlib.sha256(b"POST /api/v1/departements/69/listes/2026-11/\n" + data).hexdigest()
    IdempotentResponse.objects.create(client=api_client, key="en-cours", fingerprint=fingerprint)
    response = _push(client, token, data, key="en-cours")
    assert response.status_code == 409 and _problem_body(response) == {
        "type": "about:blank", "title": "Conflit", "status": 409,
        "detail": "Une requête avec cette clé Idempotency-Key est en cours : réessayez dans quelques secondes.",
        "instance": "/api/v1/departements/69/listes/2026-11/"}
    assert not MonthlyList.objects.exists()


def test_a_json_body_is_the_same_request_whatever_the_order_of_its_keys(client, make_token, writer):
    from tests.factories import make_list
    from exchanges.models import ListState

    api_client, token = writer
    ml = make_list("69", "2026-11", uploaded_by=api_client.agent, state=ListState.DRAFT)
    url = f"/api/v1/listes/{ml.pk}/lignes/2/"
    row = {"last_name": "NOM", "first_name": "Prénom", "birth_date": "01/01/1990", "sex": "M", "status": "DA",
           "shelter_address": "1 rue de la Paix, 69001 Lyon", "entry_date": "01/10/2026"}
    first = client.put(url, data=row, content_type="application/json", HTTP_IDEMPOTENCY_KEY="ligne",
                       **bearer(token))
    reordered = dict(reversed(list(row.items())))
    again = client.put(url, data=json.dumps(reordered), content_type="application/json", HTTP_IDEMPOTENCY_KEY="ligne",
                       **bearer(token))
    assert first.status_code == again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    changed = client.put(url, data={**row, "first_name": "Autre"}, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="ligne", **bearer(token))
    assert changed.status_code == 422


def test_keys_are_per_client(client, make_token, writer):
    _, token = writer
    _, other = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_WRITE])
    assert _push(client, token, samples.csv_bytes(samples.GOOD), key="meme-cle").status_code == 202
    response = _push(client, other, samples.csv_bytes(samples.GOOD[:1]), key="meme-cle")
    assert response.status_code == 202 and "Idempotent-Replayed" not in response
    assert IdempotentResponse.objects.count() == 2


def test_a_write_that_fails_keeps_no_answer_and_may_be_retried(writer, rf):
    api_client, _ = writer
    request = SimpleNamespace(headers={"Idempotency-Key": "essai"}, method="POST", path="/api/v1/x/", data=b"corps",
                              auth=api_client)

    def broken():
        raise RuntimeError("panne")

    with pytest.raises(RuntimeError):
        idempotent(request, broken)
    assert not IdempotentResponse.objects.exists()
    with pytest.raises(ProblemError):
        idempotent(request, lambda: (_ for _ in ()).throw(ProblemError(422, "refus")))
    assert not IdempotentResponse.objects.exists()

    from rest_framework.response import Response

    done = idempotent(request, lambda: Response({"ok": 1}, status=201, headers={"Location": "/ici/"}))
    assert done.status_code == 201
    stored = IdempotentResponse.objects.get()
    assert (stored.status_code, stored.body, stored.location) == (201, {"ok": 1}, "/ici/")
    replay = idempotent(request, broken)
    assert (replay.status_code, replay.data, replay["Location"], replay["Idempotent-Replayed"]) == (
        201, {"ok": 1}, "/ici/", "true")
    no_location = SimpleNamespace(**{**request.__dict__, "headers": {"Idempotency-Key": "sans"}})
    idempotent(no_location, lambda: Response({"ok": 2}, status=200))
    replay = idempotent(no_location, broken)
    assert "Location" not in replay and IdempotentResponse.objects.get(key="sans").location == ""
    # Without a parsed body (body=False), only the method and the path count.
    bodiless = SimpleNamespace(**{**request.__dict__, "headers": {"Idempotency-Key": "vide"}, "data": b"ignored"})
    idempotent(bodiless, lambda: Response({}, status=200), body=False)
    assert IdempotentResponse.objects.get(key="vide").fingerprint == hashlib.sha256(b"POST /api/v1/x/\n").hexdigest()


# --- the file body --------------------------------------------------------------------------

TOO_LARGE = "Le fichier dépasse la taille maximale (0 Mo) : il n’a pas été enregistré."


def _parse(data, announced, settings, limit=100):
    settings.UPLOAD_MAX_BYTES = limit
    request = SimpleNamespace(META={"CONTENT_LENGTH": announced} if announced is not None else {})
    return FileBodyParser().parse(io.BytesIO(data) if data is not None else None,
                                  parser_context={"request": request})


def test_the_file_body_at_the_limit_and_one_byte_past_it(settings):
    assert _parse(b"x" * 100, "100", settings) == b"x" * 100
    for data, announced in ((b"x" * 101, "101"), (b"x", "101"), (b"x" * 101, None), (b"x" * 101, "abc"),
                            (b"x" * 101, "5")):
        with pytest.raises(ProblemError) as exc:
            _parse(data, announced, settings)
        assert (exc.value.status_code, str(exc.value.detail)) == (413, TOO_LARGE), (len(data), announced)
    assert _parse(None, "0", settings) == b""
    assert _parse(b"", "", settings) == b""


def test_an_oversized_push_is_413_word_for_word(client, writer, settings):
    _, token = writer
    settings.UPLOAD_MAX_BYTES = 100
    response = _push(client, token, b"x" * 101, key="gros")
    assert response.status_code == 413 and _problem_body(response) == {
        "type": "about:blank", "title": "Fichier trop volumineux", "status": 413, "detail": TOO_LARGE,
        "instance": "/api/v1/departements/69/listes/2026-11/"}


# --- problem+json ---------------------------------------------------------------------------

TITLES = {400: "Requête invalide", 401: "Authentification requise", 403: "Opération non autorisée",
          404: "Ressource introuvable", 405: "Méthode non autorisée", 406: "Format de réponse non disponible",
          409: "Conflit", 413: "Fichier trop volumineux", 415: "Format non pris en charge",
          422: "Requête impossible à traiter", 428: "En-tête Idempotency-Key obligatoire", 429: "Trop de requêtes"}


@pytest.mark.parametrize("status", sorted(TITLES) + [418, 500])
def test_every_problem_has_its_french_title(status):
    response = problem(status, "détail", instance="/api/v1/x/", headers={"Retry-After": "7"}, champ=[1])
    assert response.status_code == status and response.content_type == PROBLEM
    assert response.data == {"type": "about:blank", "title": TITLES.get(status, "Erreur"), "status": status,
                             "detail": "détail", "instance": "/api/v1/x/", "champ": [1]}
    assert response["Retry-After"] == "7"
    assert problem(status, "d").data == {"type": "about:blank", "title": TITLES.get(status, "Erreur"),
                                         "status": status, "detail": "d"}


def _handled(exc, path="/api/v1/x/"):
    request = SimpleNamespace(path=path) if path else None
    return exception_handler(exc, {"request": request, "view": None})


def test_the_exception_handler_answers_in_problem_json():
    not_found = _handled(Http404("interne"))
    assert (not_found.status_code, not_found.content_type, not_found.data) == (404, PROBLEM, {
        "type": "about:blank", "title": "Ressource introuvable", "status": 404,
        "detail": "Ressource introuvable ou hors de votre périmètre.", "instance": "/api/v1/x/"})
    denied = _handled(PermissionDenied("Pas pour vous."))
    assert (denied.status_code, denied.data["detail"], denied.data["title"]) == (403, "Pas pour vous.",
                                                                                "Opération non autorisée")
    assert _handled(PermissionDenied()).data["detail"] == str(exceptions.PermissionDenied.default_detail)
    invalid = _handled(exceptions.ValidationError({"sex": ["Valeur inconnue."]}))
    assert invalid.data == {"type": "about:blank", "title": "Requête invalide", "status": 400,
                            "detail": "Certaines valeurs sont invalides.", "errors": {"sex": ["Valeur inconnue."]},
                            "instance": "/api/v1/x/"}
    listed = _handled(exceptions.ValidationError(["Un.", "Deux."]))
    assert (listed.data["detail"], listed.data["errors"]) == ("Certaines valeurs sont invalides.", ["Un.", "Deux."])
    refused = _handled(ProblemError(422, "Mois refusé.", allowed_periods=["2026-11"]), path="")
    assert refused.data == {"type": "about:blank", "title": "Requête impossible à traiter", "status": 422,
                            "detail": "Mois refusé.", "allowed_periods": ["2026-11"]}
    assert _handled(ValueError("pas une erreur de l’API")) is None


def test_the_exception_handler_keeps_the_useful_headers_only():
    throttled = _handled(exceptions.Throttled(wait=30))
    assert (throttled.status_code, throttled["Retry-After"]) == (429, "30")
    unauthenticated = _handled(exceptions.NotAuthenticated("Qui êtes-vous ?"))
    assert (unauthenticated.status_code, unauthenticated["WWW-Authenticate"]) == (401, 'Bearer realm="api"')
    assert unauthenticated.data["detail"] == "Qui êtes-vous ?"
    challenged = exceptions.AuthenticationFailed("Refusé.")
    challenged.auth_header = 'Bearer realm="autre"'
    assert _handled(challenged)["WWW-Authenticate"] == 'Bearer realm="autre"'
    assert not _handled(exceptions.NotFound()).has_header("WWW-Authenticate")
    assert not _handled(exceptions.NotFound()).has_header("Retry-After")


def test_an_unknown_address_and_a_wrong_method_are_problems(client, writer):
    _, token = writer
    response = client.delete(LISTS, **bearer(token))
    body = _problem_body(response)
    assert response.status_code == 405 and (body["title"], body["status"]) == ("Méthode non autorisée", 405)
    response = client.get("/api/v1/listes/abc/", **bearer(token))
    assert response.status_code == 404 and _problem_body(response)["title"] == "Ressource introuvable"


# --- the journal of every call ---------------------------------------------------------------

def test_every_call_is_journaled_with_what_it_was(client, writer):
    api_client, token = writer
    client.get(LISTS, **bearer(token))
    client.get("/api/v1/departements/6%009/listes/2026-11/", **bearer(token))
    long_path = "/api/v1/departements/" + "a" * 600 + "/listes/2026-11/"
    client.get(long_path, **bearer(token))
    events = _calls()
    first = events[0].details
    assert first == {"client": api_client.name, "token_id": api_client.token_id, "method": "GET", "path": LISTS,
                     "status": 200, "scope": "list:read"}
    assert events[0].actor == api_client.agent
    assert (events[1].details["path"], events[1].details["status"]) == (
        "/api/v1/departements/6\ufffd9/listes/2026-11/", 405)
    assert events[2].details["path"] == long_path[:500]


def test_the_openapi_description_names_the_bearer_scheme():
    from siao_ofii.api.authentication import BearerTokenAuthentication, BearerTokenScheme

    scheme = BearerTokenScheme(BearerTokenAuthentication)
    assert scheme.name == "jeton"
    assert scheme.get_security_definition(None) == {"type": "http", "scheme": "bearer",
                                                    "bearerFormat": "<identifiant>.<secret>"}
    assert BearerTokenAuthentication().authenticate_header(None) == 'Bearer realm="api"'


def test_the_same_key_sent_twice_at_the_same_instant(writer, make_token, monkeypatch):
    """The second request loses the race on the unique (client, key): it reads the first one's
    row, its own client's and no other's, and is told to retry (409)."""
    from django.db import IntegrityError

    api_client, _ = writer
    other, _ = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_WRITE])
    request = SimpleNamespace(headers={"Idempotency-Key": "course"}, method="POST", path="/api/v1/x/",
                              data=b"corps", auth=api_client)
    fingerprint = hashlib.sha256(b"POST /api/v1/x/\ncorps").hexdigest()
    IdempotentResponse.objects.create(client=other, key="course", fingerprint="autre")
    IdempotentResponse.objects.create(client=api_client, key="course", fingerprint=fingerprint)
    IdempotentResponse.objects.create(client=api_client, key="autre-cle", fingerprint=fingerprint, status_code=200)

    def lost_race(**kwargs):
        raise IntegrityError("api_idempotency_unique_key")

    monkeypatch.setattr(IdempotentResponse.objects, "get_or_create", lost_race)
    with pytest.raises(ProblemError) as exc:
        idempotent(request, lambda: pytest.fail("the handler must not run twice"))
    assert exc.value.status_code == 409
    assert IdempotentResponse.objects.count() == 3


@pytest.mark.parametrize("header", [{"HTTP_AUTHORIZATION": "Bearer abc.def"}, {}], ids=["wrong token", "no token"])
def test_calls_without_a_valid_token_are_counted_per_address_before_their_401(client, db, settings, header):
    settings.API_RATE_LIMIT = "2/min"
    cache.clear()
    statuses = [client.get(LISTS, REMOTE_ADDR="192.0.2.50", **header).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    refused = client.get(LISTS, REMOTE_ADDR="192.0.2.50", **header)
    assert refused["Retry-After"] == "60"
    assert _problem_body(refused)["title"] == "Trop de requêtes"
    # Another address is counted apart.
    assert client.get(LISTS, REMOTE_ADDR="192.0.2.51", **header).status_code == 401


def test_a_forged_forwarded_for_header_does_not_give_a_new_address(client, db, settings):
    settings.API_RATE_LIMIT = "2/min"
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()
    statuses = [client.get(LISTS, REMOTE_ADDR="192.0.2.60", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
                           HTTP_AUTHORIZATION="Bearer abc.def").status_code for n in range(3)]
    assert statuses == [401, 401, 429]


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted(client, db, settings):
    settings.API_RATE_LIMIT = "1/min"
    settings.TRUSTED_PROXY_COUNT = 1
    cache.clear()

    def call(seen):  # the client may prepend anything; the proxy appends the address it saw
        return client.get(LISTS, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {seen}",
                          HTTP_AUTHORIZATION="Bearer abc.def").status_code

    assert [call("192.0.2.70"), call("192.0.2.70"), call("192.0.2.71")] == [401, 429, 401]

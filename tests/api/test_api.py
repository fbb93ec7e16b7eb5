"""The API through the test client: push → report → fix → validate, idempotency, tokens,
scopes, perimeter, limits, journal (issue 14)."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from exchanges.models import Extract, ListState, MonthlyList
from referentiel.models import Departement, Habilitation, Role
from siao_ofii.api import services
from siao_ofii.api.models import Scope
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges import samples
from tests.factories import make_list
from tests.helpers import login

from .conftest import bearer

PROBLEM = "application/problem+json"


def push(client, token, data, *, code="69", period="2026-11", key="cle-1", content_type="text/csv", **extra):
    headers = {**bearer(token), **({"HTTP_IDEMPOTENCY_KEY": key} if key else {}), **extra}
    return client.post(reverse("api:list_push", args=[code, period]), data=data, content_type=content_type, **headers)


@pytest.fixture
def siao69(make_token):
    return make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_WRITE, Scope.LIST_READ])


def test_push_report_fix_validate_with_the_messages_of_the_page(client, demo, siao69,
                                                                 django_capture_on_commit_callbacks):
    api_client, token = siao69
    with django_capture_on_commit_callbacks(execute=True):
        response = push(client, token, samples.csv_bytes(samples.GOOD + samples.BAD),
                        HTTP_CONTENT_DISPOSITION='attachment; filename="liste.csv"')
    assert response.status_code == 202, response.content
    ml = MonthlyList.objects.get()
    assert response["Location"] == f"/api/v1/listes/{ml.pk}/"
    assert (ml.departement.code, ml.period, ml.uploaded_by, ml.source_name) == ("69", "2026-11", api_client.agent,
                                                                               "liste.csv")
    report = client.get(f"/api/v1/listes/{ml.pk}/", **bearer(token)).json()
    assert (report["state"], report["row_count"], report["error_count"], report["can_validate"]) == ("draft", 5, 2, False)
    errors = [(i["line"], i["column"], i["message"]) for i in report["issues"] if i["level"] == "erreur"]
    assert (5, "Date de naissance", "date impossible « 31/02/1990 »") in errors
    assert {line for line, _, _ in errors} == {5, 6}
    assert [c for line, c, _ in errors if line == 6] == ["NOM", "Sexe", "Situation administrative", "Date d'entrée"]
    # The same rows, columns and messages as the page of the SIAO agent.
    page = html.unescape(login(client, demo["siao.69"]).get(
        reverse("exchanges:detail", args=[ml.pk]) + "?type=errors").content.decode())
    for line, column, message in errors:
        assert f"<td>{line}</td>" in page and f"<td>{column}</td>" in page and message in page, (line, column, message)
    client.logout()
    # Validation refused while errors remain (409, French), then the rows are fixed.
    response = client.post(f"/api/v1/listes/{ml.pk}/validation/", HTTP_IDEMPOTENCY_KEY="v-1", **bearer(token))
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == "La liste contient encore 2 ligne(s) en erreur : corrigez-les avant de valider."
    good = {"last_name": "MARTIN", "first_name": "Paul", "birth_date": "28/02/1990", "sex": "M", "status": "DA",
            "shelter_address": "5 rue Sala, 69002 Lyon", "entry_date": "01/11/2026"}
    for line, key in ((5, "r-5"), (6, "r-6")):
        response = client.put(f"/api/v1/listes/{ml.pk}/lignes/{line}/", data=dict(good, first_name=f"P{line}"),
                              content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **bearer(token))
        assert response.status_code == 200, response.content
        assert response.json()["errors"] == []
    assert response.json()["list"]["error_count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/listes/{ml.pk}/validation/", HTTP_IDEMPOTENCY_KEY="v-2", **bearer(token))
    assert response.status_code == 200, response.content
    ml.refresh_from_db()
    assert (ml.state, ml.validated_by, ml.version) == (ListState.VALIDATED, api_client.agent, 1)
    assert response.json()["state"] == "validated"
    assert AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED, actor=api_client.agent).count() == 1


def test_retried_push_with_the_same_key_creates_one_version(client, siao69, django_capture_on_commit_callbacks):
    _, token = siao69
    data = samples.csv_bytes(samples.GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        first = push(client, token, data, key="0b8f-retry")
        second = push(client, token, data, key="0b8f-retry")
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert MonthlyList.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD).count() == 1
    # The same key for another body: refused, nothing created.
    other = push(client, token, samples.csv_bytes(samples.GOOD[:1]), key="0b8f-retry")
    assert other.status_code == 422 and other["Content-Type"] == PROBLEM
    assert "a déjà servi pour une autre requête" in other.json()["detail"]
    # No key: refused (428), nothing created.
    missing = push(client, token, data, key=None)
    assert missing.status_code == 428 and "Idempotency-Key" in missing.json()["detail"]
    # A new key is a new upload (its draft replaces the previous one, as on the page).
    with django_capture_on_commit_callbacks(execute=True):
        third = push(client, token, data, key="0b8f-second")
    assert third.status_code == 202 and third.json()["id"] != first.json()["id"]
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD).count() == 2


def test_a_refused_write_is_not_stored_and_may_be_retried(client, siao69, settings):
    _, token = siao69
    settings.UPLOAD_MAX_BYTES = 100
    first = push(client, token, b"x" * 101, key="k")
    assert first.status_code == 413 and first["Content-Type"] == PROBLEM
    assert first.json()["detail"] == "Le fichier dépasse la taille maximale (0 Mo) : il n’a pas été enregistré."
    assert MonthlyList.objects.count() == 0
    bad = push(client, token, b"\x00\x01 not a table", key="k2")
    assert bad.status_code == 422 and MonthlyList.objects.count() == 0
    wrong_month = push(client, token, samples.csv_bytes(samples.GOOD), period="2026-08", key="k3")
    assert wrong_month.status_code == 422 and wrong_month.json()["allowed_periods"] == ["2026-11", "2026-10"]


def test_token_of_69_cannot_read_or_write_75(client, demo, siao69):
    _, token = siao69
    ml75 = make_list("75", "2026-11", uploaded_by=demo["siao.75"], state=ListState.DRAFT)
    ml69 = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    before = AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).count()
    assert push(client, token, samples.csv_bytes(samples.GOOD), code="75").status_code == 404
    assert client.get(f"/api/v1/listes/{ml75.pk}/", **bearer(token)).status_code == 404
    response = client.post(f"/api/v1/listes/{ml75.pk}/validation/", HTTP_IDEMPOTENCY_KEY="x", **bearer(token))
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert response.json()["title"] == "Ressource introuvable"
    assert MonthlyList.objects.get(pk=ml75.pk).state == ListState.DRAFT
    assert MonthlyList.objects.filter(departement__code="75").count() == 1
    denied = AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED).order_by("id")[before:]
    assert [e.departement for e in denied] == ["75", "75", "75"]
    listed = client.get("/api/v1/listes/", **bearer(token)).json()
    assert [m["id"] for m in listed] == [ml69.pk]


def test_expired_revoked_unknown_tokens_get_401(client, demo, make_token, time_machine):
    expiring, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ],
                                 expires_at=timezone.now() + datetime.timedelta(days=1))
    assert client.get("/api/v1/listes/", **bearer(token)).status_code == 200
    time_machine.move_to(timezone.now() + datetime.timedelta(days=1, seconds=1))
    response = client.get("/api/v1/listes/", **bearer(token))
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"] == "Ce jeton d’accès a expiré : demandez-en un nouveau à l’administrateur."

    revoked, token2 = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    assert client.get("/api/v1/listes/", **bearer(token2)).status_code == 200
    services.revoke_client(revoked, revoked_by=demo["admin"])
    response = client.get("/api/v1/listes/", **bearer(token2))
    assert response.status_code == 401 and response.json()["detail"] == "Ce jeton d’accès a été révoqué."
    event = AuditEvent.objects.get(action=AuditAction.API_CLIENT_REVOKED)
    assert event.actor == demo["admin"] and event.details["old"]["revoked_at"] is None
    assert event.details["new"]["revoked_at"]

    token_id, secret = token2.split(".")
    for wrong in (f"{token_id}.{secret[:-1]}x", "inconnu.secret", token_id, ""):
        response = client.get("/api/v1/listes/", HTTP_AUTHORIZATION=f"Bearer {wrong}")
        assert response.status_code == 401, wrong
    assert client.get("/api/v1/listes/").status_code == 401
    assert client.get("/api/v1/listes/", HTTP_AUTHORIZATION=f"Token {token2}").status_code == 401


def test_session_of_a_person_does_not_open_the_api(client, demo):
    login(client, demo["siao.69"])
    response = client.get("/api/v1/listes/")
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM


def _extract(code, demo):
    from django.core.files.base import ContentFile

    from exchanges.extracts.services import relative_path
    from siao_ofii.privatefiles.storage import private_storage

    ml = make_list(code, "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=1)
    extract = Extract(departement=ml.departement, period="2026-11", version=1, monthly_list=ml,
                      file_path=relative_path(code, "2026-11", 1), size=4, sha256="0" * 64, row_count=1)
    extract.set_password("Mot-De-Passe-De-Test")
    extract.save()
    private_storage().save(extract.file_path, ContentFile(b"PK\x05\x06"))
    return extract


def test_token_without_extract_read_cannot_download(client, demo, make_token):
    extract = _extract("69", demo)
    _, without = make_token(Role.DT, dt_of="dt.lyon", scopes=[Scope.RETURN_WRITE, Scope.RETURN_READ])
    _, with_scope = make_token(Role.DT, dt_of="dt.lyon", scopes=[Scope.EXTRACT_READ])
    url = f"/api/v1/archives/{extract.pk}/fichier/"
    response = client.get(url, **bearer(without))
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == "Ce jeton n’est pas autorisé pour l’opération « extract:read »."
    assert client.post(f"/api/v1/archives/{extract.pk}/mot-de-passe/", **bearer(without)).status_code == 403
    assert not AuditEvent.objects.filter(action__in=[AuditAction.DOWNLOAD, AuditAction.PASSWORD_REVEAL]).exists()
    response = client.get(url, **bearer(with_scope))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PK\x05\x06"
    assert response["Content-Type"] == "application/zip"
    response = client.post(f"/api/v1/archives/{extract.pk}/mot-de-passe/", **bearer(with_scope))
    assert response.json() == {"archive": extract.pk, "file_name": extract.file_name, "password": "Mot-De-Passe-De-Test"}
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, object_id=str(extract.pk)).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_REVEAL, object_id=str(extract.pk)).count() == 1


def test_password_reveals_are_throttled_like_the_page(client, demo, make_token, settings):
    settings.PASSWORD_REVEALS_PER_ARCHIVE_HOUR = 2
    extract = _extract("69", demo)
    _, token = make_token(Role.DT, dt_of="dt.lyon", scopes=[Scope.EXTRACT_READ])
    url = f"/api/v1/archives/{extract.pk}/mot-de-passe/"
    assert [client.post(url, **bearer(token)).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.post(url, **bearer(token))
    assert "l’affichage est suspendu" in refused.json()["detail"] and "password" not in refused.json()


def test_every_call_is_journaled_with_client_token_and_address(client, demo, siao69):
    api_client, token = siao69
    make_list("75", "2026-11", uploaded_by=demo["siao.75"], state=ListState.DRAFT)
    calls = [
        lambda: client.get("/api/v1/listes/", REMOTE_ADDR="192.0.2.7", **bearer(token)),
        lambda: client.get("/api/v1/listes/999999/", REMOTE_ADDR="192.0.2.7", **bearer(token)),
        lambda: client.get("/api/v1/archives/", REMOTE_ADDR="192.0.2.7", **bearer(token)),
        lambda: push(client, token, b"", REMOTE_ADDR="192.0.2.7"),
        lambda: client.get("/api/v1/listes/", REMOTE_ADDR="192.0.2.8", HTTP_AUTHORIZATION="Bearer abc.def"),
    ]
    statuses = [call().status_code for call in calls]
    assert statuses == [200, 404, 403, 400, 401]
    events = list(AuditEvent.objects.filter(action=AuditAction.API_CALL).order_by("id"))
    assert [e.details["status"] for e in events] == statuses
    assert [(e.actor, e.ip_address, e.details["token_id"]) for e in events[:4]] == \
        [(api_client.agent, "192.0.2.7", api_client.token_id)] * 4
    assert all(e.details["client"] == api_client.name for e in events[:4])
    assert (events[4].actor, events[4].ip_address, events[4].details["token_id"]) == (None, "192.0.2.8", "abc")
    assert [e.details["path"] for e in events] == ["/api/v1/listes/", "/api/v1/listes/999999/", "/api/v1/archives/",
                                                  "/api/v1/departements/69/listes/2026-11/", "/api/v1/listes/"]


def test_rate_limit_per_client_with_retry_after(client, make_token, settings):
    settings.API_RATE_LIMIT = "2/min"
    _, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    _, other = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    assert [client.get("/api/v1/listes/", **bearer(token)).status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/listes/", **bearer(token))
    assert response.status_code == 429 and response["Content-Type"] == PROBLEM
    assert 0 < int(response["Retry-After"]) <= 60
    assert client.get("/api/v1/listes/", **bearer(other)).status_code == 200  # per client


def test_clients_obey_the_granting_authority(client, demo, make_token):
    """An administrator alone makes a SIAO client effective; a DT client waits for headquarters
    (R744-47), exactly as a person's habilitation."""
    _, siao_token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ], created_by=demo["admin"])
    assert client.get("/api/v1/listes/", **bearer(siao_token)).status_code == 200
    dt_client, dt_token = make_token(Role.DT, dt_of="dt.lyon", scopes=[Scope.EXTRACT_READ], created_by=demo["admin"])
    hab = Habilitation.objects.get(agent=dt_client.agent)
    assert hab.approved_at is None and hab.granted_by == demo["admin"]
    response = client.get("/api/v1/archives/", **bearer(dt_token))
    assert response.status_code == 403 and "en attente d’approbation" in response.json()["detail"]
    from referentiel.services import approve_habilitation

    approve_habilitation(hab, approved_by=demo["siege"])
    assert client.get("/api/v1/archives/", **bearer(dt_token)).status_code == 200
    created = AuditEvent.objects.filter(action=AuditAction.API_CLIENT_CREATED, actor=demo["admin"])
    assert sorted(e.details["scopes"] for e in created) == [["extract:read"], ["list:read"]]


def test_token_is_stored_hashed_and_the_service_account_cannot_log_in(client, make_token, rf):
    from django.contrib.auth import authenticate

    api_client, token = make_token(Role.SIAO, ["69"], scopes=[Scope.LIST_READ])
    token_id, secret = token.split(".")
    assert api_client.token_id == token_id and len(secret) >= 43
    assert secret not in str(api_client.__dict__) and len(api_client.secret_hash) == 64
    assert not api_client.agent.has_usable_password()
    assert authenticate(rf.post("/connexion/"), email=api_client.agent.email, password=secret) is None
    assert authenticate(rf.post("/connexion/"), email=api_client.agent.email, password=token) is None


def test_schema_and_documentation_are_public(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/departements/{code}/listes/{period}/" in paths
    assert client.get("/api/v1/reference/").status_code == 200
    page = client.get("/api/v1/doc-integrateurs/")
    assert page.status_code == 200 and "Idempotency-Key" in page.content.decode()


def test_malformed_filters_and_addresses_are_refused_not_crashed(client, siao69):
    """Found by the fuzzing: a NUL character in a filter reached PostgreSQL (500)."""
    _, token = siao69
    response = client.get("/api/v1/listes/?departement=%00&period=2026-11", **bearer(token))
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == "Paramètre departement : code INSEE attendu (69, 2A, 974…)."
    assert client.get("/api/v1/listes/?period=%00", **bearer(token)).status_code == 400
    assert push(client, token, b"x", code="6\x009").status_code == 404
    response = client.post("/api/v1/listes/-3/validation/", **bearer(token))
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM

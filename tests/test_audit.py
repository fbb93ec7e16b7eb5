import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from siao_ofii.audit.models import AppendOnlyError, AuditAction, AuditEvent
from siao_ofii.audit.services import record
from tests.helpers import assert_constant_queries, login

pytestmark = pytest.mark.django_db


def test_entries_cannot_be_changed_or_deleted(demo):
    event = record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69", fichier="x.zip")
    event.action = AuditAction.LOGOUT
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="logout")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.DOWNLOAD


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger PostgreSQL")
def test_database_refuses_update_and_delete(demo):
    event = record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"])
    for sql in ("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.DOWNLOAD).exists()


def test_admin_cannot_edit_or_delete_entries(client, demo):
    event = record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"])
    login(client, demo["admin"])
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    response = client.post(change, {"action": "logout"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.DOWNLOAD
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_login_success_failure_and_logout_are_recorded(client, demo):
    client.post(reverse("login"), {"username": "siao.69@demo.test", "password": "mauvais"})
    failure = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILURE)
    assert failure.actor_email == "siao.69@demo.test" and failure.ip_address == "127.0.0.1"
    from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD

    response = client.post(reverse("login"), {"username": "SIAO.69@demo.test", "password": DEFAULT_DEMO_PASSWORD},
                           HTTP_USER_AGENT="Navigateur de test")
    assert response.status_code == 302
    success = AuditEvent.objects.get(action=AuditAction.LOGIN_SUCCESS)
    assert success.actor == demo["siao.69"] and success.user_agent == "Navigateur de test"
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=demo["siao.69"]).exists()


def test_audit_list_filters(client, demo):
    record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69")
    record(AuditAction.PASSWORD_REVEAL, actor=demo["dt.paris"], departement="75")
    login(client, demo["siege"])
    page = client.get(reverse("audit_list"), {"departement": "75"}).content.decode()
    assert "dt.paris@demo.test" in page and "dt.lyon@demo.test" not in page
    page = client.get(reverse("audit_list"), {"agent": "lyon", "action": "download"}).content.decode()
    assert "dt.lyon@demo.test" in page and "dt.paris@demo.test" not in page


def test_audit_list_query_count_does_not_grow(client, demo):
    login(client, demo["admin"])
    client.get(reverse("audit_list"))  # warm-up (session, habilitations)

    def grow():
        for _ in range(30):
            record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69")

    assert_constant_queries(lambda: client.get(reverse("audit_list")), grow)


def test_audit_export_csv_is_filtered_neutralised_and_audited(client, demo):
    record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69")
    record(AuditAction.LOGIN_FAILURE, departement="69", attempted_email='=HYPERLINK("http://x")')
    record(AuditAction.DOWNLOAD, actor=demo["dt.paris"], departement="75")
    login(client, demo["admin"])
    response = client.get(reverse("audit_export"), {"departement": "69"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "date" and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"dt.lyon@demo.test", "'=HYPERLINK(\"http://x\")"}
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT, actor=demo["admin"]).exists()


def test_details_never_start_a_formula_in_export(client, demo):
    record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"], departement="69", note="x")
    event = AuditEvent.objects.latest("id")
    from siao_ofii.csvsafe import neutralize

    assert neutralize("=1+1") == "'=1+1" and neutralize("@cmd") == "'@cmd" and neutralize("-2") == "'-2"
    assert neutralize("+33 6") == "'+33 6" and neutralize("Dupont") == "Dupont" and neutralize(3) == 3
    assert event.details == {"note": "x"}


def test_client_ip_behind_trusted_proxies_only(rf, settings):
    from siao_ofii.audit.services import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy configured: a client header is not trusted
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # the address our proxy saw, not the forged one

"""Issue 10, point 9: the journal survives TRUNCATE, and the application can run under a
database role that owns nothing (``manage.py grant_app_role``)."""

import uuid

import psycopg2
import pytest

from referentiel.models import Departement
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.audit.services import record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL seulement (trigger et rôles)"),
]


def test_truncate_of_the_journal_is_refused(demo):
    event = record(AuditAction.DOWNLOAD, actor=demo["dt.lyon"])
    with connection.cursor() as cursor:  # fire the deferred FK checks now, so TRUNCATE is possible
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def _admin_connection():
    params = connection.get_connection_params()
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


@pytest.fixture
def app_role(transactional_db, django_db_serialized_rollback):
    """A login role made for this test, with the grants of ``manage.py grant_app_role``."""
    name = f"siao_app_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    admin = _admin_connection()
    with admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', [password])
    try:
        call_command("grant_app_role", name, stdout=open("/dev/null", "w"))
        yield name, password
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP OWNED BY "{name}"')
            cur.execute(f'DROP ROLE "{name}"')
        admin.close()


def test_least_privilege_role_cannot_alter_truncate_or_delete_the_journal(app_role):
    name, password = app_role
    params = {**connection.get_connection_params(), "user": name, "password": password}
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # What the application does works…
            cur.execute("INSERT INTO audit_auditevent (timestamp, actor_email, action, object_type, object_id, "
                        "object_repr, departement, user_agent, details) VALUES "
                        "(now(), 'x@test', 'download', '', '', '', '', '', '{}') RETURNING id")
            event_id = cur.fetchone()[0]
            cur.execute("SELECT id FROM audit_auditevent WHERE id = %s", [event_id])
            assert cur.fetchone() == (event_id,)
            # Reading and writing the other tables is allowed (no "permission denied" raised).
            cur.execute("SELECT count(*) FROM referentiel_departement")
            # The same rows as the owner sees (101 after the Annex 1 migration; another
            # transactional test earlier in the run may have flushed them).
            assert cur.fetchone()[0] == Departement.objects.count()
            cur.execute("UPDATE referentiel_platformsettings SET retention_months = retention_months")
            cur.execute("DELETE FROM django_session WHERE expire_date < now() - interval '100 years'")
            # … but the journal cannot be emptied, altered or have its protection removed.
            refused = {
                "TRUNCATE audit_auditevent": "permission denied",
                "DELETE FROM audit_auditevent WHERE id = %s": "permission denied",
                "UPDATE audit_auditevent SET action = 'x' WHERE id = %s": "permission denied",
                "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL": "must be owner",
                "DROP TABLE audit_auditevent": "must be owner",
                "ALTER TABLE referentiel_habilitation DROP CONSTRAINT habilitation_dates": "must be owner",
            }
            for sql, message in refused.items():
                with pytest.raises(psycopg2.Error) as excinfo:
                    cur.execute(sql, [event_id] if "%s" in sql else None)
                assert message in str(excinfo.value), (sql, str(excinfo.value))
            cur.execute("SELECT count(*) FROM audit_auditevent WHERE id = %s", [event_id])
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()

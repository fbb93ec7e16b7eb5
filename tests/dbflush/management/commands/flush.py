"""Test suite only: Django empties the tables after a transactional test with TRUNCATE, which
the journal's trigger refuses (siao_ofii/audit/migrations/0003). The test database belongs to
the test run, so here the trigger is switched off for that one statement, inside its transaction.
Never installed outside siao_ofii.settings_test."""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

TRIGGER = "audit_auditevent_no_truncate"


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(**options)
        original = connection.ops.execute_sql_flush

        def execute_sql_flush(sql_list):
            wrapped = [f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRIGGER}", *sql_list,
                       f"ALTER TABLE audit_auditevent ENABLE TRIGGER {TRIGGER}"]
            return original(wrapped)

        connection.ops.execute_sql_flush = execute_sql_flush
        try:
            return super().handle(**options)
        finally:
            del connection.ops.execute_sql_flush

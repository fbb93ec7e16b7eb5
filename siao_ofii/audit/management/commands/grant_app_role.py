"""Grant a PostgreSQL login role what the running application needs, and nothing more.

The tables belong to the role that runs ``migrate`` (the owner). The application itself runs
as another role, which owns nothing: it may read and write rows, but cannot ALTER, DROP or
TRUNCATE any table, nor disable a trigger, and may only read and append to the journal
(audit_auditevent). Run by the owner (or a superuser), after each ``migrate``:

    python manage.py grant_app_role siao_app           # executes the statements
    python manage.py grant_app_role siao_app --print   # only prints them (to run with psql)
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg2 import sql

AUDIT_TABLE = "audit_auditevent"


def statements(role, database, schema="public"):
    r, db, s = sql.Identifier(role), sql.Identifier(database), sql.Identifier(schema)
    audit = sql.Identifier(AUDIT_TABLE)
    return [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        # The journal: read and append only (the triggers refuse the rest even to the owner).
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(audit, r),
        # Tables created by later migrations (run by the same owner) get the same grants.
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}")
        .format(s, r),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(s, r),
    ]


class Command(BaseCommand):
    help = "Donne à un rôle PostgreSQL les seuls droits dont l’application a besoin (aucune propriété)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="Rôle de connexion de l’application (déjà créé, sans propriété).")
        parser.add_argument("--print", action="store_true", dest="print_only", help="Afficher sans exécuter.")

    def handle(self, role, print_only, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Cette commande ne concerne que PostgreSQL.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"Rôle PostgreSQL inconnu : « {role} » (créez-le d’abord : CREATE ROLE … LOGIN).")
            if found[0]:
                raise CommandError(f"« {role} » est superutilisateur : choisissez un rôle sans privilège.")
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role])
            if cursor.fetchone()[0]:
                raise CommandError(f"« {role} » possède des tables : l’application doit tourner sous un rôle "
                                   "qui ne possède rien (les migrations, sous le rôle propriétaire).")
            raw = cursor.connection
            for statement in statements(role, connection.settings_dict["NAME"]):
                text = statement.as_string(raw)
                if print_only:
                    self.stdout.write(text + ";")
                else:
                    cursor.execute(statement)
        if not print_only:
            self.stdout.write(self.style.SUCCESS(f"Droits minimaux accordés à « {role} »."))

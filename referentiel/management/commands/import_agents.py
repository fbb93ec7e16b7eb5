"""Bulk onboarding of agents and their habilitations from a CSV file.

Columns (``;`` or ``,``, UTF-8): email, prenom, nom, role, departements (codes separated by
spaces or ``|``), dt (e.g. ``DT Lyon``), debut (JJ/MM/AAAA, optional), fin (optional), motif.
All-or-nothing: one bad line and nothing is stored.
"""

import csv
import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Role
from referentiel.services import grant_habilitation

ROLE_ALIASES = {r.value.lower(): r for r in Role} | {str(r.label).lower(): r for r in Role}


def _date(value, line, column):
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise CommandError(f"Ligne {line}, colonne « {column} » : date invalide « {value} » (attendu JJ/MM/AAAA).")


class Command(BaseCommand):
    help = "Crée des agents et leurs habilitations à partir d’un fichier CSV (tout ou rien)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--granted-by", required=True, help="E-mail de l’administrateur qui accorde.")

    def handle(self, file, granted_by, **options):
        grantor = Agent.objects.filter(email__iexact=granted_by).first()
        if grantor is None or not grantor.is_staff:
            raise CommandError(f"« {granted_by} » n’est pas un administrateur habilité.")
        try:
            with open(file, encoding="utf-8-sig", newline="") as f:
                sample = f.read(4096)
                f.seek(0)
                dialect = csv.Sniffer().sniff(sample, delimiters=";,")
                rows = list(csv.DictReader(f, dialect=dialect))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Fichier illisible : {exc}") from exc
        created_agents = created_habs = pending = 0
        with transaction.atomic():
            for i, row in enumerate(rows, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                email = row.get("email", "").lower()
                if "@" not in email:
                    raise CommandError(f"Ligne {i}, colonne « email » : adresse invalide « {email} ».")
                role = ROLE_ALIASES.get(row.get("role", "").lower())
                if role is None:
                    raise CommandError(
                        f"Ligne {i}, colonne « role » : rôle inconnu « {row.get('role', '')} » "
                        f"(attendu : {', '.join(r.value for r in Role)})."
                    )
                codes = [c.zfill(2) if c.isdigit() else c.upper()
                         for c in row.get("departements", "").replace("|", " ").split()]
                deps = list(Departement.objects.filter(code__in=codes))
                unknown = set(codes) - {d.code for d in deps}
                if unknown:
                    raise CommandError(f"Ligne {i}, colonne « departements » : inconnu(s) {', '.join(sorted(unknown))}.")
                dt = None
                if row.get("dt"):
                    dt = DirectionTerritoriale.objects.filter(name__iexact=row["dt"]).first()
                    if dt is None:
                        raise CommandError(f"Ligne {i}, colonne « dt » : DT inconnue « {row['dt']} ».")
                agent = Agent.objects.filter(email=email).first()
                if agent is None:
                    agent = Agent.objects.create_user(
                        email, None, first_name=row.get("prenom", ""), last_name=row.get("nom", "")
                    )
                    created_agents += 1
                start = _date(row.get("debut"), i, "debut")
                end = _date(row.get("fin"), i, "fin")
                same = Habilitation.objects.filter(agent=agent, role=role, dt=dt, revoked_at__isnull=True,
                                                   valid_until__gte=timezone.localdate())
                if any({d.pk for d in h.departements.all()} == {d.pk for d in deps} for h in same):
                    continue
                try:
                    hab = grant_habilitation(agent=agent, role=role, granted_by=grantor,
                                             reason=row.get("motif") or f"Import {file}", departements=deps, dt=dt,
                                             valid_from=start, valid_until=end)
                except ValidationError as exc:  # report the line, roll everything back
                    raise CommandError(f"Ligne {i} : {' '.join(exc.messages)}") from exc
                if hab.approved_at:
                    created_habs += 1
                else:
                    pending += 1
        # DT and headquarters habilitations wait for OFII headquarters (R744-47), SIAO_DNA ones for the
        # prefecture of the département (R744-48), administrator and prefecture ones for a second
        # administrator: the import only asks for them.
        self.stdout.write(f"{created_agents} agent(s) créé(s), {created_habs} habilitation(s) accordée(s), "
                          f"{pending} demande(s) en attente d’approbation par l’autorité compétente.")

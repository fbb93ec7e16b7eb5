import os

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from referentiel import annex1
from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Organisation, Role
from referentiel.services import approve_habilitation, grant_habilitation

DEFAULT_DEMO_PASSWORD = "demo-siao-ofii-2026"
DNA_DESIGNATOR = "prefecture.69@demo.test"

# (email, first name, last name, organisation, [(role, départements, dt)])
DEMO_ACCOUNTS = [
    ("admin@demo.test", "Alice", "Administratrice", "Siège de l’OFII", [(Role.ADMIN, [], None)]),
    ("siege@demo.test", "Samuel", "Siège", "Siège de l’OFII", [(Role.SIEGE, [], None)]),
    ("dt.lyon@demo.test", "Léa", "Lyon", "OFII — DT Lyon", [(Role.DT, [], "DT Lyon")]),
    ("dt.paris@demo.test", "Paul", "Paris", "OFII — DT Paris", [(Role.DT, [], "DT Paris")]),
    ("siao.69@demo.test", "Sofia", "Rhône", "SIAO 69 — Rhône", [(Role.SIAO, ["69"], None)]),
    ("siao.75@demo.test", "Simon", "Paris", "SIAO 75 — Paris", [(Role.SIAO, ["75"], None)]),
    (
        "prefecture.69@demo.test",
        "Pierre",
        "Préfecture",
        "Préfecture et DDETS 69 — Rhône",
        [(Role.PREFECTURE, ["69"], None)],
    ),
    # Designated for the DNA data by the prefecture of the Rhône (R744-48), hence after it.
    (
        "siao-dna.69@demo.test",
        "Diane",
        "Rhône",
        "SIAO 69 — Rhône",
        [(Role.SIAO, ["69"], None), (Role.SIAO_DNA, ["69"], None)],
    ),
]


class Command(BaseCommand):
    help = "Crée les comptes de démonstration (mot de passe : variable DEMO_PASSWORD)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not (settings.DEBUG or settings.ALLOW_DEMO_ACCOUNTS):
            raise CommandError(
                "Comptes de démonstration refusés : DEBUG est désactivé (production). "
                "Pour une instance de démonstration, définissez ALLOW_DEMO_ACCOUNTS=true et DEMO_PASSWORD."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        if not Departement.objects.exists():  # e.g. a test flushed the tables: reload Annex 1
            annex1.load(apps.get_model)
        for email, first, last, org_name, habs in DEMO_ACCOUNTS:
            agent = Agent.objects.filter(email=email).first()
            if agent is None:
                agent = Agent.objects.create_user(email, password, first_name=first, last_name=last)
            else:
                agent.set_password(password)
            agent.organisation = Organisation.objects.filter(name=org_name).first()
            agent.is_active = True
            agent.save()
            for role, codes, dt_name in habs:
                if Habilitation.objects.active().filter(agent=agent, role=role).exists():
                    continue
                designator = None
                if role == Role.SIAO_DNA:  # R744-48: the prefecture agent of the département designates
                    designator = Agent.objects.get(email=DNA_DESIGNATOR)
                    pending = Habilitation.objects.pending().filter(agent=agent, role=role).first()
                    if pending is not None:  # e.g. left waiting by migration 0004 on an older demo base
                        approve_habilitation(pending, approved_by=designator)
                        continue
                grant_habilitation(
                    agent=agent,
                    role=role,
                    granted_by=None,
                    designated_by=designator,
                    reason="Compte de démonstration (seed_demo)",
                    departements=Departement.objects.filter(code__in=codes),
                    dt=DirectionTerritoriale.objects.get(name=dt_name) if dt_name else None,
                )
        self.stdout.write(self.style.SUCCESS("Comptes de démonstration prêts :"))
        for email, *_ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {email}")
        shown = "(valeur de DEMO_PASSWORD)" if os.environ.get("DEMO_PASSWORD") else password
        self.stdout.write(f"Mot de passe commun : {shown}")
        self.stdout.write(
            "admin@, siege@ et dt.*@ demandent un second facteur : scannez le QR code affiché à la première "
            "connexion avec une application TOTP (FreeOTP, Aegis, Google Authenticator…)."
        )

from django.apps import apps
from django.core.management.base import BaseCommand

from referentiel import annex1
from referentiel.models import Departement


class Command(BaseCommand):
    help = "Charge (ou met à jour) le référentiel de l’annexe 1 : régions, DT OFII, départements, organisations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-dt",
            action="store_true",
            help="Rattache de nouveau chaque département à la DT de l’annexe 1 (annule les choix de l’administrateur).",
        )

    def handle(self, *args, reset_dt=False, **options):
        counts = annex1.load(apps.get_model, reset_dt=reset_dt)
        without_dt = ", ".join(Departement.objects.without_dt().values_list("code", flat=True))
        self.stdout.write(
            f"Référentiel : {Departement.objects.count()} départements "
            f"({counts['departements_created']} créés, {counts['departements_updated']} mis à jour). "
            f"Sans DT (siège de l’OFII seulement) : {without_dt or 'aucun'}."
        )

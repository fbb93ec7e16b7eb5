"""Building return files for the tests (written by hand here, never by the code under test)."""

import csv
import datetime
import io
from pathlib import Path

from django.conf import settings

SAMPLE = Path(settings.BASE_DIR) / "fixtures" / "flux_retour_exemple.csv"

# The 21 headers of instruction II.B.2, as the sample file writes them.
HEADERS = [
    "Nom de naissance", "Nom d’usage", "Prénom", "Date de naissance", "Sexe", "Lieu de naissance", "Nationalité",
    "Date de délivrance de l’attestation de demande d’asile", "Fin de validité de l’attestation",
    "Date de renouvellement de l’attestation", "Date de retrait de l’attestation",
    "Lieu de l’hébergement proposé", "Typologie de l’hébergement proposé",
    "Date de notification de l’offre d’hébergement", "Date d’acceptation", "Date du constat de non-présentation",
    "Date de refus", "Date d’entrée dans l’hébergement", "Date de sortie de l’hébergement", "Modalités d’entrée",
    "Modalités de sortie",
]

# One person with every field filled (distinct values so that a column swap would show).
FULL_ROW = [
    "TESTOVA", "EXEMPLAIRE", "Ирина Zoé", "01/02/1990", "F", "Minsk", "biélorusse", "03/04/2026", "02/10/2026",
    "01/10/2026", "15/10/2026", "CADA Fictif, 1 rue de l’Exemple, Lyon", "CADA", "05/09/2026", "06/09/2026",
    "07/09/2026", "08/09/2026", "09/09/2026", "10/10/2026", "orientation OFII", "exclusion",
]
FULL_DATES = {  # header → date expected in the archive
    "Date de naissance": datetime.date(1990, 2, 1),
    "Date de délivrance de l’attestation de demande d’asile": datetime.date(2026, 4, 3),
    "Fin de validité de l’attestation": datetime.date(2026, 10, 2),
    "Date de renouvellement de l’attestation": datetime.date(2026, 10, 1),
    "Date de retrait de l’attestation": datetime.date(2026, 10, 15),
    "Date de notification de l’offre d’hébergement": datetime.date(2026, 9, 5),
    "Date d’acceptation": datetime.date(2026, 9, 6),
    "Date du constat de non-présentation": datetime.date(2026, 9, 7),
    "Date de refus": datetime.date(2026, 9, 8),
    "Date d’entrée dans l’hébergement": datetime.date(2026, 9, 9),
    "Date de sortie de l’hébergement": datetime.date(2026, 10, 10),
}


def to_csv(header, rows, *, encoding="utf-8-sig", delimiter=";"):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def minimal(rows):
    """Header and rows with only the mandatory columns and the refusal date."""
    return to_csv(["Nom de naissance", "Prénom", "Date de naissance", "Date de refus"], rows)


def upload_and_process(departement, period, data, user, *, name="retour.csv", archive=True):
    """Upload through the service, process synchronously (as the Celery task does) and build
    the archive. Returns (return_file, archive or None)."""
    from referentiel.models import Departement
    from exchanges.returns import services

    dep = Departement.objects.get(code=departement) if isinstance(departement, str) else departement
    rf = services.receive_upload(dep, period, data, name=name, user=user, run=False)
    rf = services.process_return(rf.pk, progress=False)
    built = None
    if archive and rf.state == "stored":
        built, _ = services.build_archive_for(rf.pk)
    return rf, built

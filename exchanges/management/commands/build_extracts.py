"""Build (or reuse) the password-protected archives of a month, in this process.

    python manage.py build_extracts --period 2026-11 [--departement 69 ...]

Prints, per département, the file name, the number of rows and the SHA-256 of the archive —
never the password (agents reveal it on the site, an audited action)."""

from django.core.management.base import BaseCommand, CommandError

from exchanges import periods
from exchanges.extracts.services import build_period, missing_departements


class Command(BaseCommand):
    help = "Produit (ou réutilise) les archives chiffrées d’un mois ; affiche nom, lignes et SHA-256."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="mois, AAAA-MM")
        parser.add_argument("--departement", action="append", default=[], help="code INSEE (répétable)")

    def handle(self, *args, period, departement, **options):
        if not periods.is_valid(period):
            raise CommandError(f"Mois invalide : « {period} » (attendu AAAA-MM).")
        codes = [c.strip().upper() for c in departement]
        results = build_period(period, codes or None)
        for extract, created in results:
            state = "produite" if created else "existante"
            self.stdout.write(
                f"{extract.departement.code:>3}  {extract.file_name}  {extract.row_count} ligne(s)  "
                f"sha256={extract.sha256}  ({state})"
            )
        missing = missing_departements(period)
        if codes:
            missing = missing.filter(code__in=codes)
        missing_codes = [d.code for d in missing]
        if missing_codes:
            self.stdout.write(f"Sans liste validée pour {period} : {', '.join(missing_codes)}")
        self.stdout.write(self.style.SUCCESS(f"{len(results)} archive(s) pour {period}."))

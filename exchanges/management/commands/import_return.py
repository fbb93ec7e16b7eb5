"""Import the OFII → SIAO return file (instruction II.B; R744-48 2°) from the command line.

    python manage.py import_return --departement 69 --period 2026-11 FILE [--json] [--agent EMAIL] [--no-archive]

Runs the same code as the web upload (``exchanges.returns.services``), synchronously: the file
is refused as a whole when a column is not one of II.B.2 or a row has an error, and nothing is
stored; otherwise every row is stored and the AES-256 archive for the habilitated SIAO agents is
built (never printed: its password is shown only in the site, by the audited action). Prints the
report (``--json`` for machines) and exits with status 1 when the file is refused. Without
``--agent`` the upload is recorded under a technical account (``import_return@system.invalid``,
no password, no habilitation: it cannot log in); with ``--agent`` that agent must hold the
UPLOAD_REVERSE_FLOW capability for the département (DT agent of its DT, or headquarters).
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchanges import periods
from exchanges.models import ReturnState
from exchanges.returns import services
from exchanges.services.reading import FileRejected
from referentiel.models import Agent, Departement
from referentiel.perimeter import Capability, can_access_departement

SYSTEM_EMAIL = "import_return@system.invalid"


class Command(BaseCommand):
    help = "Importe le fichier du flux retour OFII → SIAO (CSV ou XLSX) et produit l’archive chiffrée du SIAO."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--departement", required=True)
        parser.add_argument("--period", required=True, help="AAAA-MM")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--agent", help="e-mail de l’agent de l’OFII au nom duquel importer")
        parser.add_argument("--no-archive", action="store_true", help="ne pas produire l’archive tout de suite")

    def handle(self, *args, **opts):
        if not periods.is_valid(opts["period"]):
            raise CommandError("--period doit être au format AAAA-MM.")
        dep = Departement.objects.filter(code=opts["departement"].upper()).first()
        if dep is None:
            raise CommandError(f"Département inconnu : {opts['departement']}")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        if opts["agent"]:
            agent = Agent.objects.filter(email=opts["agent"].strip().lower()).first()
            if agent is None:
                raise CommandError(f"Agent inconnu : {opts['agent']}")
            if not can_access_departement(agent, Capability.UPLOAD_REVERSE_FLOW, dep):
                raise CommandError(f"{agent.email} n’est pas habilité à déposer le flux retour du {dep.code}.")
        else:
            agent, created = Agent.objects.get_or_create(email=SYSTEM_EMAIL, defaults={"last_name": "import_return"})
            if created:
                agent.set_unusable_password()
                agent.save()

        result = {"departement": dep.code, "period": opts["period"], "file": path.name}
        try:
            rf = services.receive_upload(dep, opts["period"], path.read_bytes(), name=path.name, user=agent, run=False)
        except FileRejected as exc:
            result.update(status="refused", file_errors=[str(exc)], rows_read=0, issues=[])
            return self._finish(result, opts, 1)
        rf = services.process_return(rf.pk, progress=False)
        report = rf.report
        result.update(return_file_id=rf.pk, version=rf.version, rows_read=rf.row_count,
                      rows_with_errors=rf.error_count, rows_with_warnings=rf.warning_count,
                      file_errors=report.get("file_errors", []), extra_columns=report.get("extra_columns", []),
                      issues=report.get("issues", []))
        if rf.state != ReturnState.STORED:
            result["status"] = "refused"
            return self._finish(result, opts, 1)
        result["status"] = "stored"
        if not opts["no_archive"]:
            archive, _ = services.build_archive_for(rf.pk)
            result["archive"] = {"file": archive.file_name, "rows": archive.row_count, "sha256": archive.sha256}
        return self._finish(result, opts, 0)

    def _finish(self, result, opts, code):
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            w = self.stdout.write
            w(f"Flux retour {result['departement']} {result['period']} — fichier {result['file']} : "
              f"{'transmis' if result['status'] == 'stored' else 'REFUSÉ'}")
            for e in result.get("file_errors", []):
                w(f"FICHIER REFUSÉ : {e}")
            w(f"Lignes lues : {result['rows_read']}")
            for i in result["issues"]:
                w(f"ligne {i['row']} — {i['column']} — {'ERREUR' if i['level'] == 'error' else 'avertissement'} : "
                  f"{i['message']}")
            if result.get("archive"):
                a = result["archive"]
                w(f"Archive {a['file']} : {a['rows']} ligne(s), SHA-256 {a['sha256']}")
        if code:
            sys.exit(code)

"""Import (and optionally validate) a monthly list from the command line.

    python manage.py import_list --departement 69 --period 2026-11 FILE [--validate] [--json] [--agent EMAIL]

Prints the validation report (rows read, rows valid, each error/warning with row, column and
message; ``--json`` for machines) and exits with status 1 when the file is refused or has
errors (2 when validation was asked and refused). Runs the same code as the web upload,
synchronously. Without ``--agent`` the list is recorded under a technical account
(``import_list@system.invalid``, no password, no habilitation: it cannot log in); with
``--agent`` that agent must be a SIAO agent of the département to validate.
"""

import json
import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchanges.models import ListState
from exchanges.services import workflow
from exchanges.services.reading import FileRejected
from referentiel.models import Agent, Departement
from siao_ofii import background

SYSTEM_EMAIL = "import_list@system.invalid"


class Command(BaseCommand):
    help = "Importe une liste mensuelle SIAO (CSV ou XLSX), affiche le rapport de validation, et la valide sur demande."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--departement", required=True)
        parser.add_argument("--period", required=True, help="AAAA-MM")
        parser.add_argument("--validate", action="store_true")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--agent", help="e-mail de l’agent au nom duquel importer")

    def handle(self, *args, **opts):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", opts["period"]):
            raise CommandError("--period doit être au format AAAA-MM.")
        dep = Departement.objects.filter(code=opts["departement"].upper()).first()
        if dep is None:
            raise CommandError(f"Département inconnu : {opts['departement']}")
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        system = not opts["agent"]
        if system:
            agent, created = Agent.objects.get_or_create(email=SYSTEM_EMAIL, defaults={"last_name": "import_list"})
            if created:
                agent.set_unusable_password()
                agent.save()
        else:
            agent = Agent.objects.filter(email=opts["agent"].strip().lower()).first()
            if agent is None:
                raise CommandError(f"Agent inconnu : {opts['agent']}")

        result = {"departement": dep.code, "period": opts["period"], "file": path.name}
        try:
            ml = workflow.receive_upload(dep, opts["period"], path.read_bytes(), name=path.name, user=agent, run=False)
        except FileRejected as exc:
            result.update(status="refused", file_errors=[str(exc)], rows_read=0, rows_valid=0, issues=[])
            return self._finish(result, opts, 1)
        ml = workflow.process_list(ml.pk, progress=False)
        result["list_id"] = ml.pk
        result["version"] = ml.version
        if ml.state == ListState.FAILED:
            result.update(status="refused", file_errors=ml.report.get("file_errors", []), rows_read=0,
                          rows_valid=0, issues=[])
            return self._finish(result, opts, 1)
        issues = []
        for row in ml.rows.exclude(errors=[], warnings=[]).order_by("line_number").values_list(
                "line_number", "errors", "warnings").iterator():
            line, errors, warnings = row
            issues += [{"row": line, "level": "error", "column": e["column"], "message": e["message"]} for e in errors]
            issues += [{"row": line, "level": "warning", "column": w["column"], "message": w["message"]}
                       for w in warnings]
        result.update(status=ml.state, rows_read=ml.row_count, rows_valid=ml.row_count - ml.error_count,
                      rows_with_errors=ml.error_count, rows_with_warnings=ml.warning_count, issues=issues)
        code = 1 if ml.error_count else 0
        if opts["validate"] and not ml.error_count:
            try:
                ml = workflow.validate_list(ml, agent, system=system)
                result.update(status=ml.state, version=ml.version, late=ml.is_late)
                # In-process, the archive is built in a background thread (siao_ofii.background):
                # the command ends once it is built, as before.
                background.wait_idle()
            except workflow.WorkflowError as exc:
                result.update(validation_refused=str(exc))
                code = 2
        return self._finish(result, opts, code)

    def _finish(self, result, opts, code):
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            w = self.stdout.write
            w(f"Liste {result['departement']} {result['period']} — fichier {result['file']} : {result['status']}")
            for e in result.get("file_errors", []):
                w(f"FICHIER REFUSÉ : {e}")
            w(f"Lignes lues : {result['rows_read']} — lignes valides : {result['rows_valid']}")
            for i in result["issues"]:
                w(f"ligne {i['row']} — {i['column']} — {'ERREUR' if i['level'] == 'error' else 'avertissement'} : {i['message']}")
            if result.get("validation_refused"):
                w(f"VALIDATION REFUSÉE : {result['validation_refused']}")
            elif result["status"] == ListState.VALIDATED:
                w(f"Liste validée (version {result['version']}){' en retard' if result.get('late') else ''}.")
        if code:
            sys.exit(code)

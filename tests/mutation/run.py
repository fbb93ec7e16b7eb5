"""Mutation testing of the modules that carry the law and the security (``make mutation``).

Each group of modules is mutated by mutmut against a FAST targeted test selection (the tests
that exercise it), in its own scratch copy of the project under ``.cache/mutation/<group>/``,
on SQLite (no DATABASE_URL: in-memory test database, much faster than PostgreSQL for the
thousands of short runs). Not in CI (too slow): run it before an issue is closed and put the
summary in the note.

Usage: python tests/mutation/run.py [group ...]        (all groups when none is given)
       MUTATION_JOBS=2 to set mutmut's --max-children (default 2: the machine is shared);
       MUTATION_SCRATCH=dir for the scratch copies (default .cache/mutation);
       MUTATION_DIFFS=0 to list the survivors by name without their diffs (much faster);
       MUTATION_REPORT_ONLY=1 to print the summary of the last run kept in the scratch copy
       (nothing is run; e.g. after EQUIVALENT.md was edited);
       MUTATION_DATABASE_URL=postgres://…/<name> to run on PostgreSQL instead of SQLite, so that
       the PostgreSQL-only code is measured (``workflow.store_rows``' COPY; on SQLite it
       bulk-creates): slower. The database ``<name>_mutation_<group>`` is migrated and seeded
       once as a template, and each mutmut child (any MUTATION_JOBS) runs on its own
       ``CREATE DATABASE … TEMPLATE`` copy ``<name>_mutation_<group>_<pid>``, dropped at its
       end (tests/conftest.py); the template and the copies of children killed on a timeout
       are dropped before and after the run. ``<name>`` itself is never touched.

Prints, per group, killed (timeouts included) / total and the kill ratio, then every surviving mutant with its diff.
A survivor listed in tests/mutation/EQUIVALENT.md (by mutant name) is an explained equivalent
mutant: it is counted apart ("equivalent"), and the ratio "adjusted" leaves it out.
Floor 90 % per group, goal 95 %.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = Path(os.environ.get("MUTATION_SCRATCH") or ROOT / ".cache" / "mutation")
EQUIVALENT = Path(__file__).with_name("EQUIVALENT.md")
PACKAGES = ["siao_ofii", "referentiel", "exchanges", "meetings"]
ALSO_COPY = ["templates", "static", "fixtures", "manage.py"]
FLOOR, GOAL = 90.0, 95.0

# group -> (modules mutated, tests run against them). Keep the selections small: every mutant
# of a function runs every selected test that executes that function.
GROUPS = {
    "perimeter": (
        ["referentiel/perimeter.py"],
        ["tests/referentiel/test_perimeter_rules.py", "tests/referentiel/test_habilitations.py",
         "tests/exchanges/test_views.py"],
    ),
    "habilitations": (
        ["referentiel/models.py", "referentiel/services.py"],
        ["tests/referentiel/test_habilitations.py", "tests/referentiel/test_perimeter_rules.py",
         "tests/referentiel/test_referentiel.py", "tests/referentiel/test_habilitation_rules.py",
         "tests/referentiel/test_habilitation_states.py",
         "tests/trust/test_granting_authority.py"],
    ),
    "validation": (
        ["exchanges/services/validation.py", "exchanges/services/parsing.py"],
        ["tests/exchanges/test_parsers_properties.py", "tests/exchanges/test_pipeline.py",
         "tests/exchanges/test_rules.py", "tests/exchanges/test_parsers_exact.py",
         "tests/exchanges/test_validation_exact.py", "tests/exchanges/test_cells_and_headers_exact.py",
         "tests/exchanges/test_validate_rows.py"],
    ),
    # The readers (container, declared extent, every cell checked before calamine allocates):
    # apart from validation so that each group runs in minutes.
    "reading": (
        ["exchanges/services/reading.py"],
        # (test_pipeline.py reads files through the workflow and the database: tens of seconds
        # per mutant; test_reading_exact.py pins what it checked of the readers, directly.)
        ["tests/exchanges/test_hostile_files.py", "tests/exchanges/test_reading_exact.py"],
    ),
    "workflow": (
        ["exchanges/services/workflow.py", "exchanges/periods.py"],
        ["tests/exchanges/test_pipeline.py", "tests/exchanges/test_deadline.py", "tests/exchanges/test_rules.py",
         "tests/exchanges/test_views.py", "tests/exchanges/test_workflow_edges.py",
         "tests/exchanges/test_workflow_rules.py", "tests/exchanges/test_copy_text.py",
         "tests/exchanges/test_workflow_writes.py", "tests/exchanges/test_copy_columns.py"],
    ),
    "periods": (
        ["exchanges/periods.py"],
        ["tests/exchanges/test_deadline.py", "tests/exchanges/test_periods.py", "tests/exchanges/test_pipeline.py",
         "tests/exchanges_extracts/test_views.py"],
    ),
    "derive": (
        ["exchanges/services/derive.py"],
        ["tests/exchanges/test_derive.py", "tests/exchanges/test_pipeline.py"],
    ),
    "archive": (
        ["exchanges/extracts/archive.py", "exchanges/extracts/passwords.py"],
        ["tests/exchanges_extracts/test_archive.py", "tests/exchanges_extracts/test_tasks.py",
         "tests/exchanges_extracts/test_passwords_unit.py"],
    ),
    "audit": (
        ["siao_ofii/audit/services.py", "siao_ofii/audit/signals.py"],
        ["tests/test_audit.py", "tests/test_audit_record.py", "tests/referentiel/test_habilitations.py"],
    ),
    "agenda": (
        ["meetings/services/agenda.py"],
        ["tests/meetings/test_agenda.py", "tests/meetings/test_views.py", "tests/meetings/test_priority.py",
         "tests/meetings/test_agenda_edges.py"],
    ),
    # The return flow OFII → SIAO (R744-48 2°): only the II.B.2 fields, only the SIAO agents the
    # prefect habilitated. Not test_worker.py (real worker, deselected by the marker anyway).
    "returns": (
        ["exchanges/returns/services.py", "exchanges/returns/validation.py", "exchanges/returns/crosscheck.py",
         "exchanges/returns/columns.py", "exchanges/returns/notifications.py"],
        ["tests/exchanges_returns/test_upload.py", "tests/exchanges_returns/test_archive.py",
         "tests/exchanges_returns/test_crosscheck.py", "tests/exchanges_returns/test_views.py",
         "tests/exchanges_returns/test_rules.py"],
    ),
    # The API: tokens, scopes, throttling, journal, problem+json. Not test_fuzz.py (live server,
    # 15 s a run), test_schema.py (the OpenAPI generator) nor test_throttle_shared.py (a second
    # process; its Redis case skips without TEST_REDIS_URL).
    "api": (
        ["siao_ofii/api/authentication.py", "siao_ofii/api/services.py", "siao_ofii/api/throttling.py",
         "siao_ofii/api/base.py", "siao_ofii/api/problems.py"],
        ["tests/api/test_api.py", "tests/api/test_matrix.py", "tests/api/test_admin.py",
         "tests/api/test_rules.py"],
    ),
}


def copy_project(dest):
    if dest.exists():
        shutil.rmtree(dest)
    ignore = shutil.ignore_patterns(".venv", ".git", ".cache", "var", "mutants", "__pycache__", "test-artifacts",
                                    "node_modules", "*.egg-info", "bench")
    shutil.copytree(ROOT, dest, ignore=ignore)


def write_config(dest, modules, tests):
    def block(name, values):
        return f"{name} =\n" + "".join(f"    {v}\n" for v in values)

    (dest / "setup.cfg").write_text(
        "[mutmut]\n"
        + block("source_paths", PACKAGES)
        + block("only_mutate", modules)
        + block("also_copy", ALSO_COPY)
        # No random order (mutmut compares runs), no slow real-worker or browser tests, and not the
        # tests that measure this process's peak memory (mutmut's own bookkeeping inflates it).
        + block("pytest_add_cli_args", ["-p", "no:randomly", "-m", "not browser and not worker",
                                        "-k", "not 2s_and_200mb"])
        + block("pytest_add_cli_args_test_selection", tests)
    )


def postgresql_settings(url):
    import environ

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"MUTATION_DATABASE_URL n’est pas une base PostgreSQL : {url}")
    return config


def drop_databases(url, template):
    """Drop the template database ``template`` and every copy of it (``template_<pid>``)."""
    import psycopg2

    config = postgresql_settings(url)
    conn = psycopg2.connect(dbname="postgres", user=config["USER"] or None, password=config["PASSWORD"] or None,
                            host=config["HOST"] or None, port=config["PORT"] or None)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            pattern = template.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
            cursor.execute("SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                           [template, pattern + "\\_%"])
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def equivalents():
    if not EQUIVALENT.exists():
        return {}
    names = {}
    for line in EQUIVALENT.read_text().splitlines():
        m = re.match(r"^- `([\w.]+__mutmut_\d+)`\s*(.*)$", line)
        if m:
            names[m.group(1)] = m.group(2)
    return names


def run_group(name, modules, tests, jobs):
    dest = SCRATCH / name
    tests = [t for t in tests if (ROOT / t).exists()]
    if not tests:  # mutmut would run the whole suite for every mutant
        print(f"[{name}] aucun des tests choisis n’existe : groupe ignoré.")
        return None
    report_only = os.environ.get("MUTATION_REPORT_ONLY") == "1"
    if not report_only:
        copy_project(dest)
        write_config(dest, modules, tests)
        for old in dest.glob("db-*.sqlite3") if dest.exists() else []:
            old.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="siao_ofii.settings_test", HYPOTHESIS_PROFILE="mutation",
               MUTATION_DB_TEMPLATE=str(dest / "db-template.sqlite3"))
    database_url = os.environ.get("MUTATION_DATABASE_URL")
    if database_url:
        template = f"{postgresql_settings(database_url)['NAME']}_mutation_{name}"
        env.update(DATABASE_URL=database_url, MUTATION_DB_TEMPLATE=template)
        if not report_only:
            drop_databases(database_url, template)
    mutmut = [str(Path(sys.executable).with_name("mutmut"))]
    started = time.monotonic()
    if not report_only:
        log = (SCRATCH / f"{name}.log").open("w")
        subprocess.run([*mutmut, "run", "--max-children", str(jobs)], cwd=dest, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=False)
        subprocess.run([*mutmut, "export-cicd-stats"], cwd=dest, env=env, stdout=log, stderr=subprocess.STDOUT,
                       check=False)
        if database_url:
            drop_databases(database_url, template)
    stats_file = dest / "mutants" / "mutmut-cicd-stats.json"
    if not stats_file.exists():
        print(f"[{name}] mutmut n’a produit aucun résultat : voir {SCRATCH / f'{name}.log'}")
        return None
    stats = json.loads(stats_file.read_text())
    listing = subprocess.run([*mutmut, "results"], cwd=dest, env=env, capture_output=True, text=True).stdout
    survivors = [line.split(":")[0].strip() for line in listing.splitlines()
                 if line.strip().endswith(("survived", "no tests", "suspicious"))]
    known = equivalents()
    diffs = {}
    # One `mutmut show` per survivor takes seconds on a loaded machine: MUTATION_DIFFS=0 lists
    # the names only (then `cd .cache/mutation/<group> && mutmut show <name>` for one).
    show = os.environ.get("MUTATION_DIFFS", "1") != "0"
    for mutant in survivors:
        diffs[mutant] = subprocess.run([*mutmut, "show", mutant], cwd=dest, env=env, capture_output=True,
                                       text=True).stdout if show else ""
    total = stats["total"] - stats.get("skipped", 0)
    # A mutant that makes the tests time out (e.g. an endless loop) is detected: counted as killed.
    killed = stats["killed"] + stats.get("timeout", 0)
    equivalent = [s for s in survivors if s in known]
    ratio = 100.0 * killed / total if total else 100.0
    adjusted = 100.0 * killed / (total - len(equivalent)) if total - len(equivalent) else 100.0
    return {"group": name, "modules": modules, "killed": killed, "total": total, "ratio": ratio,
            "equivalent": equivalent, "adjusted": adjusted, "survivors": survivors, "diffs": diffs,
            "stats": stats, "seconds": int(time.monotonic() - started)}


def main(argv):
    wanted = argv or list(GROUPS)
    unknown = [g for g in wanted if g not in GROUPS]
    if unknown:
        print(f"Groupes inconnus : {', '.join(unknown)} (connus : {', '.join(GROUPS)})")
        return 2
    jobs = int(os.environ.get("MUTATION_JOBS", "2"))
    SCRATCH.mkdir(parents=True, exist_ok=True)
    results = []
    for name in wanted:
        modules, tests = GROUPS[name]
        on = " (PostgreSQL)" if os.environ.get("MUTATION_DATABASE_URL") else ""
        print(f"→ {name}{on} : {', '.join(modules)}", flush=True)
        result = run_group(name, modules, tests, jobs)
        if result is None:
            continue
        results.append(result)
        (SCRATCH / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        for mutant in result["survivors"]:
            tag = " (équivalent, voir EQUIVALENT.md)" if mutant in result["equivalent"] else ""
            print(f"  survivant {mutant}{tag}\n{result['diffs'][mutant]}")
        print(f"  {name}: {result['killed']}/{result['total']} tués = {result['ratio']:.1f} % "
              f"(sans les équivalents : {result['adjusted']:.1f} %) en {result['seconds']} s", flush=True)
    print("\n| groupe | modules | tués / total | ratio | hors équivalents |")
    print("|---|---|---|---|---|")
    failed = False
    for r in results:
        print(f"| {r['group']} | {', '.join(r['modules'])} | {r['killed']}/{r['total']} | {r['ratio']:.1f} % "
              f"| {r['adjusted']:.1f} % |")
        failed |= r["adjusted"] < FLOOR
    if failed:
        print(f"\nAu moins un groupe est sous le plancher de {FLOOR:.0f} % (objectif {GOAL:.0f} %).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

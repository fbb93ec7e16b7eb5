"""Benchmark: validating a 100,000-row monthly list, archive included (issue 15, goal 2).

A realistic list (bench_import's Faker ``fr_FR`` CSV, cached in bench/.cache/) is imported as a
draft by the production path (``workflow.receive_upload`` + ``process_list``: read, check,
derive, store), not timed. Then, in the same run:

- **validation**: ``workflow.validate_list`` and everything it sets off once committed, with the
  test settings' synchronous in-process Celery: derived facts, the archive (database read, XLSX
  + CSV, AES-256 AE-2 ZIP, SHA-256, publish, record), the notifications. That is what the
  request (embedded default, before issue 15) or the worker runs; the request itself no
  longer waits for the archive (siao_ofii.background).
- **reference**: the same rows (same query, same columns) written as the same XLSX + CSV
  without encryption with the fastest writer measured (rustpy-xlsxwriter, see
  bench_xlsx_writers.py) — what producing the two files costs at the least.

Goal ≤ 1.5× the reference, floor ≤ 2× (``BENCH`` lines for bench/run_all.py). Runs in a
throw-away PostgreSQL database (created and dropped, like the test suite).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/siao_ofii_bench DEBUG=true python bench/bench_validation.py [--rows 100000]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings_test")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2,
                        help="reference measured this many times before and after the validation (best kept)")
    parser.add_argument("--profile", action="store_true", help="cProfile of the validation (top 25)")
    return parser.parse_args()


def main():
    args = parse_args()
    private = tempfile.mkdtemp(prefix="bench-validation-")
    os.environ["PRIVATE_STORAGE_ROOT"] = private
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    settings.PRIVATE_STORAGE_ROOT = Path(private)
    setup_test_environment()  # e-mails to mail.outbox
    print(f"Base : {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} · CPU : {os.cpu_count()} · "
          f"Python {sys.version.split()[0]}", flush=True)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        run(args, Path(private))
    finally:
        teardown_databases(old_config, verbosity=0)
        shutil.rmtree(private, ignore_errors=True)
    return 0


def csv_file(n):
    """bench_import's realistic CSV (same generator, same cache file), without its XLSX."""
    from bench_import import CACHE, HEADER, generate_rows

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"liste_{n}.csv"
    if not path.exists():
        with open(path, "w", encoding="cp1252", errors="replace", newline="") as fh:
            fh.write(";".join(HEADER) + "\r\n")
            for row in generate_rows(n):
                row[2] = row[2].strftime("%d/%m/%Y")
                row[8] = row[8].strftime("%d/%m/%Y")
                fh.write(";".join(str(v).replace(";", ",") for v in row) + "\r\n")
    return path


def draft_list(args):
    from exchanges.models import ListState
    from exchanges.services import workflow
    from referentiel.models import Agent, Departement, Habilitation, Role

    csv_path = csv_file(args.rows)
    dep = Departement.objects.get(code="69")
    agent = Agent.objects.create_user("siao69@bench.test", "bench-not-used-123")
    hab = Habilitation.objects.create(agent=agent, role=Role.SIAO, granted_by=None)
    hab.departements.add(dep)
    for role in (Role.DT, Role.SIEGE):  # recipients of the « archive prête » e-mail
        other = Agent.objects.create_user(f"{role}@bench.test", "bench-not-used-123")
        Habilitation.objects.create(agent=other, role=role, granted_by=None, dt_id=dep.dt_id if role == Role.DT else None)
    t = time.perf_counter()
    ml = workflow.receive_upload(dep, "2026-11", csv_path.read_bytes(), name=csv_path.name, user=agent, run=False)
    ml = workflow.process_list(ml.pk, progress=False)
    assert ml.state == ListState.DRAFT, ml.report.get("file_errors")
    if ml.error_count:  # the generated file has a few impossible rows: an agent would fix them
        ml.rows.exclude(errors=[]).delete()
        workflow.recount(ml)
    print(f"Brouillon : {ml.row_count} lignes importées ({time.perf_counter() - t:.1f} s, non compté)", flush=True)
    return ml, agent


def write_plain(ml, dest):
    """The reference: the archive's query and columns, XLSX + CSV with the fastest writer, no
    ZIP, no encryption."""
    from exchanges.extracts import writers
    from exchanges.models import ListRow

    cols = writers.columns(False)
    out = writers.CsvWriter(dest / "l.csv", cols)
    rows = ListRow.objects.filter(monthly_list=ml).order_by("line_number").values_list(*writers.ROW_FIELDS)

    def both():
        for row in rows.iterator(chunk_size=5000):
            values = writers.output_values(row, False)
            out.append(values)
            yield values

    try:
        getattr(writers, "write_xlsx", _write_xlsx)(dest / "l.xlsx", cols, both())
    finally:
        out.close()


def _write_xlsx(path, cols, rows):
    """The same writer for a checkout older than it (the "before" column of issue 15)."""
    from rustpy_xlsxwriter import FastExcel, Format

    headers = [c.header for c in cols]
    formats = {"date": Format().set_num_format("DD/MM/YYYY"), "int": Format().set_num_format("0"),
               "text": Format().set_quote_prefix()}
    (FastExcel(str(path)).format(bold_headers=True).freeze(row=1)
     .sheet("Liste", (dict(zip(headers, r)) for r in rows), column_widths=[c.width for c in cols],
            column_formats=[formats[c.kind] for c in cols], autofilter=True).save())


def run(args, private):
    from django.core import mail

    from exchanges.models import Extract, ListState
    from exchanges.services import workflow

    ml, agent = draft_list(args)
    plain = private / "plain"
    plain.mkdir()
    references = []

    def measure_reference():
        # Before and after the validation: a machine whose load swings hurts both alike.
        for _ in range(args.rounds):
            t = time.perf_counter()
            write_plain(ml, plain)
            references.append(time.perf_counter() - t)

    measure_reference()
    sizes = sum(p.stat().st_size for p in plain.iterdir())

    profiler = cProfile.Profile() if args.profile else None
    t = time.perf_counter()
    if profiler:
        profiler.enable()
    ml = workflow.validate_list(ml, agent, system=True)  # as `import_list --validate`
    if profiler:
        profiler.disable()
    validation = time.perf_counter() - t
    assert ml.state == ListState.VALIDATED
    measure_reference()
    reference = min(references)
    extract = Extract.objects.get(monthly_list=ml)
    assert extract.row_count == ml.row_count
    print(f"\nValidation de {ml.row_count} lignes, archive et notifications comprises : {validation:.2f} s "
          f"(archive : {extract.build_seconds:.2f} s, {extract.size / 1e6:.1f} Mo ; {len(mail.outbox)} courriel(s))")
    print(f"Référence, XLSX + CSV sans chiffrement (rustpy-xlsxwriter, même requête) : {reference:.2f} s "
          f"(meilleur de {len(references)}, avant et après : {', '.join(f'{r:.2f}' for r in references)} ; {sizes / 1e6:.1f} Mo)")
    print(f"Rapport : {validation / reference:.2f}× (objectif ≤ 1,5×, plancher ≤ 2×)")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        stats.print_callees("_build_for_list|validate_list|recount")
        stats.sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    print("BENCH " + json.dumps({
        "figure": f"validation d’une liste de {ml.row_count} lignes (archive et notifications comprises)",
        "value": round(validation, 2), "reference": round(reference, 2),
        "reference_name": "mêmes XLSX + CSV sans chiffrement, écrivain le plus rapide",
        "ratio_goal": 1.5, "ratio_floor": 2}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

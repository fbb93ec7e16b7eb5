"""Benchmark: a national month of extracts built on ONE worker process.

101 départements, 200,000 rows in all (skewed like reality: a few big départements), stored
in a throw-away PostgreSQL database (created and dropped by this script, like the test
suite does), then every archive is built by the same function the Celery task runs
(``services.build_for_list``: database read, XLSX + CSV, AES-256 ZIP, SHA-256, publish).

Reference: the same rows written plainly, without encryption, by the same writers (same
query, same columns, the same XLSX writer and CSV writer, no ZIP): what the archive adds on top
of writing its two files. Floor: the whole month in ≤ 60 s on a 2-core machine; the script
exits 1 above it. Prints a ``BENCH`` line (bench/run_all.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/siao_ofii python bench/bench_extracts.py [--rows 200000]
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings_test")
FLOOR_SECONDS = 60.0

LAST = ["MARTIN", "BERNARD", "DIALLO", "TRAORÉ", "KONATÉ", "HAIDARI", "AHMADI", "NGUYEN", "MOHAMED", "SAÏDI",
        "BEN ALI", "KOUASSI", "DOUMBIA", "RAHIMI", "ÇELIK", "=CMD|' /C calc'!A0", "O'NEIL", "GÓMEZ"]
FIRST = ["Aminata", "Mohammed", "Fatoumata", "Ali", "Léa", "Mamadou", "Zahra", "Ibrahim", "Hélène", "Omar",
         "-Moussa", "Aïcha", "Yusuf", "Mariam", "@Nadia", "Jean-Baptiste"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "place de la Mairie",
           "chemin des Églantiers", "rue du 8 Mai 1945"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--seed", type=int, default=20261110)
    return parser.parse_args()


def main():
    args = parse_args()
    private = tempfile.mkdtemp(prefix="bench-extracts-")
    os.environ["PRIVATE_STORAGE_ROOT"] = private
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    settings.PRIVATE_STORAGE_ROOT = Path(private)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    print(f"Base : {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} · "
          f"CPU : {os.cpu_count()} · Python {sys.version.split()[0]}", flush=True)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        run(args, Path(private), connection)
        return_code = 0
    except FloorExceeded as exc:
        print(f"\n!! PLANCHER DÉPASSÉ : {exc}")
        return_code = 1
    finally:
        teardown_databases(old_config, verbosity=0)
    return return_code


class FloorExceeded(Exception):
    pass


def populate(args):
    from exchanges.models import ListRow, ListState, MonthlyList, Movement, Status
    from referentiel.models import Agent, Departement

    rng = random.Random(args.seed)
    agent = Agent.objects.create_user("bench@bench.test", "bench-not-used-123")
    deps = list(Departement.objects.order_by("sort_key"))
    big = {"75": 12, "93": 10, "69": 8, "13": 8, "94": 6, "92": 5, "33": 5, "31": 5, "59": 5, "67": 4, "44": 4}
    weights = [big.get(d.code, 1) for d in deps]
    total_w = sum(weights)
    counts = [args.rows * w // total_w for w in weights]
    counts[0] += args.rows - sum(counts)
    statuses = [Status.DA, Status.DA, Status.REFUGIE, Status.PROTECTION_SUBSIDIAIRE]
    now = datetime.datetime.now(datetime.UTC)
    lists = MonthlyList.objects.bulk_create(
        MonthlyList(departement=d, period=args.period, version=1, state=ListState.VALIDATED, uploaded_by=agent,
                    validated_by=agent, validated_at=now, row_count=n, progress=100)
        for d, n in zip(deps, counts)
    )
    batch = []
    for ml, n in zip(lists, counts):
        for i in range(n):
            batch.append(ListRow(
                monthly_list=ml, line_number=i + 2, last_name=rng.choice(LAST), first_name=rng.choice(FIRST),
                birth_date=datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
                sex=rng.choice("FM"), status=rng.choice(statuses),
                shelter_address=f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, {ml.departement.code}000",
                entry_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(300)),
                identity_key=f"{ml.pk}-{i}", movement=rng.choice([Movement.NEW, Movement.PRESENT, Movement.PRESENT]),
                continuous_months=rng.randrange(1, 24), ada_flag=rng.random() < 0.3,
            ))
            if len(batch) == 10_000:
                ListRow.objects.bulk_create(batch)
                batch = []
    ListRow.objects.bulk_create(batch)
    return lists


def plain_files(ml, dest_dir):
    """The reference: the same query and columns, written as a plain XLSX + CSV with the same
    writers as the archive, without ZIP nor encryption."""
    from exchanges.extracts.writers import ROW_FIELDS, CsvWriter, columns, output_values, write_xlsx
    from exchanges.models import ListRow

    cols = columns(False)
    out = CsvWriter(dest_dir / f"{ml.departement.code}.csv", cols)
    rows = ListRow.objects.filter(monthly_list=ml).order_by("line_number").values_list(*ROW_FIELDS)

    def both():
        for row in rows.iterator(chunk_size=5000):
            values = output_values(row, False)
            out.append(values)
            yield values

    try:
        write_xlsx(dest_dir / f"{ml.departement.code}.xlsx", cols, both())
    finally:
        out.close()


def breakdown(ml, private):
    """Where the time goes, on the biggest département (rows read once, in memory)."""
    import zipfile

    import pyzipper

    from exchanges.extracts.archive import AES_VERSION, CSV_COMPRESSLEVEL
    from exchanges.extracts.writers import ROW_FIELDS, CsvWriter, columns, output_values, write_xlsx
    from exchanges.models import ListRow

    work = private / "breakdown"
    work.mkdir()
    timings = {}
    t = time.perf_counter()
    rows = [output_values(r, False) for r in
            ListRow.objects.filter(monthly_list=ml).order_by("line_number").values_list(*ROW_FIELDS)]
    timings["lecture base"] = time.perf_counter() - t
    t = time.perf_counter()
    write_xlsx(work / "l.xlsx", columns(False), iter(rows))
    timings["XLSX (rustpy-xlsxwriter)"] = time.perf_counter() - t
    t = time.perf_counter()
    out = CsvWriter(work / "l.csv", columns(False))
    for r in rows:
        out.append(r)
    out.close()
    timings["CSV"] = time.perf_counter() - t
    t = time.perf_counter()
    with zipfile.ZipFile(work / "plain.zip", "w") as zf:
        zf.write(work / "l.xlsx", "l.xlsx", compress_type=zipfile.ZIP_STORED)
        zf.write(work / "l.csv", "l.csv", compress_type=zipfile.ZIP_DEFLATED, compresslevel=CSV_COMPRESSLEVEL)
    timings["ZIP sans chiffrement"] = time.perf_counter() - t
    t = time.perf_counter()
    with pyzipper.AESZipFile(work / "aes.zip", "w", encryption=pyzipper.WZ_AES,
                             encryption_kwargs={"nbits": 256, "force_wz_aes_version": AES_VERSION}) as zf:
        zf.setpassword(b"Abcd-Efgh-Jkmn-Pqrs-Tuvw")
        zf.write(work / "l.xlsx", "l.xlsx", compress_type=pyzipper.ZIP_STORED)
        zf.write(work / "l.csv", "l.csv", compress_type=pyzipper.ZIP_DEFLATED, compresslevel=CSV_COMPRESSLEVEL)
    timings["ZIP AES-256"] = time.perf_counter() - t
    print(f"Décomposition, plus gros département ({ml.departement.code}, {ml.row_count} lignes) : "
          + " · ".join(f"{k} {v:.2f} s" for k, v in timings.items()))


def run(args, private, connection):
    from exchanges.extracts.services import build_for_list

    t0 = time.perf_counter()
    lists = populate(args)
    print(f"Jeu de données : {len(lists)} départements, {args.rows} lignes "
          f"(préparation {time.perf_counter() - t0:.1f} s, non comptée)", flush=True)

    per_archive = []
    sizes = 0
    start = time.perf_counter()
    for ml in lists:
        t = time.perf_counter()
        extract, created = build_for_list(ml.pk)
        per_archive.append((time.perf_counter() - t, ml.row_count, ml.departement.code))
        assert created and extract.row_count == ml.row_count
        sizes += extract.size
    total = time.perf_counter() - start

    plain_dir = private / "plain"
    plain_dir.mkdir()
    start = time.perf_counter()
    for ml in lists:
        plain_files(ml, plain_dir)
    plain_total = time.perf_counter() - start
    plain_bytes = sum(p.stat().st_size for p in plain_dir.iterdir())

    times = [t for t, _, _ in per_archive]
    slowest = max(per_archive)
    print()
    print(f"Archives chiffrées (XLSX + CSV, AES-256 AE-2), un seul processus : {total:.1f} s au total")
    print(f"  par archive : moyenne {statistics.mean(times) * 1000:.0f} ms · médiane "
          f"{statistics.median(times) * 1000:.0f} ms · max {slowest[0]:.2f} s ({slowest[2]}, {slowest[1]} lignes)")
    print(f"  débit : {args.rows / total:,.0f} lignes/s · archives : {sizes / 1e6:.1f} Mo".replace(",", " "))
    print(f"XLSX + CSV sans ZIP ni chiffrement (même requête, mêmes écrivains) : {plain_total:.1f} s "
          f"({plain_bytes / 1e6:.1f} Mo)")
    print(f"Rapport archives / mêmes fichiers non chiffrés : {total / plain_total:.2f}×")
    print("BENCH " + json.dumps({
        "figure": f"archives d’un mois national ({len(lists)} départements, {args.rows} lignes)",
        "value": round(total, 2), "reference": round(plain_total, 2),
        "reference_name": "mêmes XLSX + CSV sans chiffrement", "floor": FLOOR_SECONDS}), flush=True)
    breakdown(max(lists, key=lambda m: m.row_count), private)
    print(f"Plancher : {FLOOR_SECONDS:.0f} s → {'respecté' if total <= FLOOR_SECONDS else 'DÉPASSÉ'}")
    if total > FLOOR_SECONDS:
        raise FloorExceeded(f"{total:.1f} s > {FLOOR_SECONDS:.0f} s")


if __name__ == "__main__":
    sys.exit(main())

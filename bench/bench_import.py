"""Benchmark of the monthly-list import, end to end (read, validate, store in PostgreSQL).

    DATABASE_URL=postgres://… python bench/bench_import.py [--rows 100000] [--keep-files]

- Generates realistic files with Faker fr_FR (names with accents and hyphens, French addresses,
  dates as Excel dates in the XLSX and as JJ/MM/AAAA text in the CSV, a few messy values):
  an XLSX (openpyxl, write-only) and a Windows-1252 ``;`` CSV, cached in bench/.cache/.
- Each measurement runs in its own child process so that its peak memory (max RSS, from
  ``os.wait4``) is its own: (1) reading only, with python-calamine (the fastest reader);
  (2) the production path ``workflow.receive_upload`` + ``workflow.process_list`` (read, map
  columns, validate every row with plain functions, derive facts, COPY into PostgreSQL, one
  transaction), the same code the Celery task runs.
- Floor (issue 4): ≤ 15 s and ≤ 400 MB peak for 100,000 XLSX rows.
The created lists are deleted afterwards. Needs a migrated database (``manage.py migrate``).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
HEADER = ["NOM", "Prénom", "Date de naissance", "Sexe", "Situation administrative",
          "Adresse de l'hébergement", "Code postal", "Ville", "Date d'entrée"]
STATUSES = ["DA", "demandeur d'asile", "réfugié", "Réfugiée", "protection subsidiaire", "BPI", "Procédure Dublin"]


def generate_rows(n, seed=4):
    from faker import Faker

    fake = Faker("fr_FR")
    Faker.seed(seed)
    rnd = random.Random(seed)
    import datetime

    start = datetime.date(2026, 11, 30)
    # Faker is slow per call: draw pools and combine them.
    last = [fake.last_name().upper() for _ in range(5000)]
    female = [fake.first_name_female() for _ in range(2000)]
    male = [fake.first_name_male() for _ in range(2000)]
    streets = [fake.street_address() for _ in range(3000)]
    towns = [(fake.postcode(), fake.city()) for _ in range(500)]
    for i in range(n):
        sex = rnd.choice("FM")
        birth = start - datetime.timedelta(days=rnd.randint(18 * 365, 75 * 365))
        entry = start - datetime.timedelta(days=rnd.randint(0, 4 * 365))
        pc, town = rnd.choice(towns)
        yield [
            rnd.choice(last), rnd.choice(female if sex == "F" else male), birth,
            rnd.choice(["F", "Femme"]) if sex == "F" else rnd.choice(["M", "H", "Homme"]),
            rnd.choice(STATUSES), rnd.choice(streets), pc, town, entry,
        ]


def make_files(n):
    CACHE.mkdir(exist_ok=True)
    xlsx, csv_path = CACHE / f"liste_{n}.xlsx", CACHE / f"liste_{n}.csv"
    if not xlsx.exists():
        import openpyxl

        t = time.perf_counter()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("Liste")
        ws.append(HEADER)
        from openpyxl.cell import WriteOnlyCell

        for row in generate_rows(n):
            cells = []
            for i, v in enumerate(row):
                c = WriteOnlyCell(ws, value=v)
                if i in (2, 8):
                    c.number_format = "DD/MM/YYYY"
                cells.append(c)
            ws.append(cells)
        wb.save(xlsx)
        print(f"generated {xlsx.name} ({xlsx.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
    if not csv_path.exists():
        t = time.perf_counter()
        with open(csv_path, "w", encoding="cp1252", errors="replace", newline="") as fh:
            fh.write(";".join(HEADER) + "\r\n")
            for row in generate_rows(n):
                row[2] = row[2].strftime("%d/%m/%Y")
                row[8] = row[8].strftime("%d/%m/%Y")
                fh.write(";".join(str(v).replace(";", ",") for v in row) + "\r\n")
        print(f"generated {csv_path.name} ({csv_path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
    return xlsx, csv_path


def child(mode, path):
    """Runs in the child process; prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings")
    os.environ.setdefault("DEBUG", "true")
    data = Path(path).read_bytes()
    if mode == "calamine":
        import io

        from python_calamine import CalamineWorkbook

        t = time.perf_counter()
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
        print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(rows) - 1}))
        return
    if mode == "csvread":
        import csv
        import io

        t = time.perf_counter()
        rows = list(csv.reader(io.StringIO(data.decode("cp1252")), delimiter=";"))
        print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(rows) - 1}))
        return
    import django

    django.setup()
    from django.conf import settings

    settings.UPLOAD_MAX_BYTES = max(settings.UPLOAD_MAX_BYTES, len(data) + 1)
    from exchanges.models import MonthlyList
    from exchanges.services import workflow
    from referentiel.models import Agent, Departement

    agent, _ = Agent.objects.get_or_create(email="bench@system.invalid", defaults={"last_name": "bench"})
    dep = Departement.objects.get(code="69")
    from exchanges.models import Extract
    from exchanges.signals import list_validated

    # Measure the import alone: no archive build when the previous month is validated.
    list_validated.disconnect(dispatch_uid="exchanges.extracts.build_on_validation")
    Extract.objects.filter(monthly_list__uploaded_by=agent).delete()
    MonthlyList.objects.filter(uploaded_by=agent).delete()
    if mode == "import-month2":
        # Previous month validated with the same persons: every row is matched (derive) and the
        # cross-département check runs against a full list.
        prev = workflow.receive_upload(dep, "2026-10", data, name="prev", user=agent, run=False)
        prev = workflow.process_list(prev.pk, progress=False)
        from exchanges.models import ListRow

        ListRow.objects.filter(monthly_list=prev).update(errors=[])
        workflow.validate_list(prev, agent, system=True)
    t = time.perf_counter()
    ml = workflow.receive_upload(dep, "2026-11", data, name=Path(path).name, user=agent, run=False)
    ml = workflow.process_list(ml.pk)
    seconds = time.perf_counter() - t
    stored = ml.rows.count()
    out = {"seconds": seconds, "rows": ml.row_count, "stored": stored, "errors": ml.error_count,
           "warnings": ml.warning_count, "state": ml.state, "db": settings.DATABASES["default"]["ENGINE"]}
    out["ada_flags"] = ml.rows.filter(ada_flag=True).count()
    out["present"] = ml.rows.filter(movement="present").count()
    MonthlyList.objects.filter(uploaded_by=agent).delete()
    print(json.dumps(out))


def measure(mode, path):
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(path)], stdout=subprocess.PIPE,
                            cwd=ROOT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{mode} failed: {out}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # kB on Linux
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    xlsx, csv_path = make_files(args.rows)
    results = {}
    for name, mode, path in [("xlsx read only (calamine)", "calamine", xlsx),
                             ("xlsx end to end", "import", xlsx),
                             ("csv read only (csv module)", "csvread", csv_path),
                             ("csv end to end", "import", csv_path),
                             ("xlsx end to end, month 2", "import-month2", xlsx)]:
        results[name] = r = measure(mode, path)
        extra = f", stored {r['stored']} rows, {r['errors']} rows with errors, state {r['state']}, {r['db'].rsplit('.', 1)[-1]}" if mode.startswith("import") else ""
        if mode == "import-month2":
            extra += f", {r['present']} matched with last month, {r['ada_flags']} ADA flags; peak includes month 1"
        print(f"{name:30s} {r['seconds']:6.2f} s  peak {r['peak_mb']:6.0f} MB  ({r['rows']} rows{extra})")
    x, xr = results["xlsx end to end"], results["xlsx read only (calamine)"]
    c, cr = results["csv end to end"], results["csv read only (csv module)"]
    print(f"ratio end-to-end / read-only: xlsx {x['seconds'] / xr['seconds']:.1f}×, csv {c['seconds'] / cr['seconds']:.1f}×")
    ok = x["seconds"] <= 15 and x["peak_mb"] <= 400
    print(f"floor (≤ 15 s, ≤ 400 MB for {args.rows} XLSX rows): {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

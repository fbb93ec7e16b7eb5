"""Benchmark of the monthly-list import, end to end (read, validate, store in PostgreSQL).

    DATABASE_URL=postgres://… python bench/bench_import.py [--rows 100000] [--keep-files]

- Generates realistic files with Faker fr_FR (names with accents and hyphens, French addresses,
  dates as Excel dates in the XLSX and as JJ/MM/AAAA text in the CSV, a few messy values):
  an XLSX (openpyxl, write-only) and a Windows-1252 ``;`` CSV, cached in bench/.cache/.
- Each measurement runs in its own child process so that its peak memory (max RSS, from
  ``os.wait4``) is its own: (1) reading only, with python-calamine (the fastest reader) or
  ``csv.reader``: the references; (2) the production path ``workflow.receive_upload`` +
  ``workflow.process_list`` (sniff, read, map columns, validate every row, derive facts, COPY
  into PostgreSQL, one transaction), the same code the Celery task runs.
- Wall time is what the issue's ratios use. CPU time is printed too (this process plus the
  PostgreSQL backend serving it, read from /proc): on a machine shared with other jobs it
  moves much less than the wall time.
- Issue 15, goal 1: draft import ≤ 2.5× the read of the same file (floor 4×), ≤ 300 MB peak,
  for the XLSX against python-calamine and the CSV against ``csv.reader``; printed as
  ``BENCH`` lines for bench/run_all.py.
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


def _backend_cpu(pid):
    """CPU seconds used so far by a local PostgreSQL backend (None when /proc does not show it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(mode, path):
    """Runs in the child process; prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siao_ofii.settings")
    os.environ.setdefault("DEBUG", "true")
    data = Path(path).read_bytes()
    if mode == "calamine":
        import io

        from python_calamine import CalamineWorkbook

        t, c = time.perf_counter(), time.process_time()
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
        print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": len(rows) - 1}))
        return
    if mode == "csvread":
        import csv
        import io

        t, c = time.perf_counter(), time.process_time()
        rows = list(csv.reader(io.StringIO(data.decode("cp1252")), delimiter=";"))
        print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": len(rows) - 1}))
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
    from django.db import connection

    from exchanges.models import ListRow
    from siao_ofii.privatefiles.models import StoredFile, StoredFileChunk

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # This machine's PostgreSQL runs without autovacuum: the rows every earlier run deleted
            # would stay in the table and its indexes, and each run would be slower than the last.
            # A production server vacuums them; so does the benchmark, before it measures.
            tables = ", ".join(m._meta.db_table for m in (ListRow, MonthlyList, StoredFile, StoredFileChunk))
            cursor.execute(f"VACUUM ANALYZE {tables}")
            # And the pages that earlier work left to write are written now, not during the import.
            try:
                cursor.execute("CHECKPOINT")
            except Exception:  # not a superuser: measured with whatever is pending
                pass
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server = _backend_cpu(backend)
    t, c = time.perf_counter(), time.process_time()
    ml = workflow.receive_upload(dep, "2026-11", data, name=Path(path).name, user=agent, run=False)
    ml = workflow.process_list(ml.pk)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    server = _backend_cpu(backend) - server if server is not None else None
    stored = ml.rows.count()
    out = {"seconds": seconds, "cpu": cpu, "server_cpu": server, "rows": ml.row_count, "stored": stored, "errors": ml.error_count,
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
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores: above 2, every figure is inflated)")
    results = {}
    for name, mode, path in [("xlsx read only (calamine)", "calamine", xlsx),
                             ("xlsx end to end", "import", xlsx),
                             ("csv read only (csv module)", "csvread", csv_path),
                             ("csv end to end", "import", csv_path),
                             ("xlsx end to end, month 2", "import-month2", xlsx)]:
        results[name] = r = measure(mode, path)
        cpu = f"cpu {r['cpu']:5.2f} s" + (f" + PostgreSQL {r['server_cpu']:5.2f} s" if r.get("server_cpu") is not None else "")
        extra = f", stored {r['stored']} rows, {r['errors']} rows with errors, state {r['state']}, {r['db'].rsplit('.', 1)[-1]}" if mode.startswith("import") else ""
        if mode == "import-month2":
            extra += f", {r['present']} matched with last month, {r['ada_flags']} ADA flags; peak includes month 1"
        print(f"{name:30s} {r['seconds']:6.2f} s  {cpu}  peak {r['peak_mb']:6.0f} MB  ({r['rows']} rows{extra})")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    x, xr = results["xlsx end to end"], results["xlsx read only (calamine)"]
    c, cr = results["csv end to end"], results["csv read only (csv module)"]
    print(f"ratio end-to-end / read-only: xlsx {x['seconds'] / xr['seconds']:.1f}×, csv {c['seconds'] / cr['seconds']:.1f}× "
          f"(CPU, Python + PostgreSQL: xlsx {(x['cpu'] + (x['server_cpu'] or 0)) / xr['cpu']:.1f}×, "
          f"csv {(c['cpu'] + (c['server_cpu'] or 0)) / cr['cpu']:.1f}×)")
    ok = x["seconds"] <= 4 * xr["seconds"] and c["seconds"] <= 4 * cr["seconds"] and max(x["peak_mb"], c["peak_mb"]) <= 300
    print(f"floor (≤ 4× the read, ≤ 300 MB, XLSX and CSV): {'MET' if ok else 'NOT MET'}")
    n = f"{args.rows:,}".replace(",", "\u202f")
    figures = [
        {"figure": f"import XLSX {n} lignes, brouillon (s)", "value": x["seconds"], "reference": xr["seconds"],
         "reference_name": "lecture python-calamine", "ratio_goal": 2.5, "ratio_floor": 4},
        {"figure": "import XLSX, pic mémoire (Mo)", "value": x["peak_mb"], "goal": 300, "floor": 300},
        {"figure": f"import CSV {n} lignes, brouillon (s)", "value": c["seconds"], "reference": cr["seconds"],
         "reference_name": "lecture csv.reader", "ratio_goal": 2.5, "ratio_floor": 4},
        {"figure": "import CSV, pic mémoire (Mo)", "value": c["peak_mb"], "goal": 300, "floor": 300},
        # CPU (this process + its PostgreSQL backend): less sensitive to other jobs; no bound.
        {"figure": "import XLSX, CPU Python + PostgreSQL (s)", "value": x["cpu"] + (x["server_cpu"] or 0),
         "reference": xr["cpu"], "reference_name": "CPU lecture python-calamine"},
        {"figure": "import CSV, CPU Python + PostgreSQL (s)", "value": c["cpu"] + (c["server_cpu"] or 0),
         "reference": cr["cpu"], "reference_name": "CPU lecture csv.reader"},
    ]
    for figure in figures:
        print("BENCH " + json.dumps(figure, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

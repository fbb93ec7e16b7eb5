"""Benchmark: XLSX writer candidates side by side (issue 15, goal 2), on the archive's rows.

Each candidate writes the same 100,000 realistic rows (the archive's ten columns: names, two
real dates, sex, status, address, Oui/Non, an integer; 1 row in 50 formula-like) in its own
process, so that its peak memory is its own; the rows are generated before the clock starts.
Then the small file each one writes is read back with openpyxl and the archive's guarantees
are checked: formula-like texts are text cells (never ``<f>``), flagged ``quotePrefix``, dates
are real dates shown DD/MM/YYYY, integers are numbers, bold frozen header, column widths,
auto-filter, sheet title.

    python bench/bench_xlsx_writers.py [--rows 100000] [--rounds 2]

Not part of ``make bench`` (run_all.py): it measures libraries, not the product. Candidates
that are not installed are skipped (``pip install XlsxWriter==3.3.1 pyexcelerate==0.13.0
rustpy-xlsxwriter==0.8.0``).
"""

import argparse
import datetime
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HEADERS = ["Nom", "Prénom", "Date de naissance", "Sexe", "Statut (DA / BPI)", "Adresse de l’hébergement",
           "Date d’entrée dans l’hébergement", "Nouvelle arrivée ce mois",
           "Mois continus en hébergement généraliste", "Montant additionnel ADA non dû"]
KINDS = ["text", "text", "date", "text", "text", "text", "date", "text", "int", "text"]
WIDTHS = [22, 20, 14, 6, 10, 45, 14, 12, 14, 14]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LAST = ["MARTIN", "BERNARD", "DIALLO", "TRAORÉ", "KONATÉ", "HAIDARI", "AHMADI", "NGUYEN", "MOHAMED", "SAÏDI",
        "BEN ALI", "KOUASSI", "DOUMBIA", "RAHIMI", "ÇELIK", "O'NEIL", "GÓMEZ", "LEFÈVRE", "DUBOIS", "N'DIAYE"]
FIRST = ["Aminata", "Mohammed", "Fatoumata", "Ali", "Léa", "Mamadou", "Zahra", "Ibrahim", "Hélène", "Omar",
         "Aïcha", "Yusuf", "Mariam", "Nadia", "Jean-Baptiste", "Chloé"]
TRAPS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+33612345678", "-Moussa", "@SUM(A1:A2)", "=1+1"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "place de la Mairie",
           "chemin des Églantiers", "rue du 8 Mai 1945"]


def make_rows(n, seed=20261124):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        last, first = rng.choice(LAST), rng.choice(FIRST)
        if i % 50 == 7:
            last = TRAPS[(i // 50) % len(TRAPS)]
        rows.append([
            last, first, datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(20000)),
            rng.choice("FM"), rng.choice(["DA", "DA", "BPI"]),
            f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, {rng.randrange(1000, 95999):05d} Ville",
            datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(300)),
            rng.choice(["Oui", "Non", "Non"]), rng.randrange(1, 24), rng.choice(["Oui", "Non"]),
        ])
    return rows


# --- candidates: each writes ``rows`` to ``path`` keeping as many guarantees as its API allows ---

def openpyxl_write_only(path, rows):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Liste")
    ws.freeze_panes = "A2"
    for i, w in enumerate(WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    bold = Font(bold=True)
    header = []
    for h in HEADERS:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header.append(c)
    ws.append(header)

    def cell(value, kind):
        if value is None or value == "":
            return None
        if kind == "date":
            c = WriteOnlyCell(ws, value=value)
            c.number_format = "DD/MM/YYYY"
            return c
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            c = WriteOnlyCell(ws)
            c.value = value
            c.data_type = "s"
            c.quotePrefix = True
            return c
        return value

    for r in rows:
        ws.append([cell(v, k) for v, k in zip(r, KINDS)])
    ws.auto_filter.ref = f"A1:J{len(rows) + 1}"
    wb.save(path)


def _xlsxwriter(path, rows, typed):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Liste")
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "DD/MM/YYYY"})
    quote = wb.add_format({"quote_prefix": True})
    for i, w in enumerate(WIDTHS):
        ws.set_column(i, i, w)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, HEADERS, bold)
    if typed:
        write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
        for n, r in enumerate(rows, 1):
            for c, (v, k) in enumerate(zip(r, KINDS)):
                if v is None or v == "":
                    continue
                if k == "date":
                    write_datetime(n, c, v, date_fmt)
                elif k == "int":
                    write_number(n, c, v)
                elif v.startswith(FORMULA_PREFIXES):
                    write_string(n, c, v, quote)
                else:
                    write_string(n, c, v)
    else:
        for n, r in enumerate(rows, 1):
            ws.write_row(n, 0, r)
    ws.autofilter(0, 0, len(rows), len(HEADERS) - 1)
    wb.close()


def xlsxwriter_typed(path, rows):
    _xlsxwriter(path, rows, typed=True)


def xlsxwriter_write_row(path, rows):
    """write_row: the generic dispatch, dates without format and no quotePrefix (speed only)."""
    _xlsxwriter(path, rows, typed=False)


def pyexcelerate_plain(path, rows):
    """pyexcelerate has no way to write a text starting with "=" as text: it becomes a formula."""
    from pyexcelerate import Font, Format, Panes, Style, Workbook

    wb = Workbook()
    ws = wb.new_sheet("Liste", data=[HEADERS] + rows)
    ws.set_row_style(1, Style(font=Font(bold=True)))
    date_style = Style(format=Format("DD/MM/YYYY"))
    ws.set_col_style(3, date_style)
    ws.set_col_style(7, date_style)
    ws.panes = Panes(0, 1)
    wb.save(str(path))


def rustpy(path, rows):
    """Records must be dicts; formats are per column (quotePrefix can only be set column-wide)."""
    from rustpy_xlsxwriter import FastExcel, Format

    def records():
        for r in rows:
            yield dict(zip(HEADERS, r))

    date_fmt = Format().set_num_format("DD/MM/YYYY")
    (FastExcel(str(path)).format(bold_headers=True).freeze(row=1)
     .sheet("Liste", records(), column_widths=WIDTHS,
            column_formats=[None, None, date_fmt, None, None, None, date_fmt, None, None, None],
            autofilter=True)
     .save())


CANDIDATES = {
    "openpyxl 3.1.5 write-only": openpyxl_write_only,
    "XlsxWriter 3.3.1 constant_memory, typed write_*": xlsxwriter_typed,
    "XlsxWriter 3.3.1 constant_memory, write_row": xlsxwriter_write_row,
    "pyexcelerate 0.13.0": pyexcelerate_plain,
    "rustpy-xlsxwriter 0.8.0": rustpy,
}
TRAP_ROW = 8  # row 7 of the data (i == 7) is on sheet row 9: 0-based index 7 + header + 1


def check(path):
    """The archive's guarantees, read back with openpyxl (and the raw XML for formulas)."""
    from openpyxl import load_workbook

    result = {}
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = z.read(sheets[0])
    result["aucune formule"] = b"<f>" not in xml and b"<f " not in xml
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    trap = ws["A9"]
    result["« =… » en texte"] = trap.data_type == "s" and trap.value == TRAPS[0]
    result["quotePrefix"] = bool(trap.quotePrefix)
    c = ws["C2"]
    result["dates JJ/MM/AAAA"] = c.is_date and c.number_format.upper() == "DD/MM/YYYY"
    result["entiers"] = isinstance(ws["I2"].value, int)
    result["en-tête gras"] = bool(ws["A1"].font and ws["A1"].font.b)
    result["en-tête figé"] = ws.freeze_panes == "A2"
    result["largeurs"] = abs((ws.column_dimensions["F"].width or 0) - 45) < 1
    result["filtre"] = bool(ws.auto_filter.ref) and ws.auto_filter.ref.startswith("A1:J")
    result["titre « Liste »"] = ws.title == "Liste"
    return result


def child(name, rows_n):
    rows = make_rows(rows_n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.xlsx"
        t = time.perf_counter()
        CANDIDATES[name](path, rows)
        seconds = time.perf_counter() - t
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.xlsx"
        CANDIDATES[name](small, make_rows(60))
        checks = check(small)
    print(json.dumps({"name": name, "seconds": seconds, "size": size, "peak_mb": peak / 1024,
                      "rows_mb": before / 1024, "checks": checks}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return 0
    results = {}
    for _ in range(args.rounds):  # interleaved rounds: a busy moment hurts every candidate alike
        for name in CANDIDATES:
            proc = subprocess.run([sys.executable, __file__, "--child", name, "--rows", str(args.rows)],
                                  capture_output=True, text=True)
            if proc.returncode:
                print(f"{name} : ignoré ({proc.stderr.strip().splitlines()[-1] if proc.stderr else 'échec'})")
                results.setdefault(name, None)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            best = results.get(name)
            if best is None or r["seconds"] < best["seconds"]:
                results[name] = r
    ok = {k: v for k, v in results.items() if v}
    ref = ok.get("openpyxl 3.1.5 write-only")
    print(f"\n{args.rows} lignes, meilleur de {args.rounds} passages, un processus par mesure\n")
    print("| écrivain | temps | vs openpyxl | taille | pic RSS (dont lignes) | garanties manquantes |")
    print("|---|---|---|---|---|---|")
    for name, r in ok.items():
        missing = [k for k, v in r["checks"].items() if not v]
        speed = f"{ref['seconds'] / r['seconds']:.1f}× plus rapide" if ref else ""
        print(f"| {name} | {r['seconds']:.2f} s | {speed} | {r['size'] / 1e6:.1f} Mo | "
              f"{r['peak_mb']:.0f} Mo ({r['rows_mb']:.0f}) | {', '.join(missing) or 'aucune'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

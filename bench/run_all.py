"""Run every benchmark against a dedicated PostgreSQL database (created and migrated first),
then print one table: each figure, its reference measured in the same run, the ratio, and
whether the goal and the floor of issue 15 hold.

    python bench/run_all.py                 # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/siao_ofii_bench
    python bench/run_all.py bench_pages.py  # some benchmarks only
    BENCH_PAGES_BEFORE=/tmp/main-export python bench/run_all.py bench_pages.py  # pages before/after

A benchmark reports figures with lines ``BENCH {json}`` (figure, value, and optionally
reference, reference_name, goal, floor: a figure holds when value ≤ the bound, or, for
``ratio_goal`` / ``ratio_floor``, when value / reference ≤ the bound).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("bench_import.py", "bench_validation.py", "bench_extracts.py", "bench_pages.py")


def _run(script, env, args=(), label=""):
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    figures = []
    for line in proc.stdout:
        if line.startswith("BENCH "):
            figure = json.loads(line[6:])
            if label:
                figure["figure"] = f"[{label}] {figure['figure']}"
            figures.append({"script": script, **figure})
        else:
            print(line, end="", flush=True)
    if proc.wait():
        figures.append({"script": script, "figure": f"{script} a échoué (code {proc.returncode})", "value": None})
    return figures


def _verdict(value, bound):
    if bound is None or value is None:
        return ""
    return "oui" if value <= bound else "NON"


def table(figures):
    rows = [("figure", "mesure", "référence (même exécution)", "ratio", "objectif", "tenu", "plancher", "tenu")]
    for f in figures:
        value, ref = f.get("value"), f.get("reference")
        ratio = value / ref if value is not None and ref else None
        measured = ratio if "ratio_goal" in f or "ratio_floor" in f else value
        goal = f.get("ratio_goal", f.get("goal"))
        floor = f.get("ratio_floor", f.get("floor"))
        fmt = (lambda v: "" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v)))
        rows.append((
            f["figure"], fmt(value),
            f"{fmt(ref)} ({f.get('reference_name', '')})" if ref is not None else "",
            f"{ratio:.2f}×" if ratio is not None else "",
            ("≤ " + fmt(goal) + ("×" if "ratio_goal" in f else "")) if goal is not None else "",
            _verdict(measured, goal),
            ("≤ " + fmt(floor) + ("×" if "ratio_floor" in f else "")) if floor is not None else "",
            _verdict(measured, floor),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(scripts):
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/siao_ofii_bench")
    env.pop("REDIS_URL", None)
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=False, stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**env, "DEBUG": "true"}, check=True)
    figures = []
    for script in scripts:
        # The import and extract benchmarks run with DEBUG=true (no production secrets needed);
        # the page benchmark sets its own production environment.
        if script == "bench_pages.py" and env.get("BENCH_PAGES_BEFORE"):
            # The "before" column in the same run: another checkout served (e.g. an export of main).
            figures += _run(script, env, ["--source", env["BENCH_PAGES_BEFORE"], "--label", "avant"], "avant")
        figures += _run(script, {**env, "DEBUG": env.get("DEBUG", "true")} if script != "bench_pages.py" else env)
    print("\n" + table(figures))
    goals = [f for f in figures if any(k in f for k in ("goal", "ratio_goal"))]
    floors = [f for f in figures if any(k in f for k in ("floor", "ratio_floor"))]  # some have no goal
    print(f"\n{sum(1 for f in goals if _holds(f, 'goal'))}/{len(goals)} objectifs tenus, "
          f"{sum(1 for f in floors if _holds(f, 'floor'))}/{len(floors)} planchers.")


def _holds(f, kind):
    value, ref = f.get("value"), f.get("reference")
    if f"ratio_{kind}" in f:
        return value is not None and ref and value / ref <= f[f"ratio_{kind}"]
    return kind in f and value is not None and value <= f[kind]


if __name__ == "__main__":
    main(sys.argv[1:] or SCRIPTS)

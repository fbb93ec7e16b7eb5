"""Run every benchmark against a dedicated PostgreSQL database (created and migrated first).

    python bench/run_all.py            # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/siao_ofii_bench
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/siao_ofii_bench")
    env.setdefault("DEBUG", "true")
    env.pop("REDIS_URL", None)
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=False, stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    for script in ("bench_import.py", "bench_extracts.py"):
        print(f"\n=== {script}", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / script)], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()

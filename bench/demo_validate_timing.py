"""Check by hand (issue 15, goal 2): in the embedded default (settings_demo, SQLite, no Redis:
Celery eager), a clicked « Valider » returns at once and the archive is built afterwards in
the background, its progress shown by ``archive.json``.

A scratch SQLite database and private folder (never ./var/db.sqlite3): migrate, referential,
demo accounts, then bench_import's realistic CSV imported as the Rhône's draft (not timed).
Then, with Django's test client as siao.69: POST « Valider », its response time, whether the
archive exists when the response arrives, the progress read while it is built, and when the
archive is ready.

    python bench/demo_validate_timing.py [--rows 100000] [--dir /tmp/demo-validate]
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", default="/tmp/demo-validate")
    args = parser.parse_args()
    work = Path(args.dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(name, None)
    os.environ.update(DJANGO_SETTINGS_MODULE="siao_ofii.settings_demo", DATABASE_URL=f"sqlite:///{work}/db.sqlite3",
                      PRIVATE_STORAGE_ROOT=str(work / "private"), ALLOWED_HOSTS="testserver")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench_validation import csv_file
    from exchanges.models import Extract, ListState
    from exchanges.services import workflow
    from referentiel.models import Agent, Departement

    print(f"Réglages : {os.environ['DJANGO_SETTINGS_MODULE']} · base {connection.vendor} · Celery eager : "
          f"{settings.CELERY_TASK_ALWAYS_EAGER} · tâches en arrière-plan : {settings.TASKS_IN_BACKGROUND}", flush=True)
    call_command("migrate", verbosity=0)
    call_command("load_referentiel", verbosity=0)
    call_command("seed_demo", verbosity=0)
    agent = Agent.objects.get(email="siao.69@demo.test")
    t = time.perf_counter()
    path = csv_file(args.rows)
    ml = workflow.receive_upload(Departement.objects.get(code="69"), workflow.current_period(), path.read_bytes(),
                                 name=path.name, user=agent, run=False)
    ml = workflow.process_list(ml.pk, progress=False)
    ml.rows.exclude(errors=[]).delete()
    workflow.recount(ml)
    assert ml.state == ListState.DRAFT
    print(f"Brouillon de {ml.row_count} lignes importé ({time.perf_counter() - t:.1f} s, non compté)", flush=True)

    client = Client()
    client.force_login(agent)
    t0 = time.perf_counter()
    response = client.post(reverse("exchanges:validate", args=[ml.pk]))
    answered = time.perf_counter() - t0
    built_then = Extract.objects.filter(monthly_list=ml).exists()
    print(f"POST « Valider » : HTTP {response.status_code} en {answered:.2f} s ; archive déjà construite à la "
          f"réponse : {'oui' if built_then else 'non'}", flush=True)
    page = client.get(response["Location"]).content.decode()
    print("Page de la liste : barre de progression de l’archive affichée : "
          f"{'oui' if 'Préparation de l’archive chiffrée' in page else 'non'}", flush=True)
    status_url = reverse("exchanges:archive_status", args=[ml.pk])
    seen = []
    while True:
        status = client.get(status_url).json()
        if not seen or seen[-1] != status["progress"]:
            seen.append(status["progress"])
        if status["done"]:
            break
        time.sleep(0.2)
    ready = time.perf_counter() - t0
    extract = Extract.objects.get(monthly_list=ml)
    print(f"Progression lue par archive.json : {' → '.join(f'{p} %' for p in seen)}")
    print(f"Archive prête {ready:.2f} s après le clic (construction {extract.build_seconds:.2f} s, "
          f"{extract.row_count} lignes, {extract.size / 1e6:.1f} Mo) ; la réponse n’en a attendu que "
          f"{answered:.2f} s.")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""« Valider » never waits for the archive: in-process (Celery eager, the embedded default) the
build runs in a background thread after the validation has answered, and the page shows its
progress; with a broker the task is queued as before; the test settings stay synchronous."""

import threading

import pytest
from django.core.cache import cache
from django.urls import reverse

from exchanges.extracts import progress, services
from exchanges.models import Extract, ListState, MonthlyList
from siao_ofii import background
from tests.factories import make_list
from tests.helpers import login


class FakeTask:
    name = "fake"

    def __init__(self):
        self.calls = []

    def delay(self, *args):
        self.calls.append(("delay", args))
        return "queued"

    def apply(self, args, throw):
        self.calls.append(("apply", args, threading.current_thread().name))


def test_test_settings_run_tasks_synchronously(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER is True and settings.TASKS_IN_BACKGROUND is False
    task = FakeTask()
    assert background.delay(task, 7) == "queued"
    assert task.calls == [("delay", (7,))]


def test_a_broker_gets_the_task_as_before(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # REDIS_URL set: production
    settings.TASKS_IN_BACKGROUND = True
    task = FakeTask()
    assert background.delay(task, 3) == "queued"
    assert task.calls == [("delay", (3,))]


def test_in_process_the_task_runs_in_the_background_thread(settings):
    settings.TASKS_IN_BACKGROUND = True
    task = FakeTask()
    background.delay(task, 5).result(timeout=10)
    assert task.calls == [("apply", (5,), "siao-ofii-background_0")]


def test_progress_reported_by_the_build_and_shown_as_json(client, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=4)
    login(client, demo["siao.69"])
    url = reverse("exchanges:archive_status", args=[ml.pk])
    cache.delete(f"archive-progress:list:{ml.pk}")
    assert client.get(url).json() == {"state": "building", "state_label": "archive chiffrée en attente de préparation",
                                      "progress": 0, "done": False, "next": None}
    report = progress.reporter("list", ml.pk, 10_000)
    report(5000)
    assert client.get(url).json()["progress"] == 47  # 95 % of the rows' share, the ZIP takes the rest
    page = client.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert 'data-status-url="' + url + '"' in page and 'value="47"' in page and "list_progress.js" in page
    extract, created = services.build_for_list(ml.pk)
    assert created and progress.get("list", ml.pk) is None  # cleared once recorded
    assert client.get(url).json() == {"state": "built", "state_label": "archive chiffrée prête", "progress": 100,
                                      "done": True, "next": reverse("exchanges:detail", args=[ml.pk])}
    page = client.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert "Archive chiffrée prête le 24/11/2026 à 10:00" in page and "list_progress.js" not in page


def test_build_reports_every_step_of_rows(demo, monkeypatch):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=7)
    seen = []
    real = progress.reporter

    def spy(kind, pk, total):
        report = real(kind, pk, total)
        return lambda n: (seen.append((n, total)), report(n))

    monkeypatch.setattr(progress, "reporter", spy)
    from exchanges.extracts import archive

    real_build = archive.build_archive
    monkeypatch.setattr(services, "build_archive", lambda *a, **k: real_build(*a, **{**k, "progress_step": 3}))
    services.build_for_list(ml.pk)
    assert seen == [(3, 7), (6, 7)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_validate_answers_before_the_archive_is_built(client, demo, settings, monkeypatch):
    """The embedded default: the POST returns while the build is held, the page shows the
    progress box, then the background thread builds the archive."""
    settings.TASKS_IN_BACKGROUND = True
    started, release = threading.Event(), threading.Event()
    real = services.build_for_list
    threads = []

    def held(pk):
        threads.append(threading.current_thread().name)
        started.set()
        assert release.wait(20)
        return real(pk)

    monkeypatch.setattr(services, "build_for_list", held)
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=3)
    login(client, demo["siao.69"])
    try:
        response = client.post(reverse("exchanges:validate", args=[ml.pk]))
        assert response.status_code == 302
        assert started.wait(10), "la construction n’a pas démarré en arrière-plan"
        assert MonthlyList.objects.get(pk=ml.pk).state == ListState.VALIDATED
        assert not Extract.objects.filter(monthly_list=ml).exists()  # the answer did not wait for it
        page = client.get(response["Location"]).content.decode()
        assert "Préparation de l’archive chiffrée transmise à l’OFII" in page
        assert "l’archive chiffrée se prépare" in page.lower()
        assert client.get(reverse("exchanges:archive_status", args=[ml.pk])).json()["done"] is False
    finally:
        release.set()
        background.wait_idle(timeout=60)
    assert threads == ["siao-ofii-background_0"]
    extract = Extract.objects.get(monthly_list=ml)
    assert extract.row_count == 3
    assert client.get(reverse("exchanges:archive_status", args=[ml.pk])).json()["done"] is True

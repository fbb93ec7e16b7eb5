"""Hostile spreadsheets (issue 10, item 10): refused before any reader sees them, within 2 s and
200 MB, through the reading service, the upload view (embedded default) and a real worker; a
file whose reading kills its worker twice ends failed, its file deleted."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siao_ofii.privatefiles.crypto import save_encrypted
from siao_ofii.privatefiles.storage import private_storage
from exchanges.models import ListState, MonthlyList
from exchanges.services import reading, workflow
from exchanges.tasks import process_uploaded_list
from referentiel.models import Departement
from siao_ofii.audit.models import AuditEvent
from tests.exchanges import hostile, samples
from tests.exchanges.test_views import post_file
from tests.helpers import login

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 2
MAX_MB = 200

HOSTILE = {
    # name: (builder expression, words the French refusal must contain)
    "corner_xlsx": ("hostile.corner_xlsx()", "16\u202f384 colonnes"),
    "corner_xlsx_undeclared": ('hostile.xlsx_with_cells({"A1": "Nom", "XFD1048576": "x"})', "16\u202f384 colonnes"),
    "tall_xlsx_declared": ('hostile.xlsx_with_cells({"A1": "Nom"}, dimension="A1:B1048576")', "1\u202f048\u202f576 lignes"),
    "wide_header_csv": ("hostile.wide_header_csv()", "Ligne 1 : plus de 32\u202f768 caractères"),
    "wide_header_csv_short_names": ("hostile.wide_header_csv(500)", "Ligne 1 (en-tête) : 500 colonnes"),
}

# Peak resident memory of the child: VmHWM (reset by exec; ru_maxrss is not, on Linux it
# keeps the forked parent's peak).
CHILD = """
import json, os, sys, time
import django
django.setup()
from exchanges.services.reading import FileRejected, read_table
from tests.exchanges import hostile
data = eval(sys.argv[1])
start = time.perf_counter()
try:
    read_table(data)
    outcome = None
except FileRejected as exc:
    outcome = str(exc)
seconds = time.perf_counter() - start
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"size": len(data), "refused": outcome, "seconds": seconds, "peak_mb": int(hwm.split()[1]) / 1024}))
"""


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_refused_by_the_reading_service_in_2s_and_200mb(name):
    """In a child process, whose peak resident memory covers the whole read (Django included)."""
    expression, expected = HOSTILE[name]
    child = subprocess.run([sys.executable, "-c", CHILD, expression], cwd=ROOT, capture_output=True, text=True,
                           timeout=120, env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "siao_ofii.settings_test"})
    assert child.returncode == 0, f"le processus de lecture est mort (code {child.returncode}) : {child.stderr[-2000:]}"
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["refused"] and expected in result["refused"], result
    assert result["seconds"] < MAX_SECONDS and result["peak_mb"] < MAX_MB, result


def test_the_issue_files_are_the_sizes_it_reports():
    assert 1500 < len(hostile.corner_xlsx()) < 1700  # "a 1.6 KB XLSX"
    assert 1_800_000 < len(hostile.wide_header_csv()) < 2_100_000  # "a 1.9 MB CSV"


def test_ordinary_files_still_read():
    table = reading.read_table(samples.xlsx_bytes(samples.GOOD))
    assert table.header[0] == "NOM" and len(table.rows) == 3
    table = reading.read_table(samples.csv_bytes(samples.GOOD))
    assert len(table.rows) == 3
    # Exactly at the limits: 100 columns and a sheet declaring them.
    wide = hostile.xlsx_with_cells({"A1": "Nom", "CV2": "x"}, dimension="A1:CV2")
    assert len(reading.read_table(wide).header) == 1


def test_cells_without_reference_are_counted_where_the_reader_puts_them():
    """A sheet whose cells carry no r="…" (allowed by OOXML): the 101st cell of a row is column 101."""
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(hostile.xlsx_with_cells({"A1": "x"})))
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b"<row>" + b"<c><v>1</v></c>" * 150 + b"</row></sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in src.namelist():
            archive.writestr(member, sheet if member.endswith("sheet1.xml") else src.read(member))
    with pytest.raises(reading.FileRejected, match="101 colonnes"):
        reading.read_table(out.getvalue())


def _with_sheet(sheet):
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(hostile.xlsx_with_cells({"A1": "x"})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in src.namelist():
            archive.writestr(member, sheet if member.endswith("sheet1.xml") else src.read(member))
    return out.getvalue()


def test_prefixed_cells_without_reference_are_counted_before_the_reader():
    """``<x:c>`` cells (a namespace prefix, allowed by XML) without r="…": the fast path does
    not see them, so the exact walk counts them, before calamine allocates (before, the 150
    columns were only refused by the header check, after calamine had read the sheet)."""
    sheet = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
             b"<x:row>" + b"<x:c><x:v>1</x:v></x:c>" * 150 + b"</x:row></x:sheetData></x:worksheet>")
    with pytest.raises(reading.FileRejected, match="Le tableau s’étend sur 101 colonnes"):
        reading.read_table(_with_sheet(sheet))


@pytest.mark.parametrize("cells,expected", [
    # A reference that is not letters then digits: the exact walk puts the cell after the previous one.
    ('<c r="A1"/>' + '<c r="1"/>' * 100, "101 colonnes"),
    # A tab before the reference, or single quotes (both valid XML): the exact walk reads them.
    ('<c\tr="XFD1"/>', "16\u202f384 colonnes"),
    ("<c r='XFD1'/>", "16\u202f384 colonnes"),
    # A wide column (two letters, as the limit CV) and a tall row, each found by the fast path.
    ('<c r="CW1"/>', "101 colonnes"),
    ('<c r="A300000"/>', "300\u202f000 lignes"),
    # Rows × columns: 60,001 × 100 crosses the 6,000,000 cells, 60,000 × 100 does not.
    ('<c r="CV1"/><c r="A60001"/>', "60\u202f001 lignes et 100 colonnes"),
    ('<c r="CV1"/><c r="A60000"/>', None),
    # Narrow columns and a row of the slack under 200,000 rows: within every limit.
    ('<c r="Z1"/><c r="A201001"/>', None),
])
def test_fast_extent_scan(cells, expected):
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             f'<row r="1"><c r="A1" t="inlineStr"><is><t>Nom</t></is></c>{cells}</row></sheetData></worksheet>').encode()
    data = _with_sheet(sheet)
    if expected is None:
        assert reading.read_table(data).header == ["Nom"]
        return
    with pytest.raises(reading.FileRejected, match=expected):
        reading.read_table(data)


def test_a_declared_dimension_in_single_quotes_is_read():
    sheet = ("<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'>"
             "<dimension ref='A1:XFD1048576'/><sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>Nom</t></is></c>"
             "</row></sheetData></worksheet>").encode()
    for check in (reading.sniff_format, reading.read_table):
        with pytest.raises(reading.FileRejected, match="La feuille déclare une plage jusqu’à XFD1048576"):
            check(_with_sheet(sheet))


def test_the_upload_checks_the_declared_dimension_and_the_worker_every_cell():
    """The upload request reads the sheet only up to ``<sheetData>`` (the declared dimension);
    the position of every cell is checked in the worker, before calamine."""
    declared = hostile.corner_xlsx()
    undeclared = hostile.xlsx_with_cells({"A1": "Nom", "XFD1048576": "x"})
    with pytest.raises(reading.FileRejected, match="La feuille déclare une plage jusqu’à XFD1048576"):
        reading.sniff_format(declared)
    assert reading.sniff_format(undeclared) == "xlsx"
    # What the worker runs before calamine (which would abort this very process: 512 GB).
    with pytest.raises(reading.FileRejected, match="Le tableau s’étend sur 16\u202f384 colonnes"):
        reading._check_xlsx_container(undeclared)
    with pytest.raises(reading.FileRejected, match="Le tableau s’étend sur 16\u202f384 colonnes"):
        reading.read_table(undeclared, "xlsx")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["corner_xlsx", "wide_header_csv"])
def test_hostile_upload_refused_by_the_view_in_the_embedded_default(client, demo, name, settings,
                                                                     django_capture_on_commit_callbacks):
    """Tasks run in the web process (no REDIS_URL). Before the fix, the XLSX killed this very
    process (calamine aborts: the service test above catches that without dying)."""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    expression, expected = HOSTILE[name]
    data = eval(expression)
    # Refused by the upload request itself (the format sniffing), before a byte is stored.
    with pytest.raises(reading.FileRejected, match=expected):
        reading.sniff_format(data)
    login(client, demo["siao.69"])
    start = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, data, name="liste.xlsx" if "xlsx" in name else "liste.csv")
    elapsed = time.perf_counter() - start
    page = response.content.decode()
    assert response.status_code == 200 and expected in page.replace("&nbsp;", "\u202f"), page[-3000:]
    assert not MonthlyList.objects.exists()
    assert not _uploads_left()
    assert elapsed < MAX_SECONDS


def _uploads_left():
    storage = private_storage()
    try:
        return storage.listdir(workflow.UPLOADS_DIR)[1]
    except FileNotFoundError:
        return []


class _Stored:
    """The stored upload of a list, in the private storage (whatever its backend)."""

    def __init__(self, name):
        self.name = name

    def exists(self):
        return private_storage().exists(self.name)


def _stored_upload(data, fmt, user):
    """A list waiting for the worker, its file already stored (as an upload made before the
    checks existed, or a reader that still dies on some other file)."""
    stored = save_encrypted(workflow.upload_name(f"{time.time_ns()}.{fmt}"), data)
    name = stored[len(workflow.UPLOADS_DIR) + 1:]
    path = _Stored(stored)
    ml = MonthlyList.objects.create(departement=Departement.objects.get(code="69"), period="2026-11",
                                    state=ListState.PROCESSING, uploaded_by=user, source_format=fmt,
                                    source_path=name)
    return ml, path


class Died(BaseException):
    """What a worker killed in the middle of the task looks like to the code after it: nothing."""


@pytest.mark.django_db
def test_task_that_killed_its_worker_twice_marks_the_list_failed_and_deletes_the_file(demo, monkeypatch):
    ml, path = _stored_upload(samples.csv_bytes(samples.GOOD), "csv", demo["siao.69"])
    reads = []

    def dying_reader(*args, **kwargs):
        reads.append(1)
        raise Died()

    monkeypatch.setattr(workflow, "read_table", dying_reader)
    for _ in range(2):  # two deliveries, each killing its worker while reading
        with pytest.raises(Died):
            process_uploaded_list.run(ml.pk)
    assert path.exists() and MonthlyList.objects.get(pk=ml.pk).state == ListState.PROCESSING
    result = process_uploaded_list.run(ml.pk)  # the third delivery
    ml.refresh_from_db()
    assert result == {"id": ml.pk, "state": "failed"} and len(reads) == 2
    assert ml.state == ListState.FAILED and ml.report["file_errors"] == [workflow.KILLED_MESSAGE]
    assert "à deux reprises" in ml.report["file_errors"][0]
    assert not path.exists() and ml.source_path == ""
    assert AuditEvent.objects.filter(object_id=str(ml.pk), details__step="refused_after_worker_crashes").exists()


@pytest.mark.django_db
def test_mapping_again_starts_a_fresh_count(demo, django_capture_on_commit_callbacks):
    header = list(samples.HEADER_FR)
    header[6] = "Arrivé(e) au CHU le"
    with django_capture_on_commit_callbacks(execute=True):
        ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11",
                                     samples.csv_bytes(samples.GOOD, header), name="l.csv", user=demo["siao.69"])
    ml.refresh_from_db()
    assert ml.state == ListState.FAILED and ml.attempts == 1
    MonthlyList.objects.filter(pk=ml.pk).update(attempts=2)
    ml.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.set_mapping(ml, {"entry_date": 6}, user=demo["siao.69"])
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT and ml.attempts == 1


def _wait_while_processing(ml, proc, log, seconds=90):
    deadline = time.monotonic() + seconds
    while MonthlyList.objects.get(pk=ml.pk).state == ListState.PROCESSING and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"le worker s’est arrêté (code {proc.returncode}) :\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    ml.refresh_from_db()
    return ml


def _peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("VmHWM absent")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_hostile_files_refused_by_a_real_worker_in_2s_and_200mb(celery_worker_on_redis, demo):
    proc, log = celery_worker_on_redis
    for name, fmt in (("corner_xlsx", "xlsx"), ("wide_header_csv", "csv")):
        expression, expected = HOSTILE[name]
        ml, path = _stored_upload(eval(expression), fmt, demo["siao.69"])
        process_uploaded_list.delay(ml.pk)
        ml = _wait_while_processing(ml, proc, log)
        assert ml.state == ListState.FAILED and expected in ml.report["file_errors"][0], log.read_text()[-3000:]
        assert not path.exists()
    worker_log = log.read_text()
    runtimes = [float(s) for s in re.findall(r"process_uploaded_list\[[^\]]+\] succeeded in ([0-9.]+)s", worker_log)]
    assert len(runtimes) == 2 and max(runtimes) < MAX_SECONDS, worker_log[-3000:]
    assert _peak_rss_mb(proc.pid) < MAX_MB  # solo pool: the task ran in this very process

"""No test reads the real clock: every test starts at FROZEN_NOW (tests/conftest.py), and no
test module computes a value from the clock at import time (that would be the real clock)."""

import ast
import datetime
import time
from pathlib import Path

import pytest
from django.utils import timezone

from exchanges import periods
from tests.helpers import FROZEN_NOW

CLOCK_CALLS = {"now", "today", "localdate", "localtime", "utcnow", "time", "current", "current_period"}


def test_every_test_starts_at_the_frozen_instant():
    assert datetime.date.today() == datetime.date(2026, 11, 24)
    assert timezone.localdate() == datetime.date(2026, 11, 24)
    assert abs(timezone.now() - FROZEN_NOW) < datetime.timedelta(seconds=30)
    assert abs(time.time() - FROZEN_NOW.timestamp()) < 30
    assert periods.current() == "2026-11"


def test_a_test_moves_the_clock_where_it_needs(time_machine):
    time_machine.move_to(datetime.datetime(2027, 2, 28, 23, 59, 59, tzinfo=datetime.UTC), tick=False)
    assert timezone.now() == datetime.datetime(2027, 2, 28, 23, 59, 59, tzinfo=datetime.UTC)
    assert timezone.localdate() == datetime.date(2027, 3, 1)  # Paris is UTC+1 in winter


def _module_level_clock_reads(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                name = getattr(sub.func, "attr", None) or getattr(sub.func, "id", None)
                if name in CLOCK_CALLS:
                    found.append(f"{path}:{sub.lineno}")
    return found


def test_no_test_module_reads_the_clock_at_import():
    """A module-level ``TODAY = timezone.localdate()`` runs before the frozen clock: real date."""
    root = Path(__file__).parent
    found = [hit for p in sorted(root.rglob("*.py")) if p.name != "run_suite.py"
             for hit in _module_level_clock_reads(p)]
    assert found == []


@pytest.mark.parametrize("source, expected", [
    ("TODAY = timezone.localdate()\n", 1),
    ("PERIOD = periods.current()\n", 1),
    ("def f():\n    return timezone.now()\n", 0),
])
def test_the_import_time_check_finds_clock_reads(tmp_path, source, expected):
    path = tmp_path / "test_x.py"
    path.write_text(source)
    assert len(_module_level_clock_reads(path)) == expected

"""exchanges/periods.py with literal expectations: month ends (28/29/30/31), year changes,
labels, and the current month at midnight Paris time."""

import datetime

import pytest

from exchanges import periods

D = datetime.date


@pytest.mark.parametrize("period, first, last", [
    ("2026-02", D(2026, 2, 1), D(2026, 2, 28)),
    ("2028-02", D(2028, 2, 1), D(2028, 2, 29)),
    ("2100-02", D(2100, 2, 1), D(2100, 2, 28)),
    ("2026-04", D(2026, 4, 1), D(2026, 4, 30)),
    ("2026-11", D(2026, 11, 1), D(2026, 11, 30)),
    ("2026-12", D(2026, 12, 1), D(2026, 12, 31)),
    ("2027-01", D(2027, 1, 1), D(2027, 1, 31)),
])
def test_bounds(period, first, last):
    assert periods.bounds(period) == (first, last)


@pytest.mark.parametrize("period, n, expected", [
    ("2026-11", 1, "2026-12"), ("2026-12", 1, "2027-01"), ("2027-01", -1, "2026-12"), ("2026-11", -24, "2024-11"),
    ("2026-11", 0, "2026-11"), ("2026-01", -13, "2024-12"), ("0999-12", 1, "1000-01"),
])
def test_add_months(period, n, expected):
    assert periods.add_months(period, n) == expected


def test_previous():
    assert periods.previous("2027-01") == "2026-12"
    assert periods.previous("2026-11") == "2026-10"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", None, "2026-11 ", "x2026-11"])
def test_invalid_periods(text):
    assert periods.is_valid(text) is False
    with pytest.raises(ValueError, match="Mois invalide"):
        periods.parse(text)


def test_parse_and_of():
    assert periods.parse("2026-09") == (2026, 9)
    assert periods.is_valid("2026-09") is True
    assert periods.of(D(2026, 9, 30)) == "2026-09"
    assert periods.of(D(987, 1, 1)) == "0987-01"


def test_current_uses_the_paris_date(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC), tick=False)
    assert periods.current() == "2026-12"  # already 1 December 00:30 in Paris
    time_machine.move_to(datetime.datetime(2026, 11, 30, 22, 59, 59, tzinfo=datetime.UTC), tick=False)
    assert periods.current() == "2026-11"
    assert periods.current(D(2027, 2, 28)) == "2027-02"


@pytest.mark.parametrize("period, expected", [
    ("2026-01", "janvier 2026"), ("2026-02", "février 2026"), ("2026-08", "août 2026"), ("2026-12", "décembre 2026"),
])
def test_label(period, expected):
    assert periods.label(period) == expected


def test_deadline_is_the_10th():
    assert periods.deadline("2026-02") == D(2026, 2, 10)
    assert periods.DEADLINE_DAY == 10

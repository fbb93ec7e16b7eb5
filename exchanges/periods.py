"""Months as "YYYY-MM" strings (the form MonthlyList.period uses) and their deadlines.

The list of month M is due by the 10th of M (instruction II.A.4: "au plus tard le 10 de
chaque mois"), before the commission of the second half of the month.
"""

import calendar
import datetime
import re

from django.utils import timezone

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DEADLINE_DAY = 10


def parse(period):
    m = PERIOD_RE.match(period or "")
    if not m:
        raise ValueError(f"Mois invalide : « {period} » (attendu AAAA-MM).")
    return int(m.group(1)), int(m.group(2))


def is_valid(period):
    return bool(PERIOD_RE.match(period or ""))


def of(date):
    return f"{date.year:04d}-{date.month:02d}"


def current(today=None):
    return of(today or timezone.localdate())


def add_months(period, n):
    y, m = parse(period)
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def previous(period):
    return add_months(period, -1)


def bounds(period):
    """First and last day of the month."""
    y, m = parse(period)
    return datetime.date(y, m, 1), datetime.date(y, m, calendar.monthrange(y, m)[1])


def deadline(period):
    y, m = parse(period)
    return datetime.date(y, m, DEADLINE_DAY)


MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre"]


def label(period):
    y, m = parse(period)
    return f"{MONTHS_FR[m - 1]} {y}"

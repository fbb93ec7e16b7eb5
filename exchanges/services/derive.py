"""Facts derived per row, compared with the previous validated month of the same département.

- movement: new (not in last month's validated list), still present, status changed; persons
  of last month who are no longer in the list are counted as "left" in the list's report
  (their row ids, never their names);
- continuous months in generalist shelter: the larger of (a) the number of calendar months
  from the entry date to the list's month, inclusive, and (b) one more than last month's
  count when the person was already in last month's list;
- the ADA flag (instruction II.A.3, art. D.744-26): an asylum seeker (DA) housed in generalist
  shelter continuously for more than one month at the end of the period, i.e. whose current
  stay began more than one month before the last day of the month (entry date + 1 month <
  end of period). The entry date is the start of the current stay, hence of the continuity.

The facts are recomputed when this list is validated (``validate_list`` calls ``derive`` again
when the previous validated list changed) and again when the previous month is validated or
corrected after this one (``rederive_following``): arrivals, departures and the difference
always refer to the same, current, validated version of the previous month.
"""

import calendar
import datetime

from exchanges import periods
from exchanges.models import ListRow, ListState, Movement, MonthlyList, Status

from .identity import name_key


def previous_validated_list(monthly_list):
    return (
        MonthlyList.objects.filter(
            departement_id=monthly_list.departement_id, period=periods.previous(monthly_list.period),
            state=ListState.VALIDATED,
        )
        .only("pk")
        .first()
    )


def add_one_month(day):
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_since(entry, period_start):
    if entry is None or entry > period_start.replace(day=28) + datetime.timedelta(days=4):
        return 1
    return max(1, (period_start.year - entry.year) * 12 + period_start.month - entry.month + 1)


class Deriver:
    """Fills movement, continuous_months and ada_flag in row dicts or ListRow objects, one
    slice of a list after the other (``deriver(rows)``, in the list's order), then tells which
    previous rows were not found (``left()``).

    ``previous``: {identity_key: (status, continuous_months, name_key, row_id)} of the previous
    validated list (empty when there is none)."""

    def __init__(self, period, previous):
        self.period_start, self.period_end = periods.bounds(period)
        self.previous = previous
        self.by_name = {v[2]: k for k, v in previous.items() if v[2]}
        self.matched = set()
        # entry date → (months since it, stay longer than one month at the end of the period)
        self.by_entry = {}

    def __call__(self, rows):
        previous, by_name, matched, by_entry = self.previous, self.by_name, self.matched, self.by_entry
        for row in rows:
            get = row.get if isinstance(row, dict) else lambda f, r=row: getattr(r, f)
            key = get("identity_key")
            prev_key = key if key in previous else None
            if prev_key is None and by_name and get("birth_date"):
                prev_key = by_name.get(name_key(get("last_name"), get("first_name"), get("birth_date"), get("sex")))
            status, entry = get("status"), get("entry_date")
            facts = by_entry.get(entry)
            if facts is None:
                facts = by_entry[entry] = (months_since(entry, self.period_start),
                                           entry is not None and add_one_month(entry) < self.period_end)
            months, long_stay = facts
            if prev_key is not None:
                matched.add(prev_key)
                prev_status, prev_months = previous[prev_key][0], previous[prev_key][1]
                movement = Movement.STATUS_CHANGED if prev_status != status else Movement.PRESENT
                months = max(months, prev_months + 1)
            else:
                movement = Movement.NEW
            ada = bool(status == Status.DA and long_stay)
            values = {"movement": movement, "continuous_months": min(months, 32767), "ada_flag": ada}
            if isinstance(row, dict):
                row.update(values)
            else:
                for f, v in values.items():
                    setattr(row, f, v)

    def left(self):
        """The ids of the previous rows no row matched ("left")."""
        return [v[3] for k, v in self.previous.items() if k not in self.matched]


def derive_rows(rows, period, previous):
    """Fill movement, continuous_months and ada_flag in ``rows`` (see Deriver); returns the
    ids of previous rows not found ("left")."""
    deriver = Deriver(period, previous)
    deriver(rows)
    return deriver.left()


def previous_index(previous_list):
    if previous_list is None:
        return {}
    index = {}
    rows = ListRow.objects.filter(monthly_list=previous_list).values_list(
        "id", "identity_key", "status", "continuous_months", "last_name", "first_name", "birth_date", "sex"
    )
    for row_id, key, status, months, last, first, birth, sex in rows.iterator(chunk_size=5000):
        if key:
            index[key] = (status, months, name_key(last, first, birth, sex), row_id)
    return index


class Derivation:
    """``derive`` for a list whose rows come a slice at a time, in order (the import validates
    and stores them so): the previous list and its index are read once; ``add(rows)`` fills
    each slice's facts; ``finish()`` records the previous list and the counts in the report."""

    def __init__(self, monthly_list):
        self.monthly_list = monthly_list
        self.previous = previous_validated_list(monthly_list)
        self.index = previous_index(self.previous)
        self.deriver = Deriver(monthly_list.period, self.index)
        self.new_count = self.ada_count = 0

    def add(self, rows):
        self.deriver(rows)
        self.new_count += sum(1 for r in rows if _get(r, "movement") == Movement.NEW)
        self.ada_count += sum(1 for r in rows if _get(r, "ada_flag"))

    def finish(self):
        left = self.deriver.left()
        report = self.monthly_list.report
        report["previous_list_id"] = self.previous.pk if self.previous else None
        report["left_count"] = len(left)
        report["left_row_ids"] = left
        report["new_count"] = self.new_count
        report["ada_count"] = self.ada_count
        report["previous_row_count"] = len(self.index) if self.previous else None
        # The counts above hold for the rows as derived; a row fixed or removed in the browser
        # afterwards clears this (workflow.update_row / delete_row), and movement_counts recounts.
        report["counts_current"] = True
        return self.monthly_list


def derive(monthly_list, rows=None):
    """Compute the facts for ``rows`` (dicts, before storage) or for the stored rows of
    ``monthly_list`` (then saved). Records the previous list and the 'left' count in the report."""
    derivation = Derivation(monthly_list)
    stored = rows is None
    if stored:
        rows = list(monthly_list.rows.only(
            "id", "monthly_list_id", "identity_key", "status", "entry_date", "last_name", "first_name", "birth_date",
            "sex",
        ))
    derivation.add(rows)
    if stored:
        ListRow.objects.bulk_update(rows, ["movement", "continuous_months", "ada_flag"], batch_size=2000)
    return derivation.finish()


def movement_counts(monthly_list):
    """(new, left, ada) of a stored list against the current previous validated list, with the
    same matching rule as ``derive`` (nothing written). The counts ``derive`` recorded are
    taken as they are when they still hold (same previous list, no row changed since): reading
    and matching both months again costs as much as writing the archive."""
    previous = previous_validated_list(monthly_list)
    report = monthly_list.report
    if report.get("counts_current") and report.get("previous_list_id") == (previous.pk if previous else None):
        return report["new_count"], report["left_count"], report["ada_count"]
    index = previous_index(previous)
    rows = list(monthly_list.rows.values(
        "identity_key", "status", "entry_date", "last_name", "first_name", "birth_date", "sex"))
    left = derive_rows(rows, monthly_list.period, index)
    return (sum(1 for r in rows if r["movement"] == Movement.NEW), len(left), sum(1 for r in rows if r["ada_flag"]))


def rederive_following(monthly_list):
    """After ``monthly_list`` was validated: the next month's validated list, if any, was compared
    with another version (or with nothing, when this month was late): compare it again."""
    from exchanges.models import Extract

    following = MonthlyList.objects.filter(
        departement_id=monthly_list.departement_id, period=periods.add_months(monthly_list.period, 1),
        state=ListState.VALIDATED,
    ).first()
    if following is None or following.report.get("previous_list_id") == monthly_list.pk:
        return None
    derive(following)
    following.save(update_fields=["report"])
    Extract.objects.filter(monthly_list=following).update(
        new_count=following.report["new_count"], left_count=following.report["left_count"],
        ada_count=following.report["ada_count"])
    return following


def _get(row, f):
    return row[f] if isinstance(row, dict) else getattr(row, f)

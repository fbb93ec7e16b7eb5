"""Cross-check for the SIAO agent habilitated by the prefect (instruction II.B; L.744-7 CESEDA;
L.345-2-2 CASF): which persons of the SIAO's own validated monthly list appear in the return
flow of the same month or of the previous one, i.e. refused, did not take up or left a DNA
offer — their material reception conditions ended, and only proven distress justifies
generalist emergency shelter.

Matching: birth name OR usage name of the return row, + first name + birth date, normalised
as the identity key does (``exchanges.services.identity.person_key``: case, accents, hyphens,
apostrophes and spaces ignored). Exact, never fuzzy.

--- R744-50 BOUNDARY ----------------------------------------------------------------------
R744-50: the DNA data are not ceded, interconnected, linked or compared with another
processing beyond what the article lists. This module is the ONLY place where the return flow
meets the monthly list, and only for the habilitated SIAO agent's page
(``exchanges.returns.views.crosscheck``, capability READ_REVERSE_FLOW). The result is computed
on the fly, for display, and is never stored: nothing is written on ListRow, nothing goes into
the monthly list's archive (``exchanges.extracts``), nothing is shown to OFII or the prefecture.
The two flows are never merged into one file.
-------------------------------------------------------------------------------------------
"""

from dataclasses import dataclass, field

from exchanges import periods
from exchanges.models import ListRow, MonthlyList, ReturnRow, ReturnState
from exchanges.services.identity import person_key

RETURN_FIELDS = ("return_file__period", "birth_name", "usage_name", "first_name", "birth_date", "refused_on",
                 "non_presentation_on", "exit_date", "exit_modality", "offer_type")


@dataclass
class Flagged:
    line_number: int
    last_name: str
    first_name: str
    birth_date: object
    returns: list = field(default_factory=list)  # dicts of RETURN_FIELDS


@dataclass
class CrossCheck:
    departement: object
    period: str
    monthly_list: MonthlyList | None
    return_periods: list
    return_row_count: int
    flagged: list


def default_crosscheck_period(departement, today=None):
    """This month once its list is validated, the previous month before that (days 1-10)."""
    current = periods.current(today)
    if MonthlyList.objects.validated().filter(departement=departement, period=current).exists():
        return current
    return periods.previous(current)


def cross_check(departement, period):
    """The persons of ``departement``'s validated list of ``period`` found in its return flow
    of ``period`` or the month before. Three queries, whatever the sizes."""
    return_periods = [period, periods.previous(period)]
    ml = MonthlyList.objects.validated().filter(departement=departement, period=period).first()
    returns = list(
        ReturnRow.objects.filter(return_file__departement=departement, return_file__state=ReturnState.STORED,
                                 return_file__period__in=return_periods)
        .order_by("-return_file__period", "line_number")
        .values("birth_name_key", "usage_name_key", *RETURN_FIELDS)
    )
    index = {}
    for r in returns:
        for key in {r["birth_name_key"], r["usage_name_key"]} - {""}:
            index.setdefault(key, []).append(r)
    flagged = []
    if ml is not None and index:
        rows = (ListRow.objects.filter(monthly_list=ml).order_by("line_number")
                .values_list("line_number", "last_name", "first_name", "birth_date"))
        for line, last, first, birth in rows.iterator(chunk_size=5000):
            matches = index.get(person_key(last, first, birth))
            if matches:
                flagged.append(Flagged(line, last, first, birth, matches))
    return CrossCheck(departement, period, ml, return_periods, len(returns), flagged)

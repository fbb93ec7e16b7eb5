"""What a reader sees of a person on a commission agenda: the rule, in one place.

"Seul l'OFII sera destinataire de ces informations" (instruction I.A and II.A.2): the monthly
list belongs to OFII (DT and siège), and to the SIAO that wrote it. Prefecture / DDETS staff take
part in the commission (I.A, II.A.5) but only see what the examination of a situation needs:
last name, first name, DA or BPI, the I.B category, the decisions. Never the birth date, the
entry date, the months of stay, the ADA conclusion, the finer status, nor the priority (it is
computed from the ADA conclusion and the length of stay).

Every page and document that shows agenda items (agenda, history, outcome form, minutes PDF and
XLSX) renders ``SeenItem`` objects built here, never the list row itself: who may see the list
details is decided by the perimeter capability ``USE_LIST`` (referentiel.perimeter).
"""

from dataclasses import dataclass

from exchanges.models import Movement, Status
from referentiel.perimeter import Capability, can_access_departement

COARSE_STATUS_LABELS = {
    "DA": "Demandeur d’asile (DA)",
    "BPI": "Bénéficiaire d’une protection internationale (BPI)",
}


def may_use_list(user, departement):
    """May ``user`` read the monthly list of ``departement`` and draw an agenda from it?"""
    return can_access_departement(user, Capability.USE_LIST, departement)


@dataclass(frozen=True)
class ListFacts:
    """What only the monthly list says; for readers of the list only."""

    birth_date: object
    entry_date: object
    status_label: str
    continuous_months: int
    ada_flag: bool
    is_new: bool


class SeenItem:
    """An agenda item as one reader may see it. Deliberately has no ``list_row``."""

    def __init__(self, item, *, list_details):
        row = item.list_row
        self.pk = item.pk
        self.meeting = item.meeting
        self.identity_key = item.identity_key
        self.is_free = item.is_free
        self.text = item.text
        self.category = item.category
        self.short_category = item.short_category
        self.category_label = item.get_category_display()
        self.carried_over = item.carried_over
        self.carried_from = item.carried_from
        self.current_outcome = item.current_outcome
        self.on_current_list = item.on_current_list
        self.excluded = item.excluded
        self.has_row = row is not None
        self.last_name = row.last_name if row else ""
        self.first_name = row.first_name if row else ""
        self.person_label = item.person_label
        coarse = Status.transmitted(row.status) if row is not None and row.status else ""
        self.status_label = COARSE_STATUS_LABELS.get(coarse, "")
        # The priority reveals the ADA conclusion and the length of stay: list readers only
        # (a free item's priority is what its author typed).
        self.priority = item.priority if (list_details or item.is_free) else None
        self.list = None
        if list_details and row is not None:
            self.status_label = row.get_status_display()
            self.list = ListFacts(
                birth_date=row.birth_date, entry_date=row.entry_date, status_label=row.get_status_display(),
                continuous_months=row.continuous_months, ada_flag=row.ada_flag, is_new=row.movement == Movement.NEW,
            )

    def __repr__(self):
        return f"<SeenItem {self.pk}>"


def seen_items(user, departement, items):
    """``items`` (agenda items of one département) as ``user`` may see them."""
    details = may_use_list(user, departement)
    return [SeenItem(i, list_details=details) for i in items]


def seen_item(user, item):
    return SeenItem(item, list_details=may_use_list(user, item.meeting.departement))

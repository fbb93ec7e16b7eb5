"""The agenda of a commission, drawn from the month's validated list, and outcomes per person.

- Only those who may use the list (capability USE_LIST: OFII and the SIAO of the
  département) place persons on the agenda, one by one or by OFII's criteria; prefecture /
  DDETS staff never select from the list (instruction I.A, II.A.2: "Seul l'OFII sera
  destinataire de ces informations"). ``build_agenda`` refuses them (PermissionDenied).
- The rows of the validated list of the meeting's month that meet the selection criteria
  (by default: new arrivals, status changed, ADA additional amount not due, continuous stay of
  at least 3 months; or every row) become situations: the agenda carries only what the meeting
  needs, not the whole nominative list. The default category follows the status (DA → 2,
  BPI → 3); the agent re-categorises (1 and 4 cannot be read from the list).
- Priority (higher first): ADA additional amount not due, length of continuous stay in
  generalist shelter, new arrivals, items carried over.
- Carry-over: for every person of the département whose latest outcome (in an earlier month)
  is still open, the situation comes back on the agenda until that outcome is closed.
Building is idempotent: a person already on the agenda is not added twice, and items the agent
re-categorised, re-prioritised or withdrew keep their values.
"""

from dataclasses import dataclass, field, replace

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery

from exchanges.models import ListRow, MonthlyList, Movement, Status
from referentiel.models import Departement
from referentiel.perimeter import Capability

from ..models import AgendaItem, Category, Outcome, OutcomeState

ADA_WEIGHT = 1000
MONTH_WEIGHT = 10
NEW_ARRIVAL_WEIGHT = 5
CARRIED_WEIGHT = 3
MAX_MONTHS = 60


def default_category(row):
    if row is None or not row.status:
        return Category.ASYLUM_SEEKER
    return Category.ASYLUM_SEEKER if Status.transmitted(row.status) == "DA" else Category.BPI


def priority_for(row, carried_over=False):
    score = CARRIED_WEIGHT if carried_over else 0
    if row is not None:
        if row.ada_flag:
            score += ADA_WEIGHT
        score += min(row.continuous_months or 0, MAX_MONTHS) * MONTH_WEIGHT
        if row.movement == Movement.NEW:
            score += NEW_ARRIVAL_WEIGHT
    return score


def validated_list(user, meeting):
    return (
        MonthlyList.objects.visible_to(user, Capability.USE_LIST)
        .validated()
        .filter(departement_id=meeting.departement_id, period=meeting.period)
        .first()
    )


def open_outcomes_before(user, meeting):
    """The latest outcome of each person of the département in a month before the meeting's,
    when it is still open."""
    latest = (
        Outcome.objects.filter(
            identity_key=OuterRef("identity_key"),
            agenda_item__meeting__departement_id=meeting.departement_id,
            agenda_item__meeting__period__lt=meeting.period,
        )
        .order_by("-agenda_item__meeting__starts_at", "-pk")
        .values("pk")[:1]
    )
    return (
        Outcome.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(agenda_item__meeting__departement_id=meeting.departement_id, agenda_item__meeting__period__lt=meeting.period)
        .exclude(identity_key="")
        .filter(pk=Subquery(latest))
        .filter(state=OutcomeState.OPEN)
        .select_related("agenda_item", "agenda_item__list_row")
    )


@dataclass
class AgendaCriteria:
    new_arrivals: bool = True
    status_changed: bool = True
    ada_flag: bool = True
    min_months: int | None = 3  # continuous months in generalist shelter; None = not a criterion
    everyone: bool = False
    row_ids: frozenset = frozenset()  # persons placed one by one (rows of the month's list)

    def selects(self, row):
        if self.everyone or row.pk in self.row_ids:
            return True
        return (
            (self.new_arrivals and row.movement == Movement.NEW)
            or (self.status_changed and row.movement == Movement.STATUS_CHANGED)
            or (self.ada_flag and row.ada_flag)
            or (self.min_months is not None and row.continuous_months >= self.min_months)
        )


EVERYONE = AgendaCriteria(everyone=True)


@dataclass
class BuildResult:
    monthly_list: object = None
    added: int = 0
    carried: int = 0
    warnings: list = field(default_factory=list)


def may_compose(user, meeting):
    """May ``user`` place persons of the month's list on this agenda (OFII, the département's SIAO)?"""
    return Departement.objects.visible_to(user, Capability.USE_LIST).filter(pk=meeting.departement_id).exists()


def may_take_whole_list(user, meeting):
    """Only OFII (the list's recipient) may put every person of the list on the agenda."""
    return Departement.objects.visible_to(user, Capability.READ_EXTRACT).filter(pk=meeting.departement_id).exists()


def candidate_rows(user, meeting):
    """The rows of the month's validated list not yet on the agenda: the one-by-one picker.
    Empty for anyone who may not use the list."""
    if not may_compose(user, meeting):
        return ListRow.objects.none()
    ml = validated_list(user, meeting)
    if ml is None:
        return ListRow.objects.none()
    on_agenda = meeting.items.exclude(identity_key="").values("identity_key")
    return (
        ListRow.objects.visible_to(user, Capability.USE_LIST)
        .filter(monthly_list=ml).exclude(identity_key="").exclude(identity_key__in=on_agenda)
        .order_by("last_name", "first_name", "line_number")
    )


@transaction.atomic
def build_agenda(user, meeting, criteria=None):
    """Add to the agenda the selected rows of the month's list and the open situations of earlier
    months. Persons with an open outcome are always added, whatever the criteria."""
    if not may_compose(user, meeting):
        raise PermissionDenied("Seuls l’OFII et le SIAO du département placent des personnes à l’ordre du jour.")
    criteria = criteria or AgendaCriteria()
    result = BuildResult()
    if criteria.everyone and not may_take_whole_list(user, meeting):
        criteria = replace(criteria, everyone=False)
        result.warnings.append("Seul l’OFII peut inscrire toutes les personnes de la liste : choix ignoré.")
    existing = {
        key: item for item, key in ((i, i.identity_key) for i in meeting.items.exclude(identity_key=""))
    }
    result.monthly_list = ml = validated_list(user, meeting)
    rows_by_key = {}
    if ml is None:
        result.warnings.append(
            f"Aucune liste validée pour {meeting.period} : l’ordre du jour ne contient que les situations reportées "
            "et les points divers."
        )
    else:
        rows = ListRow.objects.visible_to(user, Capability.USE_LIST).filter(monthly_list=ml).exclude(identity_key="")
        rows_by_key = {r.identity_key: r for r in rows}
    carried = {o.identity_key: o for o in open_outcomes_before(user, meeting)}
    new_items = []
    for key, row in rows_by_key.items():
        item = existing.get(key)
        if item is not None:
            if item.list_row_id != row.pk or not item.on_current_list:  # list corrected since: point to new row
                item.list_row = row
                item.on_current_list = True
                item.save(update_fields=["list_row", "on_current_list"])
            continue
        outcome = carried.get(key)
        if outcome is None and not criteria.selects(row):
            continue
        category = outcome.agenda_item.category if outcome and outcome.agenda_item.category != Category.FREE else None
        new_items.append(
            AgendaItem(
                meeting=meeting, identity_key=key, list_row=row, on_current_list=True,
                category=category or default_category(row), priority=priority_for(row, outcome is not None),
                carried_over=outcome is not None, carried_from=outcome,
            )
        )
        result.added += 1
        if outcome is not None:
            result.carried += 1
    for key, outcome in carried.items():
        if key in rows_by_key:
            continue
        if key in existing:
            item = existing[key]
            if not item.carried_over:
                item.carried_over, item.carried_from = True, outcome
                item.save(update_fields=["carried_over", "carried_from"])
            continue
        prev_item = outcome.agenda_item
        new_items.append(
            AgendaItem(
                meeting=meeting, identity_key=key, list_row=prev_item.list_row, on_current_list=False,
                category=prev_item.category, priority=priority_for(prev_item.list_row, True) if prev_item.list_row else CARRIED_WEIGHT,
                carried_over=True, carried_from=outcome,
            )
        )
        result.added += 1
        result.carried += 1
    AgendaItem.objects.bulk_create(new_items)
    return result


def add_free_item(meeting, *, text, category=Category.FREE, priority=0):
    return AgendaItem.objects.create(meeting=meeting, text=text, category=category, priority=priority)


def agenda_items(user, meeting, include_excluded=False):
    qs = (
        AgendaItem.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(meeting=meeting)
        .select_related("meeting", "list_row", "outcome", "outcome__responsible_organisation", "carried_from")
        .order_by("category", "-priority", "pk")
    )
    return qs if include_excluded else qs.on_agenda()


def group_by_category(items):
    groups = {c: [] for c in Category}
    for item in items:
        groups[Category(item.category)].append(item)
    return [(c, groups[c]) for c in Category if groups[c]]


@transaction.atomic
def record_outcome(user, item, *, decision, responsible_organisation=None, due_date=None, comment="", state=OutcomeState.OPEN):
    """Create or update the outcome of ``item``. On an item carried over from last month, the new
    record follows the previous one (``previous``): the person's history reads month by month."""
    outcome = Outcome.objects.filter(agenda_item=item).first()
    created = outcome is None
    if created:
        outcome = Outcome(agenda_item=item, identity_key=item.identity_key, recorded_by=user, previous=item.carried_from)
    outcome.decision = decision
    outcome.responsible_organisation = responsible_organisation
    outcome.due_date = due_date
    outcome.comment = comment
    outcome.state = state
    outcome.save()
    return outcome, created


def person_history(user, item):
    """Every agenda item of the same person in the same département, with outcomes, oldest first."""
    if not item.identity_key:
        return AgendaItem.objects.none()
    return (
        AgendaItem.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(identity_key=item.identity_key, meeting__departement_id=item.meeting.departement_id)
        .select_related("meeting", "list_row", "outcome", "outcome__responsible_organisation")
        .order_by("meeting__starts_at", "pk")
    )

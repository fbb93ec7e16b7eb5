"""Rights of access and rectification of the persons (CESEDA R.744-52: they "s'exercent auprès
du directeur général de l'Office français de l'immigration et de l'intégration"; the right of
opposition does not apply).

OFII headquarters (capability RIGHTS_REQUESTS) searches a person across départements and months
by last name, first name and birth date, and exports everything the platform holds on them:
the rows of every monthly list (every département, month, version and state), the commission
agenda items and their decisions, and the journal entries on those lists, commissions, items
and decisions (who read them). Names are compared through the identity normalisation of
exchanges.services.identity (case, accents, hyphens, apostrophes, spaces ignored); the birth
date is exact. Matching is exact, never fuzzy (see identity.py for its known limits).

Rectification itself is a correction of the validated list (exchanges.services.workflow.
start_correction): a new version, with its mandatory reason.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from exchanges.models import Extract, ListRow
from exchanges.services.identity import normalise_name
from meetings.models import AgendaItem, Outcome
from referentiel.perimeter import Capability, has_capability
from siao_ofii.audit.models import AuditEvent
from siao_ofii.csvsafe import neutralize


def _require(user):
    if not has_capability(user, Capability.RIGHTS_REQUESTS):
        raise PermissionDenied


@dataclass
class Person:
    """One person found: the rows sharing normalised names, birth date and sex."""

    token: str
    last_names: set = field(default_factory=set)
    first_names: set = field(default_factory=set)
    birth_date: object = None
    sex: str = ""
    rows: list = field(default_factory=list)

    @property
    def departements(self):
        return sorted({r.monthly_list.departement.code for r in self.rows})

    @property
    def periods(self):
        return sorted({r.monthly_list.period for r in self.rows})


def _token(row):
    return "|".join([normalise_name(row.last_name), normalise_name(row.first_name), row.birth_date.isoformat(),
                     row.sex or ""])


def search(user, *, last_name, first_name="", birth_date):
    """The persons matching, each with its rows (all départements, months, versions)."""
    _require(user)
    wanted_last, wanted_first = normalise_name(last_name), normalise_name(first_name)
    rows = (
        ListRow.objects.visible_to(user, Capability.RIGHTS_REQUESTS)
        .filter(birth_date=birth_date)
        .select_related("monthly_list", "monthly_list__departement")
        .order_by("monthly_list__period", "monthly_list__departement__sort_key", "monthly_list__version", "line_number")
    )
    persons = {}
    for row in rows:
        if normalise_name(row.last_name) != wanted_last:
            continue
        if wanted_first and normalise_name(row.first_name) != wanted_first:
            continue
        token = _token(row)
        person = persons.setdefault(token, Person(token=token, birth_date=row.birth_date, sex=row.sex))
        person.last_names.add(row.last_name)
        person.first_names.add(row.first_name)
        person.rows.append(row)
    return list(persons.values())


@dataclass
class Dossier:
    person: Person
    items: list
    outcomes: list
    journal: list
    generated_at: object


def dossier(user, *, last_name, first_name, birth_date, token):
    """Everything held on the person ``token`` of a search (None if no longer found)."""
    person = next((p for p in search(user, last_name=last_name, first_name=first_name, birth_date=birth_date)
                   if p.token == token), None)
    if person is None:
        return None
    keys = {r.identity_key for r in person.rows if r.identity_key}
    row_ids = [r.pk for r in person.rows]
    items = list(
        AgendaItem.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(Q(identity_key__in=keys) | Q(list_row_id__in=row_ids))
        .select_related("meeting", "meeting__departement")
        .order_by("meeting__starts_at", "pk")
    )
    outcomes = list(
        Outcome.objects.visible_to(user, Capability.VIEW_MEETINGS)
        .filter(Q(identity_key__in=keys) | Q(agenda_item__in=[i.pk for i in items]))
        .select_related("agenda_item__meeting__departement", "responsible_organisation", "recorded_by")
        .order_by("agenda_item__meeting__starts_at", "pk")
    )
    list_ids = {r.monthly_list_id for r in person.rows}
    extract_ids = Extract.objects.filter(monthly_list_id__in=list_ids).values_list("pk", flat=True)
    objects = {
        "exchanges.MonthlyList": list_ids,
        "exchanges.Extract": set(extract_ids),
        "meetings.Meeting": {i.meeting_id for i in items},
        "meetings.AgendaItem": {i.pk for i in items},
        "meetings.Outcome": {o.pk for o in outcomes},
    }
    q = Q(pk__in=[])
    for label, ids in objects.items():
        if ids:
            q |= Q(object_type=label, object_id__in=[str(i) for i in ids])
    journal = list(AuditEvent.objects.filter(q).order_by("timestamp", "id"))
    return Dossier(person=person, items=items, outcomes=outcomes, journal=journal, generated_at=timezone.localtime())


def _d(value):
    return f"{value:%d/%m/%Y}" if value else ""


ROW_HEADERS = ["Département", "Mois", "Version", "État de la liste", "Ligne", "Nom", "Prénom", "Date de naissance",
               "Sexe", "Statut", "Adresse de l’hébergement", "Date d’entrée", "Numéro AGDREF", "Nationalité",
               "Mouvement", "Mois continus", "Montant additionnel ADA non dû"]


def row_values(r):
    ml = r.monthly_list
    return [ml.departement.code, ml.period, str(ml.version), ml.get_state_display(), str(r.line_number), r.last_name,
            r.first_name, _d(r.birth_date), r.get_sex_display(), r.get_status_display(), r.shelter_address,
            _d(r.entry_date), r.agdref, r.nationality, r.get_movement_display(), str(r.continuous_months),
            "oui" if r.ada_flag else "non"]


ITEM_HEADERS = ["Département", "Commission", "Catégorie (instruction I.B)", "Sur la liste du mois", "Reportée",
                "Retirée de l’ordre du jour"]


def item_values(i):
    return [i.meeting.departement.code, f"{timezone.localtime(i.meeting.starts_at):%d/%m/%Y}",
            i.get_category_display(), "oui" if i.on_current_list else "non", "oui" if i.carried_over else "non",
            "oui" if i.excluded else "non"]


OUTCOME_HEADERS = ["Département", "Commission", "Décision", "Organisme chargé", "Échéance", "État", "Commentaire",
                   "Enregistrée par", "Enregistrée le"]


def outcome_values(o):
    meeting = o.agenda_item.meeting
    return [meeting.departement.code, f"{timezone.localtime(meeting.starts_at):%d/%m/%Y}", o.get_decision_display(),
            str(o.responsible_organisation or ""), _d(o.due_date), o.get_state_display(), o.comment,
            o.recorded_by.email, f"{timezone.localtime(o.recorded_at):%d/%m/%Y %H:%M}"]


JOURNAL_HEADERS = ["Date", "Agent", "Action", "Objet", "Département"]


def journal_values(e):
    return [f"{timezone.localtime(e.timestamp):%d/%m/%Y %H:%M:%S}", e.actor_email, e.get_action_display(),
            e.object_repr, e.departement]


SECTIONS = [
    ("Lignes des listes mensuelles", ROW_HEADERS, "rows", row_values),
    ("Points d’ordre du jour des commissions", ITEM_HEADERS, "items", item_values),
    ("Suites données", OUTCOME_HEADERS, "outcomes", outcome_values),
    ("Journal : consultations et actions sur ces listes, commissions et suites", JOURNAL_HEADERS, "journal",
     journal_values),
]


def _section_data(d):
    sources = {"rows": d.person.rows, "items": d.items, "outcomes": d.outcomes, "journal": d.journal}
    return [(title, headers, [fn(x) for x in sources[key]]) for title, headers, key, fn in SECTIONS]


def export_csv(d):
    """One CSV (UTF-8 with BOM, ``;``): a first column names the section of each line."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    for title, headers, rows in _section_data(d):
        writer.writerow(["Rubrique", *headers])
        for values in rows:
            writer.writerow([title, *(neutralize(v) for v in values)])
        writer.writerow([])
    return buf.getvalue().encode("utf-8")


def export_pdf(d):
    from weasyprint import HTML

    html = render_to_string("rights/dossier_pdf.html", {"d": d, "sections": _section_data(d)})
    return HTML(string=html).write_pdf()

"""The perimeter rule, in one place.

Every view, export, task and API endpoint asks this module which départements a user may
see *for a given purpose* (a capability). Nothing else in the code base decides it.

- A user's habilitations are read once per request (cached on the user object, which Django
  builds anew for every request): an expired or revoked habilitation stops working at the
  next request, also inside an open session.
- A role gives capabilities; a habilitation gives a set of départements (its own list, every
  département of its DT, or all of them for OFII headquarters).
- An object outside the perimeter is answered with 404 (its existence is not revealed) and
  the attempt is written to the audit log.
"""

import datetime
from enum import StrEnum

from django.db.models import Q
from django.http import Http404

from .models import Habilitation, Role


class Capability(StrEnum):
    SUBMIT_LIST = "submit_list"  # upload, correct, validate the monthly list
    READ_EXTRACT = "read_extract"  # download the SIAO → OFII archive and reveal its password
    UPLOAD_REVERSE_FLOW = "upload_reverse_flow"  # OFII → SIAO file
    READ_REVERSE_FLOW = "read_reverse_flow"  # SIAO agents habilitated by the prefect
    VIEW_MEETINGS = "view_meetings"  # agenda and outcomes of the commission
    MANAGE_MEETINGS = "manage_meetings"  # schedule, invite, record outcomes, minutes
    # The monthly list itself: place its persons on a commission agenda (one by one or by OFII's
    # criteria) and read on the agenda what only the list says (birth date, entry date, finer
    # status, months of stay, ADA conclusion). "Seul l'OFII sera destinataire de ces
    # informations" (instruction I.A, II.A.2): OFII (DT, siège) and the SIAO that wrote the
    # list; never prefecture / DDETS staff, who see the agenda items with only what the
    # examination needs (see meetings.services.disclosure).
    USE_LIST = "use_list"
    # Rights of access and rectification (CESEDA R.744-52: "s'exercent auprès du directeur
    # général de l'OFII"): search a person across départements and months, export all the
    # platform holds on them. OFII headquarters only.
    RIGHTS_REQUESTS = "rights_requests"
    NATIONAL_DASHBOARD = "national_dashboard"
    VIEW_AUDIT = "view_audit"
    ADMINISTER = "administer"
    # R744-47: OFII headquarters approves the habilitations of OFII staff (DT, SIEGE).
    APPROVE_OFII_HABILITATIONS = "approve_ofii_habilitations"
    # R744-48: the prefecture designates the SIAO agents who receive DNA data, in its département.
    DESIGNATE_DNA = "designate_dna"


ROLE_CAPABILITIES = {
    Role.SIAO: {Capability.SUBMIT_LIST, Capability.VIEW_MEETINGS, Capability.USE_LIST},
    Role.SIAO_DNA: {Capability.READ_REVERSE_FLOW},
    Role.DT: {
        Capability.READ_EXTRACT,
        Capability.UPLOAD_REVERSE_FLOW,
        Capability.VIEW_MEETINGS,
        Capability.MANAGE_MEETINGS,
        Capability.USE_LIST,
    },
    Role.SIEGE: {
        Capability.READ_EXTRACT,
        Capability.UPLOAD_REVERSE_FLOW,
        Capability.VIEW_MEETINGS,
        Capability.MANAGE_MEETINGS,
        Capability.USE_LIST,
        Capability.RIGHTS_REQUESTS,
        Capability.NATIONAL_DASHBOARD,
        Capability.VIEW_AUDIT,
        Capability.APPROVE_OFII_HABILITATIONS,
    },
    # Prefecture / DDETS: schedule the commission, invite, record decisions, keep the minutes;
    # never USE_LIST (instruction I.A, II.A.2). The prefect designates the SIAO agents who
    # receive DNA data (R744-48).
    Role.PREFECTURE: {Capability.VIEW_MEETINGS, Capability.MANAGE_MEETINGS, Capability.DESIGNATE_DNA},
    Role.ADMIN: {Capability.ADMINISTER, Capability.VIEW_AUDIT},
}

# Capabilities that are not about départements (no nominative data behind them).
GLOBAL_CAPABILITIES = {Capability.NATIONAL_DASHBOARD, Capability.VIEW_AUDIT, Capability.ADMINISTER,
                       Capability.APPROVE_OFII_HABILITATIONS}

_CACHE_ATTR = "_active_habilitations_cache"


def active_habilitations(user):
    """The user's valid habilitations today, read once per user object (i.e. per request), in
    one query (issue 15: a page without a list costs at most 4 queries). Their départements are
    not prefetched: ``departement_filter`` reads them in a subquery of the query it filters;
    pages that show them prefetch them (``prefetch_related_objects``)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            Habilitation.objects.active()
            .filter(agent_id=user.pk)
            .select_related("dt")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def _agent_query(agent_id, today):
    """The query of ``agent_with_habilitations``: the agent LEFT JOIN their habilitations valid
    on ``today`` (``HabilitationQuerySet.active``'s conditions) LEFT JOIN each one's DT."""
    from django.db.models import FilteredRelation

    from .models import Agent, DirectionTerritoriale

    valid = FilteredRelation("habilitations", condition=Q(
        habilitations__valid_from__lte=today, habilitations__valid_until__gte=today,
        habilitations__revoked_at__isnull=True, habilitations__approved_at__isnull=False))
    fields = ([f.attname for f in Agent._meta.concrete_fields],
              [f.attname for f in Habilitation._meta.concrete_fields],
              [f.attname for f in DirectionTerritoriale._meta.concrete_fields])
    queryset = (
        Agent._default_manager.filter(pk=agent_id).annotate(valid_habilitation=valid)
        .order_by("-valid_habilitation__valid_until", "valid_habilitation__pk")  # Habilitation.Meta.ordering
        .values_list(*fields[0], *(f"valid_habilitation__{f}" for f in fields[1]),
                     *(f"valid_habilitation__dt__{f}" for f in fields[2]))
    )
    return queryset, fields


# The SQL of _agent_query, compiled once per database (building that ORM query cost more than
# running it, on every request): SQL, where the agent id and the day go in its parameters, the
# field names and the converters of the columns (ORM → Python values, as the ORM applies them).
_COMPILED = {}
_SENTINEL_ID, _SENTINEL_DAY = -7446, datetime.date(1901, 7, 4)


def _compiled(db):
    compiled = _COMPILED.get(db)
    if compiled is None:
        queryset, fields = _agent_query(_SENTINEL_ID, _SENTINEL_DAY)
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        slots = []
        for p in params:
            if p == _SENTINEL_ID:
                slots.append("id")
            elif p in (_SENTINEL_DAY, _SENTINEL_DAY.isoformat()):
                slots.append("day")
            else:
                raise AssertionError(f"paramètre inattendu : {p!r}")
        converters = compiler.get_converters([col for col, _, _ in compiler.select])
        compiled = _COMPILED[db] = (sql, slots, fields, converters)
    return compiled


def agent_with_habilitations(agent_id):
    """The agent of a session and their valid habilitations today, in ONE query (issue 15, goal
    3: the agent and the habilitation re-read were two queries on every request): a LEFT JOIN
    of the agent on their valid habilitations (``HabilitationQuerySet.active``'s conditions)
    and each one's DT, as ``active_habilitations`` reads them. The habilitations land in the
    per-request cache of ``active_habilitations``: still read on every request (the agent is
    loaded anew for each), so a revocation stops working at the next request. ``None`` when
    no such agent."""
    from django.core.exceptions import ValidationError
    from django.db import connections, router
    from django.utils import timezone

    from .models import Agent, DirectionTerritoriale

    try:
        agent_id = Agent._meta.pk.to_python(agent_id)
    except ValidationError:
        return None
    db = router.db_for_read(Agent)
    connection = connections[db]
    sql, slots, (agent_fields, hab_fields, dt_fields), converters = _compiled(db)
    day = connection.ops.adapt_datefield_value(timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(sql, [agent_id if slot == "id" else day for slot in slots])
        rows = cursor.fetchall()
    if not rows:
        return None
    if converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for pos, (convs, expression) in converters.items():
                for converter in convs:
                    row[pos] = converter(row[pos], expression, connection)
    na, nh = len(agent_fields), len(hab_fields)
    agent = Agent.from_db(db, agent_fields, rows[0][:na])
    habilitations = []
    for row in rows:
        if row[na] is None:  # no valid habilitation (the LEFT JOIN's empty side)
            continue
        habilitation = Habilitation.from_db(db, hab_fields, row[na:na + nh])
        dt = row[na + nh:]
        Habilitation.dt.field.set_cached_value(
            habilitation, DirectionTerritoriale.from_db(db, dt_fields, dt) if dt[0] is not None else None)
        Habilitation.agent.field.set_cached_value(habilitation, agent)
        habilitations.append(habilitation)
    setattr(agent, _CACHE_ATTR, habilitations)
    return agent


def forget(user):
    """Drop the per-request cache (after a habilitation change in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles(user):
    return {Role(h.role) for h in active_habilitations(user)}


def capabilities(user):
    caps = set()
    for role in roles(user):
        caps |= ROLE_CAPABILITIES[role]
    return caps


def has_capability(user, capability):
    return Capability(capability) in capabilities(user)


def departement_filter(user, capability):
    """A Q on Departement selecting what ``user`` may see for ``capability``."""
    capability = Capability(capability)
    q = Q(pk__in=[])
    for hab in active_habilitations(user):
        if capability not in ROLE_CAPABILITIES[Role(hab.role)]:
            continue
        if hab.role == Role.SIEGE:
            return Q()
        if hab.role == Role.DT:
            q |= Q(dt_id=hab.dt_id)
        elif hab.role in (Role.SIAO, Role.SIAO_DNA, Role.PREFECTURE):
            # A subquery, not a query now: the caller's query reads the départements.
            q |= Q(pk__in=Habilitation.departements.through.objects.filter(habilitation_id=hab.pk)
                   .values("departement_id"))
    return q


def visible_departements(user, capability):
    from .models import Departement

    return Departement.objects.visible_to(user, capability)


def can_access_departement(user, capability, departement):
    return visible_departements(user, capability).filter(pk=departement.pk).exists()


class PerimeterQuerySet:
    """Mixin for nominative querysets: ``Model.objects.visible_to(user, capability)``.

    ``perimeter_lookup`` names the path from the model to its Departement.
    """

    perimeter_lookup = "departement"

    def visible_to(self, user, capability):
        from .models import Departement

        visible = Departement.objects.visible_to(user, capability)
        return self.filter(**{f"{self.perimeter_lookup}__in": visible.values("pk")})


def require_capability(request, capability):
    """Pages without an object: a user whose roles lack ``capability`` gets 403, and the
    attempt is written to the audit log."""
    from django.core.exceptions import PermissionDenied

    from siao_ofii.audit.models import AuditAction
    from siao_ofii.audit.services import record

    if not has_capability(request.user, capability):
        record(AuditAction.PERIMETER_DENIED, request=request, capability=str(capability), path=request.path)
        raise PermissionDenied


def get_in_perimeter_or_404(request, queryset, capability, **lookup):
    """Fetch one object inside the user's perimeter. Outside it: 404 and an audit entry."""
    from siao_ofii.audit.models import AuditAction
    from siao_ofii.audit.services import record

    visible = queryset.visible_to(request.user, capability)
    try:
        return visible.get(**lookup)
    except queryset.model.DoesNotExist:
        # Journaled whenever the object exists at all: outside the perimeter, or inside it but
        # not under the parent named in the URL (a row of another list behind one's own list).
        outside = queryset.model._base_manager.filter(**lookup).first()
        if outside is not None:
            record(
                AuditAction.PERIMETER_DENIED,
                request=request,
                obj=outside,
                departement=_departement_code(outside, queryset),
                capability=str(capability),
                path=request.path,
                reason=("hors de l’objet demandé"
                        if queryset.model._default_manager.visible_to(request.user, capability).filter(**lookup).exists()
                        else "hors périmètre"),
            )
        raise Http404("Objet introuvable.")


def departement_in_perimeter_or_404(request, capability, code):
    """The Departement ``code`` if the user may see it for ``capability``; else 404 + audit."""
    from siao_ofii.audit.models import AuditAction
    from siao_ofii.audit.services import record

    from .models import Departement

    dep = Departement.objects.visible_to(request.user, capability).filter(code=code).first()
    if dep is None:
        if Departement.objects.filter(code=code).exists():
            record(
                AuditAction.PERIMETER_DENIED,
                request=request,
                departement=code,
                capability=str(capability),
                path=request.path,
            )
        raise Http404("Département introuvable.")
    return dep


def _departement_code(obj, queryset=None):
    from .models import Departement

    if isinstance(obj, Departement):
        return obj.code
    lookup = getattr(queryset, "perimeter_lookup", None)
    if lookup and lookup != "departement":
        code = type(obj)._base_manager.filter(pk=obj.pk).values_list(f"{lookup}__code", flat=True).first()
        return code or ""
    dep = getattr(obj, "departement", None)
    return getattr(dep, "code", "")

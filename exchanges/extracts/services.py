"""Building extracts and reading their state. Tasks, the management command and the views
call these functions; nothing here knows about HTTP."""

import datetime
import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from exchanges.models import Extract, LateSubmission, ListRow, ListState, MonthlyList, ReturnFile
from referentiel.models import Departement, PlatformSettings
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record

from exchanges import periods
from exchanges.services import derive
from siao_ofii.privatefiles.storage import private_storage

from . import progress
from .archive import base_name, build_archive, build_once, scratch_dir
from .writers import ROW_FIELDS, columns, output_values

logger = logging.getLogger(__name__)

EXTRACTS_DIR = "extracts"


def relative_path(departement_code, period, version):
    return f"{EXTRACTS_DIR}/{period}/{base_name(departement_code, period, version)}.zip"


def _change_counts(ml):
    """Arrivals, departures and ADA count, by the rule of ``exchanges.services.derive``."""
    return derive.movement_counts(ml)


def build_for_list(monthly_list_id):
    """Build the archive of a validated list, once. Returns ``(extract, created)``;
    ``(None, False)`` when the list is not (or no longer) the validated version. Idempotent
    under concurrency (``archive.build_once``: the MonthlyList row is locked for the whole
    build; the unique constraint on (département, period, version) is the last line of
    defence)."""
    try:
        extract, created = build_once(
            MonthlyList.objects.select_related("departement"), monthly_list_id,
            buildable=lambda ml: ml.state == ListState.VALIDATED,
            existing=lambda ml: Extract.objects.filter(
                departement_id=ml.departement_id, period=ml.period, version=ml.version).first(),
            dest=lambda ml: relative_path(ml.departement.code, ml.period, ml.version),
            write=_write_list_archive, record=_record_extract,
        )
    finally:
        progress.done("list", monthly_list_id)
    if created:
        logger.info("Archive %s produite (%s lignes, %.1f s)", extract.file_name, extract.row_count,
                    extract.build_seconds)
    return extract, created


@sensitive_variables("password")
def _write_list_archive(ml, storage, rel, password):
    ml.with_agdref = PlatformSettings.load().collect_agdref_nationality  # read once, recorded on the Extract
    rows = (
        ListRow.objects.filter(monthly_list=ml)
        .order_by("line_number")
        .values_list(*ROW_FIELDS)
        .iterator(chunk_size=5000)
    )
    return build_archive(
        storage, rel, base_name(ml.departement.code, ml.period, ml.version), rows, password,
        cols=columns(ml.with_agdref), to_values=lambda row: output_values(row, ml.with_agdref),
        progress=progress.reporter("list", ml.pk, ml.row_count),
    )


@sensitive_variables("password")
def _record_extract(ml, built, password, seconds):
    with_agdref = ml.with_agdref
    new, left, ada = _change_counts(ml)
    extract = Extract(
        departement=ml.departement, period=ml.period, version=ml.version, monthly_list=ml,
        file_path=built.name, size=built.size, sha256=built.sha256, row_count=built.row_count,
        new_count=new, left_count=left, ada_count=ada, with_agdref_nationality=with_agdref,
        build_seconds=seconds,
    )
    extract.set_password(password)
    extract.save()
    record(
        AuditAction.ARCHIVE_BUILT, obj=extract, departement=ml.departement.code, period=ml.period,
        version=ml.version, rows=built.row_count, sha256=built.sha256, size=built.size,
    )
    extract_id = extract.pk

    def _notify():
        from .tasks import notify_extract_ready

        notify_extract_ready.delay(extract_id)

    transaction.on_commit(_notify)
    return extract


def build_period(period, departement_codes=None):
    """Build (or reuse) the archive of every validated list of ``period``."""
    lists = MonthlyList.objects.validated().filter(period=period).select_related("departement")
    if departement_codes:
        lists = lists.filter(departement__code__in=departement_codes)
    results = []
    for ml in sorted(lists, key=lambda m: m.departement.sort_key):
        extract, created = build_for_list(ml.pk)
        if extract is not None:
            results.append((extract, created))
    return results


def missing_departements(period):
    """Départements with no validated list for ``period``, from their first month of transmission on."""
    validated = MonthlyList.objects.validated().filter(period=period).values("departement_id")
    deps = Departement.objects.exclude(pk__in=validated).select_related("dt", "region")
    platform = platform_first_period()
    if platform and period < platform:
        return deps.none()
    return deps.exclude(first_period__gt=period)


def sweep(period=None, record_late=False, today=None):
    """The sweep of the 9th evening and the 10th: build what is missing and, on the 10th,
    record which départements are late."""
    period = period or periods.current(today)
    pending = (
        MonthlyList.objects.validated()
        .filter(period=period)
        .exclude(
            pk__in=Extract.objects.filter(period=period).values("monthly_list_id")
        )
        .values_list("pk", flat=True)
    )
    built = []
    for pk in list(pending):
        extract, created = build_for_list(pk)
        if created:
            built.append(extract.departement.code)
    late = []
    if record_late:
        for dep in missing_departements(period):
            _, created = LateSubmission.objects.get_or_create(departement=dep, period=period)
            late.append(dep.code)
    return {"period": period, "built": built, "late": late}


STALE_BUILD_SECONDS = 24 * 3600


def remove_stale_builds(max_age=STALE_BUILD_SECONDS, now=None):
    """Temporary files left by a worker killed mid-build, never published: build folders in
    this node's scratch folder, and ``.part-*`` files of the filesystem storage."""
    import shutil

    from exchanges.returns import services as returns_services

    now = now or time.time()
    removed = 0
    for tmp in scratch_dir().glob(".build-*"):
        if tmp.is_dir() and tmp.stat().st_mtime < now - max_age:
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
    storage = private_storage()
    limit = datetime.datetime.fromtimestamp(now - max_age, tz=datetime.timezone.utc)
    for directory in (EXTRACTS_DIR, returns_services.RETURNS_DIR):
        for folder in _listdir(storage, directory)[0]:
            for name in _listdir(storage, f"{directory}/{folder}")[1]:
                path = f"{directory}/{folder}/{name}"
                if name.startswith(".part-") and storage.get_modified_time(path) < limit:
                    storage.delete(path)
                    removed += 1
    return removed


def _listdir(storage, path):
    try:
        return storage.listdir(path)
    except FileNotFoundError:  # filesystem storage, folder not created yet
        return [], []


def purge_expired(today=None, actor=None):
    """Delete archives and nominative rows older than the retention (PlatformSettings), of the
    monthly list and of the return flow."""
    from exchanges.returns import services as returns_services

    months = PlatformSettings.load().retention_months
    cutoff = periods.add_months(periods.current(today), -months)
    storage = private_storage()
    remove_stale_builds()
    uploads = remove_abandoned_uploads()
    archives = 0
    with transaction.atomic():
        old = Extract.objects.select_for_update().filter(period__lt=cutoff, purged_at__isnull=True)
        for extract in old:
            if extract.file_path:
                storage.delete(extract.file_path)
            archives += 1
        Extract.objects.filter(period__lt=cutoff, purged_at__isnull=True).update(
            file_path="", password_encrypted="", purged_at=timezone.now()
        )
        rows, _ = ListRow.objects.filter(monthly_list__period__lt=cutoff).delete()
        return_archives, return_rows = returns_services.purge_expired(cutoff)
        record(
            AuditAction.RETENTION_PURGE, actor=actor, retention_months=months, before_period=cutoff,
            archives=archives, rows=rows, abandoned_uploads=uploads, return_archives=return_archives,
            return_rows=return_rows,
        )
    return {"before_period": cutoff, "archives": archives, "rows": rows, "abandoned_uploads": uploads,
            "return_archives": return_archives, "return_rows": return_rows}


ABANDONED_UPLOAD_DAYS = 7


def remove_abandoned_uploads(now=None):
    """Uploaded files are deleted once processed; a file still here after a week belongs to a
    mapping step never finished or a worker that died. It may hold columns never meant for
    OFII: delete it (and forget its path on the list)."""
    from exchanges.services.workflow import UPLOADS_DIR, upload_name

    storage = private_storage()
    limit = (now or timezone.now()) - datetime.timedelta(days=ABANDONED_UPLOAD_DAYS)
    removed = 0
    for filename in _listdir(storage, UPLOADS_DIR)[1]:
        name = upload_name(filename)
        if storage.get_modified_time(name) < limit:
            storage.delete(name)
            MonthlyList.objects.filter(source_path=filename).update(source_path="")
            ReturnFile.objects.filter(source_path=filename).update(source_path="")
            removed += 1
    return removed


# --- State of a département for a month, as the DT and headquarters see it ------------------

AWAITING = "awaiting"
ON_TIME = "on_time"
LATE = "late"
MISSING = "missing"
NOT_STARTED = "not_started"
STATE_LABELS = {
    AWAITING: "En attente",
    ON_TIME: "Validée dans les délais",
    LATE: "Validée en retard",
    MISSING: "Manquante",
    NOT_STARTED: "Avant le premier mois",
}
# NOT_STARTED is neutral: DSFR's grey badge (no colour, no icon).
STATE_BADGES = {AWAITING: "info", ON_TIME: "success", LATE: "warning", MISSING: "error", NOT_STARTED: "no-icon"}


def first_periods(departements):
    """{département id: its first month of transmission} (its own, else the platform's)."""
    platform = platform_first_period()
    return {d.pk: d.first_period or platform for d in departements}


def platform_first_period():
    """Read only (a GET writes nothing): no settings row yet means no first month."""
    return PlatformSettings.objects.filter(pk=1).values_list("first_period", flat=True).first() or ""


def submission_state(period, validated_list, late_recorded, today=None, first_period=""):
    """State of one département's month. Before its first month of transmission (configured per
    département or for the platform) a month without a list is neutral, not missing."""
    today = today or timezone.localdate()
    if validated_list is None and first_period and period < first_period:
        return NOT_STARTED
    if validated_list is not None:
        validated_day = timezone.localdate(validated_list.validated_at) if validated_list.validated_at else today
        # A validated list is late by its own validation instant (stored flag), never by the
        # sweep of the 10th at 23:55 that recorded the département as missing a few minutes
        # before it was validated on time (instruction II.A.4: "au plus tard le 10").
        if validated_list.is_late or validated_day > periods.deadline(period):
            return LATE
        return ON_TIME
    if late_recorded or today > periods.deadline(period):
        return MISSING
    return AWAITING


@dataclass
class DepartementMonth:
    departement: Departement
    period: str
    state: str
    monthly_list: MonthlyList | None
    extract: Extract | None

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    @property
    def badge(self):
        return STATE_BADGES[self.state]

    @property
    def compared(self):
        """Whether the list was compared with a validated list of the previous month."""
        return self.monthly_list is not None and bool(self.monthly_list.report.get("previous_list_id"))

    @property
    def arrivals(self):
        return self.monthly_list.report.get("new_count") or 0 if self.monthly_list else None

    @property
    def departures(self):
        return self.monthly_list.report.get("left_count") or 0 if self.monthly_list else None

    @property
    def row_delta(self):
        """Arrivals minus departures against the previous validated version: the three numbers
        shown always add up (``derive`` counts all three against the same list)."""
        if not self.compared:
            return None
        return self.arrivals - self.departures

    @property
    def row_delta_abs(self):
        delta = self.row_delta
        return None if delta is None else abs(delta)


def overview(departements, period, today=None):
    """One DepartementMonth per département for ``period``, in a constant number of queries."""
    departements = list(departements)
    ids = [d.pk for d in departements]
    lists = {
        m.departement_id: m
        for m in MonthlyList.objects.validated().filter(period=period, departement_id__in=ids)
    }
    extracts = {}
    for e in Extract.objects.filter(period=period, departement_id__in=ids).order_by("departement_id", "-version"):
        extracts.setdefault(e.departement_id, e)
    late = set(LateSubmission.objects.filter(period=period, departement_id__in=ids).values_list("departement_id", flat=True))
    firsts = first_periods(departements)
    result = []
    for dep in departements:
        ml = lists.get(dep.pk)
        extract = extracts.get(dep.pk)
        if extract is not None and ml is not None and extract.version != ml.version:
            extract_for_list = None  # the new version is being built
        else:
            extract_for_list = extract
        result.append(DepartementMonth(
            departement=dep, period=period, state=submission_state(period, ml, dep.pk in late, today, firsts[dep.pk]),
            monthly_list=ml, extract=extract_for_list,
        ))
    return result

"""The return flow OFII → SIAO (instruction II.B; R744-48 2°): upload, processing, archive.

- ``receive_upload``: a DT agent (their DT's départements) or headquarters (any) uploads the
  month's DNA extraction for one département. Same size/format checks and private storage
  as the monthly list (``exchanges.services.workflow`` / ``reading``); processed by Celery.
- ``process_return``: reads with the monthly list's reader, refuses the whole file when a
  column is not one of II.B.2 (R744-48 2°: "pour les seules données prévues…"), checks every
  row (``exchanges.returns.validation``), and stores ALL rows in one transaction, or none: a
  file with a row error is refused with the row-level report, nothing nominative is kept.
- ``build_archive_for``: the AES-256 archive "au niveau de chaque SIAO et sécurisé par un mot
  de passe" (II.B.3), written by the same writer and password scheme as the monthly list's
  archive (``exchanges.extracts.archive`` / ``passwords``).
"""

import gc
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from exchanges import periods
from exchanges.extracts.archive import base_name, build_archive, build_once
from exchanges.extracts.writers import Column
from exchanges.models import ReturnArchive, ReturnFile, ReturnRow, ReturnState
from exchanges.services.reading import FileRejected, read_table
from exchanges.services.validation import raw_cells
from exchanges.services.workflow import _consume, store_upload, upload_name
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record
from siao_ofii.privatefiles.crypto import open_encrypted
from siao_ofii.privatefiles.storage import private_storage

from .columns import FIELD_NAMES, FIELDS, LABELS, match_headers
from .validation import ReturnRowValidator

log = logging.getLogger(__name__)

RETURNS_DIR = "returns"
ARCHIVE_PREFIX = "DNA"
MAX_REPORTED_ISSUES = 1000


def selectable_periods(today=None):
    """The month of the file: this month or the previous one."""
    period = periods.current(today)
    return [period, periods.previous(period)]


def relative_path(departement_code, period, version):
    return f"{RETURNS_DIR}/{period}/{base_name(departement_code, period, version, ARCHIVE_PREFIX)}.zip"


# --- upload --------------------------------------------------------------------------------

def _next_version(departement, period):
    top = ReturnFile.objects.filter(
        departement=departement, period=period, state__in=[ReturnState.STORED, ReturnState.SUPERSEDED]
    ).aggregate(v=Max("version"))["v"]
    return (top or 0) + 1


def receive_upload(departement, period, data, *, name, user, request=None, run=True):
    """Keep the file outside the URL space and queue its processing. Raises FileRejected."""
    filename, fmt = store_upload(data)  # the monthly list's checks and encrypted private storage
    with transaction.atomic():
        rf = ReturnFile.objects.create(
            departement=departement, period=period, version=_next_version(departement, period),
            uploaded_by=user, source_sha256=hashlib.sha256(data).hexdigest(), source_format=fmt,
            source_name=Path(name or "").name[:255], source_path=filename,
        )
        record(AuditAction.UPLOAD, request=request, actor=user, obj=rf, departement=departement, period=period,
               flow="retour", format=fmt, size=len(data), sha256=rf.source_sha256)
        if run:
            transaction.on_commit(lambda: _queue_processing(rf.pk))
    return rf


def _queue_processing(pk):
    from .tasks import process_return_file

    process_return_file.delay(pk)


# --- processing ----------------------------------------------------------------------------

def _progress(pk, value):
    ReturnFile.objects.filter(pk=pk).update(progress=value)


def _fail(rf, messages, **extra):
    report = {**rf.report, "file_errors": messages, **extra}
    ReturnFile.objects.filter(pk=rf.pk).update(state=ReturnState.FAILED, progress=100, report=report)
    rf.state, rf.report, rf.progress = ReturnState.FAILED, report, 100


def extra_columns_message(extra):
    names = ", ".join(f"« {name} »" for name in extra)
    one = len(extra) == 1
    return (
        f"Fichier refusé : {'la colonne' if one else 'les colonnes'} {names} {'ne fait' if one else 'ne font'} "
        "pas partie des données que l’OFII peut transmettre au SIAO (article R744-48 2° du CESEDA, minimisation "
        "des données ; instruction II.B.2 : état civil, situation administrative, conditions d’accueil). "
        f"Retirez-{'la' if one else 'les'} de l’extraction et déposez de nouveau le fichier : rien n’a été enregistré."
    )


def process_return(pk, *, progress=True):
    """Read, check and store one uploaded return file, all or nothing. Returns the ReturnFile."""
    rf = ReturnFile.objects.select_related("departement").filter(pk=pk).first()
    if rf is None or rf.state != ReturnState.PROCESSING:
        return rf
    source = upload_name(rf.source_path)
    try:
        try:
            data = open_encrypted(source)
        except OSError:
            _fail(rf, ["Le fichier déposé n’est plus disponible : déposez-le à nouveau."])
            return rf
        try:
            table = read_table(data, rf.source_format or None)
        except FileRejected as exc:
            _fail(rf, [str(exc)])
            return rf
        del data
        columns, missing, extra = match_headers(table.header)
        if extra:
            _fail(rf, [extra_columns_message(extra)], extra_columns=extra)
            return rf
        if missing:
            _fail(rf, ["Colonnes obligatoires absentes : " + ", ".join(LABELS[f] for f in missing)
                       + ". Rien n’a été enregistré."], missing=missing)
            return rf
        if progress:
            _progress(pk, 5)
        names = {f: table.header[i] for f, i in columns.items()}
        validator = ReturnRowValidator(rf.period, column_names=names)
        total = max(len(table.rows), 1)
        step = max(total // 20, 500)
        rows = []
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for n, (line, raw) in enumerate(raw_cells(_consume(table.rows), columns), 1):
                rows.append(validator.validate(line, raw))
                if progress and n % step == 0:
                    _progress(pk, 5 + int(70 * n / total))
        finally:
            if gc_was_enabled:
                gc.enable()
        issues = [
            {"row": r["line_number"], "level": level, "column": item["column"], "message": item["message"]}
            for r in rows for level, items in (("error", r["errors"]), ("warning", r["warnings"])) for item in items
        ]
        error_count = sum(1 for r in rows if r["errors"])
        report = {"columns": {f: names[f] for f in columns}, "encoding": table.encoding,
                  "delimiter": table.delimiter, "issues": issues[:MAX_REPORTED_ISSUES],
                  "issue_count": len(issues)}
        counts = {"row_count": len(rows), "error_count": error_count,
                  "warning_count": sum(1 for r in rows if r["warnings"])}
        if not rows:
            _fail(rf, ["Le fichier ne contient aucune ligne."], **report)
            return rf
        if error_count:
            ReturnFile.objects.filter(pk=pk).update(**counts)
            for name, value in counts.items():
                setattr(rf, name, value)
            _fail(rf, [f"{error_count} ligne(s) en erreur : le fichier est refusé en entier et rien n’a été "
                       "enregistré. Corrigez l’extraction et déposez-la de nouveau."], **report)
            return rf
        if progress:
            _progress(pk, 80)
        try:
            with transaction.atomic():
                ReturnRow.objects.bulk_create(
                    (ReturnRow(return_file=rf, line_number=r["line_number"], birth_name_key=r["birth_name_key"],
                               usage_name_key=r["usage_name_key"], **{f: r[f] for f in FIELD_NAMES}) for r in rows),
                    batch_size=2000,
                )
                _supersede_previous(rf)
                ReturnFile.objects.filter(pk=pk).update(
                    state=ReturnState.STORED, progress=100, stored_at=timezone.now(), report=report, **counts
                )
                record(AuditAction.UPLOAD, actor=rf.uploaded_by, obj=rf, departement=rf.departement.code,
                       period=rf.period, flow="retour", step="stored", rows=len(rows), version=rf.version)
                transaction.on_commit(lambda: _queue_archive(pk))
        except Exception:
            log.exception("storing return file %s failed", pk)
            _fail(rf, ["Une erreur interne a empêché l’enregistrement : rien n’a été enregistré. Réessayez."])
            return rf
        rf.refresh_from_db()
        return rf
    finally:
        private_storage().delete(source)
        ReturnFile.objects.filter(pk=pk).update(source_path="")


def _supersede_previous(rf):
    """The latest stored file of a month replaces the previous one; the rows of the previous
    one are deleted (its archive, already sent, stays until the retention purge)."""
    old = list(ReturnFile.objects.select_for_update().filter(
        departement_id=rf.departement_id, period=rf.period, state=ReturnState.STORED).exclude(pk=rf.pk))
    if not old:
        return
    rows, _ = ReturnRow.objects.filter(return_file__in=old).delete()
    ReturnFile.objects.filter(pk__in=[o.pk for o in old]).update(state=ReturnState.SUPERSEDED)
    record(AuditAction.UPLOAD, actor=rf.uploaded_by, obj=rf, departement=rf.departement.code, period=rf.period,
           flow="retour", superseded_versions=",".join(f"v{o.version}" for o in old), deleted_rows=rows)


def _queue_archive(pk):
    from siao_ofii import background

    from .tasks import build_return_archive

    background.delay(build_return_archive, pk)  # never inside the request (siao_ofii.background)


# --- archive -------------------------------------------------------------------------------

ARCHIVE_COLUMNS = [Column(f.label, f.width, "date" if f.kind == "date" else "text") for f in FIELDS]


def build_archive_for(return_file_id):
    """Build the archive of a stored return file, once. Returns ``(archive, created)``
    (``exchanges.extracts.archive.build_once``: the same steps as the monthly list's)."""
    return build_once(
        ReturnFile.objects.select_related("departement"), return_file_id,
        buildable=lambda rf: rf.state == ReturnState.STORED,
        existing=lambda rf: ReturnArchive.objects.filter(return_file=rf).first(),
        dest=lambda rf: relative_path(rf.departement.code, rf.period, rf.version),
        write=_write_return_archive, record=_record_return_archive,
    )


@sensitive_variables("password")
def _write_return_archive(rf, storage, rel, password):
    # Exactly the II.B.2 fields, in the order of ``columns.FIELDS``: nothing else leaves.
    rows = ReturnRow.objects.filter(return_file=rf).order_by("line_number").values_list(*FIELD_NAMES)
    return build_archive(storage, rel, base_name(rf.departement.code, rf.period, rf.version, ARCHIVE_PREFIX),
                         rows.iterator(chunk_size=2000), password, cols=ARCHIVE_COLUMNS, to_values=list,
                         sheet_title="Flux retour")


@sensitive_variables("password")
def _record_return_archive(rf, built, password, seconds):
    archive = ReturnArchive(
        departement=rf.departement, period=rf.period, version=rf.version, return_file=rf, file_path=built.name,
        size=built.size, sha256=built.sha256, row_count=built.row_count, build_seconds=seconds,
    )
    archive.set_password(password)
    archive.save()
    record(AuditAction.ARCHIVE_BUILT, obj=archive, departement=rf.departement.code, period=rf.period,
           version=rf.version, rows=built.row_count, sha256=built.sha256, size=built.size, flow="retour")
    archive_id = archive.pk

    def _notify():
        from .tasks import notify_return_archive_ready

        notify_return_archive_ready.delay(archive_id)

    transaction.on_commit(_notify)
    return archive


# --- state per département, for the DT and headquarters dashboards -------------------------

@dataclass
class ReturnMonth:
    departement: object
    period: str
    stored: ReturnFile | None
    attempt: ReturnFile | None  # the latest upload, whatever its state
    archive: ReturnArchive | None

    @property
    def sent(self):
        return self.stored is not None


def overview(departements, period):
    """One ReturnMonth per département, in a constant number of queries."""
    departements = list(departements)
    ids = [d.pk for d in departements]
    stored, attempts = {}, {}
    for rf in ReturnFile.objects.filter(period=period, departement_id__in=ids).order_by("departement_id", "-pk"):
        attempts.setdefault(rf.departement_id, rf)
        if rf.state == ReturnState.STORED:
            stored[rf.departement_id] = rf
    archives = {a.return_file_id: a for a in ReturnArchive.objects.filter(
        return_file_id__in=[rf.pk for rf in stored.values()])}
    return [ReturnMonth(d, period, stored.get(d.pk), attempts.get(d.pk),
                        archives.get(stored[d.pk].pk) if d.pk in stored else None) for d in departements]


def sent_departement_ids(departement_ids, period):
    return set(ReturnFile.objects.stored().filter(period=period, departement_id__in=departement_ids)
               .values_list("departement_id", flat=True))


# --- for the habilitated SIAO agent --------------------------------------------------------

def archives_for(user, capability, months=12, today=None):
    """The archives of the user's perimeter for the last ``months`` months, with a flag
    ``downloaded_by_user`` (from the audit log): what is waiting is what they have not
    downloaded yet."""
    from siao_ofii.audit.models import AuditEvent

    oldest = periods.add_months(periods.current(today), -(months - 1))
    archives = list(ReturnArchive.objects.visible_to(user, capability).available()
                    .filter(period__gte=oldest).select_related("departement"))
    downloaded = set(AuditEvent.objects.filter(
        actor_id=user.pk, action=AuditAction.DOWNLOAD, object_type=ReturnArchive._meta.label,
        object_id__in=[str(a.pk) for a in archives]).values_list("object_id", flat=True))
    for a in archives:
        a.downloaded_by_user = str(a.pk) in downloaded
    return archives


# --- retention -----------------------------------------------------------------------------

def purge_expired(cutoff):
    """Archives and rows of the return flow older than ``cutoff`` (same retention as the
    monthly list's: ``PlatformSettings.retention_months``). Called by
    ``exchanges.extracts.services.purge_expired``."""
    storage = private_storage()
    old = ReturnArchive.objects.select_for_update().filter(period__lt=cutoff, purged_at__isnull=True)
    archives = 0
    for archive in old:
        if archive.file_path:
            storage.delete(archive.file_path)
        archives += 1
    ReturnArchive.objects.filter(period__lt=cutoff, purged_at__isnull=True).update(
        file_path="", password_encrypted="", purged_at=timezone.now())
    rows, _ = ReturnRow.objects.filter(return_file__period__lt=cutoff).delete()
    return archives, rows

"""The monthly-list workflow: upload → processing → draft → validated → superseded.

- ``receive_upload``: checks size and format (by content), keeps the file outside the URL
  space, creates the list in state *processing*, audits, and queues the Celery task after commit.
- ``process_list`` (run by the task): reads, maps columns, validates 1,000 rows at a time with
  progress and stores everything in ONE transaction (on PostgreSQL the rows go to the COPY as
  they are validated): a file that fails leaves nothing but its error report. A successful
  upload replaces the previous draft of the same month. A row keeps its cells as read only
  while it has a message (``kept_raw``).
- ``update_row``: the agent fixes one row in the browser; it is checked again at once.
- ``validate_list``: only a SIAO agent of the département, only without errors; after the
  10th the list is marked late; validating a correction makes the previous validated version
  *superseded*. Sends ``exchanges.signals.list_validated`` after commit.
- ``start_correction``: a new draft (version n+1) copied from a validated list.
Everything is written to the audit log (never with nominative content).
"""

import datetime
import gc
import hashlib
import json
import logging
import re
import uuid
from contextlib import contextmanager
from functools import partial
from itertools import chain, islice, repeat
from operator import add, itemgetter, methodcaller
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from exchanges import periods
from exchanges.models import ListRow, ListState, MonthlyList
from exchanges.signals import list_validated
from referentiel.models import PlatformSettings
from referentiel.perimeter import Capability, can_access_departement
from siao_ofii.audit.models import AuditAction
from siao_ofii.audit.services import record
from siao_ofii.privatefiles.crypto import open_encrypted, save_encrypted
from siao_ofii.privatefiles.storage import private_storage

from . import derive as derive_mod
from .parsing import FIELD_LABELS, clean_text, match_headers
from .reading import FileRejected, read_table, sniff_format
from .validation import ROW_FIELDS, RowValidator

log = logging.getLogger(__name__)



class WorkflowError(Exception):
    """An action the workflow refuses; the message is shown to the agent (French)."""


# --- calendar ------------------------------------------------------------------------------

def current_period(today=None):
    return periods.current(today)


def deadline(period):
    """End of the deadline day (the 10th) of the list's month, Paris time."""
    day = datetime.datetime.combine(periods.deadline(period), datetime.time.max)
    return timezone.make_aware(day, timezone.get_default_timezone())


def is_late(period, when=None):
    return (when or timezone.now()) > deadline(period)


def selectable_periods(today=None):
    """Periods an agent may upload: this month and the previous one (late lists)."""
    period = current_period(today)
    return [period, periods.previous(period)]


# --- upload --------------------------------------------------------------------------------

UPLOADS_DIR = "uploads"


def upload_name(source_path):
    """Name in the private storage of an uploaded file (``MonthlyList.source_path``)."""
    return f"{UPLOADS_DIR}/{source_path}"


def _next_version(departement, period):
    top = MonthlyList.objects.filter(
        departement=departement, period=period, state__in=[ListState.VALIDATED, ListState.SUPERSEDED]
    ).aggregate(v=Max("version"))["v"]
    return (top or 0) + 1


def store_upload(data):
    """What every uploaded file goes through (the monthly list, the return flow): the size
    limit, the format read from the content, then the file kept encrypted in the private
    storage (shared by every node) until it has been processed. Returns ``(source_path,
    format)``. Raises FileRejected: nothing stored."""
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise FileRejected(
            f"Le fichier dépasse la taille maximale ({settings.UPLOAD_MAX_BYTES // (1024 * 1024)} Mo)."
        )
    fmt = sniff_format(data)
    stored = save_encrypted(upload_name(f"{uuid.uuid4().hex}.{fmt}"), data)
    return stored[len(UPLOADS_DIR) + 1:], fmt


def receive_upload(departement, period, data, *, name, user, request=None, run=True):
    """Store an uploaded file and queue its processing. Raises FileRejected (nothing stored)."""
    filename, fmt = store_upload(data)
    with transaction.atomic():
        ml = MonthlyList.objects.create(
            departement=departement, period=period, version=_next_version(departement, period),
            state=ListState.PROCESSING, uploaded_by=user, source_sha256=hashlib.sha256(data).hexdigest(),
            source_format=fmt, source_name=Path(name or "").name[:255], source_path=filename, progress=0,
        )
        record(AuditAction.UPLOAD, request=request, actor=user, obj=ml, departement=departement,
               period=period, format=fmt, size=len(data), sha256=ml.source_sha256)
        if run:
            transaction.on_commit(lambda: _queue(ml.pk))
    return ml


def _queue(pk):
    from exchanges.tasks import process_uploaded_list

    process_uploaded_list.delay(pk)


def _delete_file(ml):
    if ml.source_path:
        private_storage().delete(upload_name(ml.source_path))


def set_mapping(ml, mapping, *, user, request=None, run=True):
    """The agent picked the columns we did not recognise: process the file again."""
    if ml.state != ListState.FAILED or not ml.report.get("needs_mapping") or not ml.source_path:
        raise WorkflowError("Ce dépôt n’attend pas de correspondance de colonnes.")
    report = dict(ml.report)
    report["mapping"] = {k: int(v) for k, v in mapping.items() if v not in (None, "")}
    MonthlyList.objects.filter(pk=ml.pk).update(state=ListState.PROCESSING, progress=0, report=report, attempts=0)
    record(AuditAction.UPLOAD, request=request, actor=user, obj=ml, departement=ml.departement,
           period=ml.period, step="column_mapping")
    if run:
        transaction.on_commit(lambda: _queue(ml.pk))


# --- processing ----------------------------------------------------------------------------

def _progress(pk, value):
    MonthlyList.objects.filter(pk=pk).update(progress=value)


def _fail(ml, message, **extra):
    report = {**ml.report, "file_errors": [message], **extra}
    MonthlyList.objects.filter(pk=ml.pk).update(state=ListState.FAILED, progress=100, report=report,
                                                row_count=0, error_count=0, warning_count=0)
    ml.state, ml.report = ListState.FAILED, report


MAX_ATTEMPTS = 2
KILLED_MESSAGE = (
    "La lecture de ce fichier a interrompu le traitement à deux reprises : il est refusé et a été supprimé. "
    "Ouvrez-le dans votre tableur, supprimez les lignes et colonnes vides éloignées du tableau, enregistrez-le "
    "de nouveau puis déposez-le."
)


def start_attempt(pk):
    """Count one delivery of the processing task, in its own committed transaction, before the
    file is read. A reader that kills its process (memory, a crash in a native library) never
    reports back, and acks_late + reject_on_worker_lost deliver the task again: after
    MAX_ATTEMPTS deliveries that did not finish, the list is marked failed with a French
    message and its file deleted, instead of killing workers forever. Returns False then."""
    with transaction.atomic():
        counted = MonthlyList.objects.filter(pk=pk, state=ListState.PROCESSING).update(attempts=F("attempts") + 1)
    if not counted:
        return True  # gone or no longer processing: process_list says so
    ml = MonthlyList.objects.select_related("departement").get(pk=pk)
    if ml.attempts <= MAX_ATTEMPTS:
        return True
    log.error("list %s: processing killed its worker %s times, marked failed", pk, ml.attempts - 1)
    _refuse(ml, KILLED_MESSAGE, journal=lambda: record(
        AuditAction.UPLOAD, actor=ml.uploaded_by, obj=ml, departement=ml.departement, period=ml.period,
        step="refused_after_worker_crashes", attempts=ml.attempts - 1))
    return False


def _refuse(ml, message, *, journal=None):
    """A refused upload: its file first, then the failed state, the emptied path (and the
    journal entry) in one commit: nobody ever sees a refused list whose file is still kept."""
    _delete_file(ml)
    with transaction.atomic():
        _fail(ml, message)
        MonthlyList.objects.filter(pk=ml.pk).update(source_path="")
        if journal:
            journal()
    ml.source_path = ""


def process_list(pk, *, progress=True):
    """Read, validate and store one uploaded list (all or nothing). Returns the MonthlyList."""
    ml = MonthlyList.objects.select_related("departement").filter(pk=pk).first()
    if ml is None:  # replaced by a later upload before its turn came
        return None
    if ml.state != ListState.PROCESSING:
        return ml
    keep_file = False
    gc_was_enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of small acyclic objects: the cyclic GC only costs time
    try:
        try:
            data = open_encrypted(upload_name(ml.source_path))
        except OSError:  # absent (purged, another node's disk) or unreadable
            _refuse(ml, "Le fichier déposé n’est plus disponible : déposez-le à nouveau.")
            return ml
        with_agdref = PlatformSettings.load().collect_agdref_nationality
        try:
            table = read_table(data, ml.source_format or None)
        except FileRejected as exc:
            _refuse(ml, str(exc))
            return ml
        del data
        # The column names are shown and stored (messages, report) like cells: cleaned. A
        # header cell may hold a NUL (XLSX's "_x0000_"), which PostgreSQL refuses in jsonb.
        table.header = [clean_text(h) for h in table.header]
        columns, missing, ignored = match_headers(table.header, ml.report.get("mapping"), with_agdref=with_agdref)
        if missing:
            keep_file = True
            _fail(
                ml,
                "Colonnes obligatoires non reconnues : " + ", ".join(FIELD_LABELS[f] for f in missing)
                + ". Indiquez quelle colonne de votre fichier correspond à chacune.",
                needs_mapping=True, missing=missing, headers=table.header,
            )
            return ml
        if progress:
            _progress(pk, 5)
        names = {f: (table.header[i] if i < len(table.header) and table.header[i] else FIELD_LABELS[f])
                 for f, i in columns.items()}
        ml.report = {
            **{k: v for k, v in ml.report.items() if k not in ("file_errors", "needs_mapping", "missing")},
            "columns": {f: names[f] for f in columns}, "ignored_columns": ignored[:50],
            "encoding": table.encoding, "delimiter": table.delimiter, "with_agdref": with_agdref,
        }
        validator = RowValidator(ml.period, column_names=names, with_agdref=with_agdref)
        try:
            derivation = derive_mod.Derivation(ml)
            counts = _Counts()
            # On PostgreSQL the rows are validated while the COPY sends them: the server parses
            # and indexes one slice while Python validates the next. The import's transaction
            # then holds the connection, so the progress goes through a second one.
            streaming = connection.vendor == "postgresql"
            # The second connection must never wait for this one: inside a caller's transaction
            # (which may hold the list's row) the progress is not written; nobody could see it.
            with_progress = progress and not (streaming and connection.in_atomic_block)
            with _progress_writer(pk, enabled=with_progress, side=streaming) as tell:
                rows = _validated_rows(table, validator, columns, derivation, counts, tell)
                if not streaming:  # validated, with its progress, before the transaction
                    rows = _consume(list(rows))
                with transaction.atomic():
                    store_rows(ml, rows)  # each slice of cells freed once validated, each row once written
                    rows = table = validator = None
                    derivation.finish()
                    ml.row_count, ml.error_count, ml.warning_count = counts.rows, counts.errors, counts.warnings
                    cross_departement_warnings(ml)
                    # The uploaded file goes in the same commit as the draft (the database storage
                    # deletes it in this transaction): nobody sees a processed list whose file is
                    # still kept. With files on disk, a crash right after the deletion leaves the
                    # list processing without its file: the task delivered again says so in French.
                    _delete_file(ml)
                    ml.state, ml.progress, ml.source_path = ListState.DRAFT, 100, ""
                    ml.save(update_fields=["report", "row_count", "error_count", "warning_count", "state", "progress",
                                           "source_path"])
                    _replace_previous_drafts(ml)
        except Exception:
            log.exception("storing list %s failed", pk)
            _refuse(ml, "Une erreur interne a empêché l’enregistrement de la liste : rien n’a été enregistré. "
                        "Réessayez ou contactez l’assistance.")
            return ml
        return ml
    except BaseException as exc:
        if not isinstance(exc, Exception):
            # The process is being stopped (SystemExit, KeyboardInterrupt): the task will be
            # delivered again and needs its file, as after a kill (start_attempt counts both).
            keep_file = True
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
        if not keep_file and ml.source_path:
            _delete_file(ml)
            MonthlyList.objects.filter(pk=pk).update(source_path="")
            ml.source_path = ""


def kept_raw(row):
    """The cells of a row as read (``raw``) are stored only while the row has a message (an
    error or a warning): the agent fixes it from what the file said. A row without one keeps
    its checked values only; its cells are not stored a second time (the least personal data
    kept, and a third of the import's work). The correction form then starts from the checked
    values (``RowForm.initial_from``)."""
    return row["raw"] if row["errors"] or row["warnings"] else {}


class _Counts:
    rows = errors = warnings = 0


VALIDATION_SLICE = 1000  # rows validated at a time: one COPY block, a few milliseconds of work


def _validated_rows(table, validator, columns, derivation, counts, tell=None):
    """The file's rows validated (column by column, a slice at a time) and derived, in order.
    Each slice of cells read is freed once validated; ``counts`` adds up the rows, errors and
    warnings; ``tell(percent)`` is called as the validation goes, from 5 to 95 %, at most
    every 5 points (the draft's 100 % comes with its commit)."""
    source = table.rows
    total = max(len(source), 1)
    told = 5
    for start in range(0, len(source), VALIDATION_SLICE):
        end = min(start + VALIDATION_SLICE, len(source))
        cells = source[start:end]
        source[start:end] = repeat(None, end - start)
        rows = validator.validate_rows(cells, columns)
        del cells
        derivation.add(rows)
        counts.rows += len(rows)
        for row in rows:
            counts.errors += bool(row["errors"])
            counts.warnings += bool(row["warnings"])
            row["raw"] = kept_raw(row)
        yield from rows
        percent = 5 + 90 * end // total
        if tell and percent >= told + 5 and end < total:
            tell(percent)
            told = percent


@contextmanager
def _progress_writer(pk, *, enabled=True, side=False):
    """The function that records a list's progress while it is processed, or None. With
    ``side``, it writes through a second connection of its own, in autocommit: the import's
    transaction holds the first one (busy with the COPY), and the page that polls the progress
    must see it at once, not at the commit."""
    if not enabled:
        yield None
        return
    if not side:
        yield partial(_progress, pk)
        return
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    sql = (f"UPDATE {other.ops.quote_name(MonthlyList._meta.db_table)} SET {other.ops.quote_name('progress')} = %s "
           f"WHERE {other.ops.quote_name('id')} = %s")

    failed = opened = False

    def tell(value):
        nonlocal failed, opened
        if failed:
            return
        try:
            with other.cursor() as cursor:
                if not opened:  # never wait long for a lock: the import must not depend on it
                    cursor.execute("SET lock_timeout = '2s'")
                    opened = True
                cursor.execute(sql, [value, pk])
        except DatabaseError:  # e.g. no connection left on the server: the import goes on without a bar
            log.warning("list %s: progress not recorded (second connection refused)", pk, exc_info=True)
            failed = True

    try:
        yield tell
    finally:
        try:
            other.close()
        except DatabaseError:  # after the commit: the list is stored, only this connection failed
            log.warning("list %s: the progress connection did not close cleanly", pk, exc_info=True)


def _consume(rows):
    """Yield the rows of a list and drop each one from it, so that the cells read and the
    validated rows are not both fully in memory."""
    for i in range(len(rows)):
        item, rows[i] = rows[i], None
        yield item


def _replace_previous_drafts(ml):
    """A new upload (or correction) replaces the draft and failed attempts of the same month,
    and older uploads still being processed (e.g. stuck after a worker crash): the latest wins."""
    old = MonthlyList.objects.filter(
        Q(state__in=[ListState.DRAFT, ListState.FAILED]) | Q(state=ListState.PROCESSING, pk__lt=ml.pk),
        departement_id=ml.departement_id, period=ml.period,
    ).exclude(pk=ml.pk)
    replaced = list(old)
    for previous in replaced:
        _delete_file(previous)
    if not replaced:
        return
    rows, _ = ListRow.objects.filter(monthly_list__in=replaced).delete()
    MonthlyList.objects.filter(pk__in=[p.pk for p in replaced]).delete()
    record(AuditAction.LIST_CORRECTED, actor=ml.uploaded_by, obj=ml, departement=ml.departement.code,
           replaced_lists=",".join(f"v{p.version}:{p.state}" for p in replaced), deleted_rows=rows)


COPY_COLUMNS = [
    "monthly_list_id", "line_number", "last_name", "first_name", "birth_date", "sex", "status",
    "shelter_address", "entry_date", "agdref", "nationality", "raw", "errors", "warnings", "ofii_warnings",
    "identity_key", "movement", "continuous_months", "ada_flag",
]


def _copy_escape(text):
    """A value in PostgreSQL's COPY text format: backslash, tab, line feed and carriage return
    escaped (the only characters the format interprets)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class _Escaped(dict):
    """text → its COPY form, computed once per distinct value (names, towns and dates repeat)."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        value = self[key] = self.function(key)
        return value


class _CopySource:
    """A file-like object for ``copy_expert`` that formats the rows as PostgreSQL reads them
    (about 1,000 rows per ``read``): no whole-list buffer, and the server parses one block
    while the next one is formatted (and, in the import, while the next rows are validated).

    An exception raised while the rows are made (``SystemExit`` of a stopping worker
    included) is kept and ends the data: psycopg2 would turn it into a ``QueryCanceled`` (an
    ordinary error, a stop taken for a failure) and send its text, which may quote a cell, to
    the server's log. ``store_rows`` raises it again once the COPY has returned, inside the
    import's transaction, which it rolls back."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.error = None

    def read(self, size=-1):
        if self.error is not None:
            return ""
        try:
            return next(self.blocks, "")
        except BaseException as exc:  # raised again by store_rows
            self.error = exc
            return ""

    readline = read


# Characters the COPY text format interprets; and those ``json.dumps`` escapes in a string
# (with ensure_ascii=False), which include the former.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_JSON_SPECIAL = re.compile(r'[\x00-\x1f"\\]')


def copy_lines(ml, rows, *, block=1000):
    """The rows as blocks of COPY text-format lines, ``block`` rows at a time, built column by
    column: a column of the block with nothing to escape (the usual case, checked in one
    search) is written as it is, otherwise each distinct value is escaped once; each line is
    one ``join`` (no Python code per cell). ``raw`` is written as the JSON object of its
    texts, which PostgreSQL stores as the same ``jsonb`` as ``json.dumps`` gives."""
    from json.encoder import encode_basestring  # json.dumps(ensure_ascii=False) for one string

    dumps = json.JSONEncoder(ensure_ascii=False).encode
    escaped = _Escaped(_copy_escape).__getitem__
    as_json = _Escaped(lambda value: _copy_escape(encode_basestring(value) if isinstance(value, str) else dumps(value)))
    key_json = _Escaped(lambda key: _copy_escape(encode_basestring(key)) + ": ")
    day = _Escaped(lambda value: "\\N" if value is None else value.isoformat()).__getitem__
    # Sex, status and movement are choice codes, the identity key is hexadecimal: nothing to escape.
    choice = _Escaped(lambda value: f"{value or ''}").__getitem__
    flag = _Escaped(lambda value: "t" if value else "f").__getitem__

    def text(values):
        try:
            if not _COPY_SPECIAL.search("".join(values)):
                return values
        except TypeError:  # not only strings
            pass
        return map(escaped, values)

    def raw_json(raw):
        return "{" + ", ".join(map(add, map(key_json.__getitem__, raw), map(as_json.__getitem__, raw.values()))) + "}"

    def raw_column(raws):
        shapes = set(map(tuple, raws))  # the keys of each row's raw, in order
        if len(shapes) == 1:
            values = list(map(tuple, map(dict.values, raws)))
            try:
                plain = not _JSON_SPECIAL.search("".join(chain.from_iterable(values)))
            except TypeError:  # not only strings
                plain = False
            if plain:  # every value is written "as it is" between quotes
                template = "{" + ", ".join(key_json[k].replace("%", "%%") + '"%s"' for k in shapes.pop()) + "}"
                return map(template.__mod__, values)
        return map(raw_json, raws)

    def messages(values):
        return _copy_escape(dumps(values)) if values else "[]"

    columns = itemgetter("line_number", "last_name", "first_name", "birth_date", "sex", "status", "shelter_address",
                         "entry_date", "agdref", "nationality", "raw", "errors", "warnings", "identity_key")
    extra = methodcaller("get", "movement", ""), methodcaller("get", "continuous_months", 1), methodcaller("get", "ada_flag")
    pk = str(ml.pk)
    rows = iter(rows)
    while True:
        chunk = list(islice(rows, block))
        if not chunk:
            return
        (lines, last_names, first_names, births, sexes, statuses, shelters, entries, agdrefs, nationalities, raws,
         errors, warnings, keys) = zip(*map(columns, chunk))
        movements, months, ada = (list(map(get, chunk)) for get in extra)
        del chunk
        yield "\n".join(map("\t".join, zip(
            repeat(pk), map(format, lines), text(last_names), text(first_names), map(day, births),
            map(choice, sexes), map(choice, statuses), text(shelters), map(day, entries), text(agdrefs),
            text(nationalities), raw_column(raws),
            map(messages, errors) if any(errors) else repeat("[]"),
            map(messages, warnings) if any(warnings) else repeat("[]"),
            repeat("[]"), map(format, keys), map(format, movements), map(format, months), map(flag, ada),
        ))) + "\n"


def store_rows(ml, rows):
    """Insert the rows (any iterable, consumed once: the import gives them as it validates
    them): PostgreSQL COPY (several times faster than bulk_create), else bulk_create."""
    if connection.vendor != "postgresql":
        ListRow.objects.bulk_create((_row_object(ml, r) for r in rows), batch_size=2000)
        return
    sql = f"COPY {ListRow._meta.db_table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"  # text format
    source = _CopySource(copy_lines(ml, rows))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, source, size=1 << 16)
    if source.error is not None:
        raise source.error


def _row_object(ml, r):
    return ListRow(
        monthly_list=ml, **{f: (r[f] if r[f] is not None else (None if f.endswith("date") else ""))
                            for f in ROW_FIELDS},
        line_number=r["line_number"], raw=r["raw"], errors=r["errors"], warnings=r["warnings"],
        identity_key=r["identity_key"], movement=r.get("movement", ""),
        continuous_months=r.get("continuous_months", 1), ada_flag=r.get("ada_flag", False),
    )


def cross_departement_warnings(ml):
    """Same person in another département's list for the same period: a warning for OFII
    only (``ofii_warnings``), added on both sides. Compared with drafts and validated lists of
    the period; a warning added to another département's row is not withdrawn if this draft
    is later replaced (OFII reads it as "check", never as a fact)."""
    other_lists = list(MonthlyList.objects.filter(
        period=ml.period, state__in=[ListState.DRAFT, ListState.VALIDATED],
    ).exclude(departement_id=ml.departement_id).values_list("pk", flat=True))
    if not other_lists:
        # The first lists of a month: nothing to compare with. Without this, PostgreSQL may
        # look up each of this list's identity keys (100,000 for a large list, just written
        # in this transaction, hence unknown to its statistics) among the other rows.
        return 0
    others = ListRow.objects.filter(monthly_list__in=other_lists).exclude(identity_key="")
    pairs = list(
        others.filter(identity_key__in=ml.rows.exclude(identity_key="").values("identity_key"))
        .values_list("id", "identity_key", "monthly_list__departement__code")
    )
    if not pairs:
        return 0
    deps_by_key = {}
    for _, key, code in pairs:
        deps_by_key.setdefault(key, set()).add(code)
    mine = list(ml.rows.filter(identity_key__in=deps_by_key).only("id", "identity_key", "ofii_warnings"))
    for row in mine:
        codes = ", ".join(sorted(deps_by_key[row.identity_key]))
        row.ofii_warnings = [w for w in row.ofii_warnings if w.get("kind") != "other_departement"] + [{
            "kind": "other_departement", "column": "", "message":
            f"même personne dans la liste du même mois d’un autre département ({codes})"}]
    theirs = list(ListRow.objects.filter(pk__in=[p[0] for p in pairs]).only("id", "ofii_warnings"))
    for row in theirs:
        message = f"même personne dans la liste du même mois d’un autre département ({ml.departement.code})"
        if not any(w.get("message") == message for w in row.ofii_warnings):
            row.ofii_warnings = row.ofii_warnings + [{"kind": "other_departement", "column": "", "message": message}]
    ListRow.objects.bulk_update(mine + theirs, ["ofii_warnings"], batch_size=2000)
    ml.report["ofii_warning_count"] = len(mine)
    return len(mine)


# --- corrections in the browser ------------------------------------------------------------

def recount(ml):
    rows = ListRow.objects.filter(monthly_list=ml)
    ml.row_count = rows.count()
    ml.error_count = rows.exclude(errors=[]).count()
    ml.warning_count = rows.exclude(warnings=[]).count()
    ml.save(update_fields=["row_count", "error_count", "warning_count"])


def _counts_changed(ml):
    """A row changed: the arrivals/departures/ADA counts of the report no longer hold
    (``derive.movement_counts`` recounts from the rows when the archive is built)."""
    if ml.report.get("counts_current"):
        ml.report["counts_current"] = False
        MonthlyList.objects.filter(pk=ml.pk).update(report=ml.report)


def _require_agent(ml, user):
    if not can_access_departement(user, Capability.SUBMIT_LIST, ml.departement):
        raise WorkflowError("Seul un agent du SIAO de ce département peut agir sur cette liste.")


def update_row(row, values, *, user, request=None):
    """Replace the raw values of one row of a draft and check it again."""
    ml = row.monthly_list
    _require_agent(ml, user)
    if ml.state != ListState.DRAFT:
        raise WorkflowError("Seule une liste en brouillon peut être corrigée ligne par ligne.")
    with_agdref = ml.report.get("with_agdref", False)
    raw = {f: values.get(f, "") for f in ("last_name", "first_name", "birth_date", "sex", "status",
                                          "shelter_address", "entry_date")}
    if with_agdref:
        raw.update(agdref=values.get("agdref", ""), nationality=values.get("nationality", ""))
    names = ml.report.get("columns") or {}
    validator = RowValidator(ml.period, column_names=names, with_agdref=with_agdref)
    result = validator.validate(row.line_number, raw)
    if result["identity_key"]:
        first = (
            ml.rows.filter(identity_key=result["identity_key"], line_number__lt=row.line_number)
            .order_by("line_number").values_list("line_number", flat=True).first()
        )
        if first:
            result["warnings"].append({"column": validator.names["last_name"], "field": "last_name",
                                       "message": f"même personne qu’à la ligne {first} (doublon dans le fichier)"})
    with transaction.atomic():
        for f in ROW_FIELDS:
            value = result[f]
            setattr(row, f, value if value is not None else (None if f.endswith("date") else ""))
        row.errors, row.warnings = result["errors"], result["warnings"]
        row.raw = kept_raw(result)
        row.identity_key = result["identity_key"]
        index = derive_mod.previous_index(derive_mod.previous_validated_list(ml))
        derive_mod.derive_rows([row], ml.period, index)
        row.save()
        recount(ml)
        _counts_changed(ml)
        record(AuditAction.LIST_CORRECTED, request=request, actor=user, obj=ml, departement=ml.departement,
               period=ml.period, line=row.line_number, remaining_errors=ml.error_count)
    return row


def delete_row(row, *, user, request=None):
    """Remove one row from a draft (e.g. a person whose status must not be transmitted)."""
    ml = row.monthly_list
    _require_agent(ml, user)
    if ml.state != ListState.DRAFT:
        raise WorkflowError("Seule une liste en brouillon peut être corrigée ligne par ligne.")
    with transaction.atomic():
        line = row.line_number
        row.delete()
        recount(ml)
        _counts_changed(ml)
        record(AuditAction.LIST_CORRECTED, request=request, actor=user, obj=ml, departement=ml.departement,
               period=ml.period, line=line, step="row_removed", remaining_errors=ml.error_count)


def start_correction(ml, *, user, reason, request=None):
    """A new draft, version n+1, copied from the validated list (which stays valid until the
    new version is validated). ``reason`` is mandatory and kept on the new version: a
    rectification (CESEDA R.744-52) is traceable version by version."""
    _require_agent(ml, user)
    if ml.state != ListState.VALIDATED:
        raise WorkflowError("Seule la version validée peut être corrigée.")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("Indiquez le motif de la correction (par exemple : rectification demandée par la personne).")
    with transaction.atomic():
        draft = MonthlyList.objects.create(
            departement=ml.departement, period=ml.period, version=_next_version(ml.departement, ml.period),
            state=ListState.DRAFT, uploaded_by=user, source_sha256=ml.source_sha256, source_format=ml.source_format,
            source_name=ml.source_name, row_count=ml.row_count, error_count=ml.error_count,
            warning_count=ml.warning_count, progress=100,
            report={**ml.report, "corrects_version": ml.version}, correction_reason=reason[:2000],
        )
        _replace_previous_drafts(draft)
        fields = ["line_number", *ROW_FIELDS, "raw", "errors", "warnings", "ofii_warnings", "identity_key",
                  "movement", "continuous_months", "ada_flag"]
        batch = []
        for values in ml.rows.values(*fields).iterator(chunk_size=5000):
            batch.append(ListRow(monthly_list=draft, **values))
            if len(batch) >= 5000:
                ListRow.objects.bulk_create(batch)
                batch = []
        ListRow.objects.bulk_create(batch)
        record(AuditAction.LIST_CORRECTED, request=request, actor=user, obj=draft, departement=ml.departement,
               period=ml.period, from_version=ml.version, step="new_version")
    return draft


# --- validation ----------------------------------------------------------------------------

def validation_recap(ml):
    """What validating ``ml`` now would send, and to whom (shown before the agent confirms).

    Recipients (article L.744-6 CESEDA, instruction II.A.4): the OFII DT competent for the
    département and OFII headquarters; headquarters alone for a département without DT."""
    dep = ml.departement
    dt = dep.dt if dep.dt_id else None
    return {
        "rows": ml.row_count, "errors": ml.error_count, "warnings": ml.warning_count,
        "ada": ml.report.get("ada_count") or 0, "version": _next_version(dep, ml.period),
        "replaces": MonthlyList.objects.filter(departement=dep, period=ml.period, state=ListState.VALIDATED).exists(),
        "late": is_late(ml.period), "deadline": deadline(ml.period), "dt": dt,
    }


def validate_list(monthly_list, user, request=None, *, system=False):
    """Validate a draft. Only a SIAO agent of the département (``system=True``: the
    ``import_list`` command run by an administrator on the server). Refused while errors remain.
    Returns the validated list; raises WorkflowError with the reason otherwise."""
    with transaction.atomic():
        ml = MonthlyList.objects.select_for_update(of=("self",)).select_related("departement").get(pk=monthly_list.pk)
        if not system:
            _require_agent(ml, user)
        if ml.state != ListState.DRAFT:
            raise WorkflowError("Seule une liste en brouillon peut être validée.")
        recount(ml)
        if ml.error_count:
            raise WorkflowError(
                f"La liste contient encore {ml.error_count} ligne(s) en erreur : corrigez-les avant de valider."
            )
        if ml.row_count == 0:
            raise WorkflowError("La liste ne contient aucune ligne.")
        previous = derive_mod.previous_validated_list(ml)
        if (previous.pk if previous else None) != ml.report.get("previous_list_id"):
            derive_mod.derive(ml)  # the previous month changed since the upload
        current = list(
            MonthlyList.objects.select_for_update()
            .filter(departement_id=ml.departement_id, period=ml.period, state=ListState.VALIDATED)
        )
        for old in current:
            old.state = ListState.SUPERSEDED
            old.save(update_fields=["state"])
        now = timezone.now()
        ml.version = _next_version(ml.departement, ml.period)
        ml.state, ml.validated_by, ml.validated_at = ListState.VALIDATED, user, now
        ml.is_late = is_late(ml.period, now)
        ml.save(update_fields=["version", "state", "validated_by", "validated_at", "is_late", "report"])
        record(AuditAction.LIST_VALIDATED, request=request, actor=user, obj=ml, departement=ml.departement,
               period=ml.period, version=ml.version, rows=ml.row_count, late=ml.is_late,
               via="import_list" if system else None)
        for old in current:
            record(AuditAction.LIST_CORRECTED, request=request, actor=user, obj=old, departement=ml.departement,
                   period=ml.period, superseded_by_version=ml.version)
        derive_mod.rederive_following(ml)
        transaction.on_commit(lambda: list_validated.send(sender=MonthlyList, monthly_list=ml))
    return ml

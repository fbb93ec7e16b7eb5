"""The AES-256 ZIP (WinZip AE-2) holding the same rows as XLSX and as CSV: the monthly list
(SIAO → OFII, instruction II.A.4) and the return flow (OFII → SIAO, II.B.3 / R744-50) both
go through ``build_archive``; only the columns and the row → values function differ.

- AE-2, forced explicitly: AE-1 stores the plaintext CRC-32, which leaks small contents.
  pyzipper 0.4.0 writes AE-2 by default; we pass ``force_wz_aes_version`` anyway so that a
  future default cannot change it, and the tests read the version back from the 0x9901 field.
- The XLSX is already a ZIP (deflated XML): stored (ZIP_STORED) rather than compressed twice.
  The CSV is deflated at level 1: on 100,000 rows 0.2 s instead of 0.8 s at level 6, for a
  CSV member of 3.5 MB instead of 2.6 MB (bench/bench_validation.py, issue 15).
- Member names carry no personal data (ZIP names are not encrypted): ``SIAO_069_2026-11_v1.csv``.
- Built in a private scratch folder of the node (``PRIVATE_STORAGE_ROOT/tmp``), then published
  whole into the shared private storage (``STORAGES["private"]``), whose backends both publish
  atomically: no half-written archive is ever visible under its final name.
"""

import contextlib
import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyzipper
from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.views.decorators.debug import sensitive_variables

from siao_ofii.privatefiles.storage import private_storage

from .passwords import generate_password
from .writers import CsvWriter, write_xlsx

AES_VERSION = pyzipper.zipfile_aes.WZ_AES_V2
CSV_COMPRESSLEVEL = 1


def base_name(departement_code, period, version, prefix="SIAO"):
    """``SIAO_069_2026-11_v1``: INSEE code on three characters (069, 02A, 971)."""
    return f"{prefix}_{departement_code.zfill(3)}_{period}_v{version}"


@dataclass
class BuiltArchive:
    name: str  # the name the private storage used
    size: int
    sha256: str
    row_count: int


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def scratch_dir():
    """This node's private scratch folder (temporary build files, never shared)."""
    path = Path(settings.PRIVATE_STORAGE_ROOT) / "tmp"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@sensitive_variables("password")
def build_archive(storage, dest, name, rows, password, *, cols, to_values, sheet_title="Liste", progress=None,
                  progress_step=5000):
    """Write the archive ``dest`` (its name in ``storage``) from ``rows``; ``to_values(row)``
    gives the exported values of one row, in the order of ``cols`` (``writers.Column``).
    ``name`` is the member base name. ``progress(rows_written)``, if given, is called every
    ``progress_step`` rows. Returns a BuiltArchive."""
    with tempfile.TemporaryDirectory(dir=scratch_dir(), prefix=".build-") as tmp:
        xlsx_path = Path(tmp) / f"{name}.xlsx"
        csv_path = Path(tmp) / f"{name}.csv"
        count = 0

        def both(csv_out):
            # One pass over the rows: the XLSX writer pulls them, each one goes to the CSV too.
            nonlocal count
            for row in rows:
                values = to_values(row)
                csv_out.append(values)
                count += 1
                if progress is not None and count % progress_step == 0:
                    progress(count)
                yield values

        csv_out = CsvWriter(csv_path, cols)
        try:
            write_xlsx(xlsx_path, cols, both(csv_out), sheet_title=sheet_title)
        finally:
            csv_out.close()
        zip_tmp = Path(tmp) / f"{name}.zip"
        with pyzipper.AESZipFile(zip_tmp, "w", compression=pyzipper.ZIP_DEFLATED,
                                 encryption=pyzipper.WZ_AES,
                                 encryption_kwargs={"nbits": 256, "force_wz_aes_version": AES_VERSION}) as zf:
            zf.setpassword(password.encode("ascii"))
            zf.write(xlsx_path, arcname=xlsx_path.name, compress_type=pyzipper.ZIP_STORED)
            zf.write(csv_path, arcname=csv_path.name, compress_type=pyzipper.ZIP_DEFLATED,
                     compresslevel=CSV_COMPRESSLEVEL)
        digest = sha256_of(zip_tmp)
        size = zip_tmp.stat().st_size
        with open(zip_tmp, "rb") as fh:
            stored = storage.save(dest, File(fh, name=zip_tmp.name))
    return BuiltArchive(name=stored, size=size, sha256=digest, row_count=count)


@sensitive_variables("password")
def build_once(source, pk, *, buildable, existing, dest, write, record):
    """The steps both archives share (the monthly list's, ``extracts.services.build_for_list``;
    the return flow's, ``returns.services.build_archive_for``): lock the source row → reuse an
    archive already recorded → delete a file a dead build left published under the final name
    → build with a new password → record it. Returns ``(archive, created)``; ``(None, False)``
    when the source is gone or not ``buildable`` (any more).

    - ``source``: the source model's queryset; ``pk`` its row.
    - ``buildable(obj)``, ``existing(obj)`` (the archive recorded, or None), ``dest(obj)`` (the
      name in the private storage).
    - ``write(obj, storage, dest, password)``: builds and publishes (``build_archive``), returns
      the BuiltArchive; ``record(obj, built, password, seconds)``: saves and audits the archive
      model (inside the transaction), returns it.

    Where the database locks rows (PostgreSQL), the source row stays locked (SELECT … FOR
    UPDATE) for the whole build: a second builder waits, then finds the archive; the archive's
    unique constraint is the last line of defence. SQLite locks the whole database for a
    writer, and a read transaction that committed writes overtook cannot become a writer: the
    archive is built outside any transaction, then recorded in a short one that checks again
    (the embedded default, where builds run one by one in one thread: siao_ofii.background).
    """
    storage = private_storage()
    if connection.features.has_select_for_update:
        with transaction.atomic():
            obj = source.select_for_update(of=("self",)).filter(pk=pk).first()
            if obj is None or not buildable(obj):
                return None, False
            found = existing(obj)
            if found is not None:
                return found, False
            return _build_and_record(obj, storage, dest(obj), write, record), True
    obj = source.filter(pk=pk).first()
    if obj is None or not buildable(obj):
        return None, False
    found = existing(obj)
    if found is not None:
        return found, False
    started = time.perf_counter()
    password = generate_password()
    built = write(obj, storage, _clear(storage, dest(obj)), password)
    try:
        with transaction.atomic():
            again = source.filter(pk=pk).first()
            found = existing(again) if again is not None and buildable(again) else None
            if again is None or not buildable(again) or found is not None:
                storage.delete(built.name)
                return found, False
            return record(obj, built, password, round(time.perf_counter() - started, 3)), True
    except Exception:
        with contextlib.suppress(DatabaseError):
            storage.delete(built.name)
        raise


def _clear(storage, rel):
    if storage.exists(rel):
        # Left by a build that died between publishing and committing (no archive names it):
        # built again, with a new password.
        storage.delete(rel)
    return rel


@sensitive_variables("password")
def _build_and_record(obj, storage, rel, write, record):
    started = time.perf_counter()
    password = generate_password()
    built = write(obj, storage, _clear(storage, rel), password)
    try:
        return record(obj, built, password, round(time.perf_counter() - started, 3))
    except Exception:
        # A failed database statement leaves the transaction unusable: its rollback then
        # removes a database-stored archive anyway.
        with contextlib.suppress(DatabaseError):
            storage.delete(built.name)
        raise

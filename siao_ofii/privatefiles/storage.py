"""The two backends of ``STORAGES["private"]`` and the accessor the code uses.

Both publish a file atomically and never overwrite one: a reader sees either nothing or the
whole file under its final name (an archive is never visible half-written), and a second save
of a name that exists gets another name (``get_available_name``), as Django's storages do.
"""

import io
import os
import tempfile

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, router, transaction
from django.utils._os import safe_makedirs
from django.utils.deconstruct import deconstructible

from .models import StoredFile, StoredFileChunk

CHUNK_SIZE = 1 << 20  # 1 MiB: small rows, and a download holds one chunk in memory at a time.


def private_storage():
    """The storage of nominative files (``settings.STORAGES["private"]``)."""
    return storages["private"]


class NoUrlMixin:
    def url(self, name):
        # Nominative files are outside any URL space: the audited views stream them.
        raise NotImplementedError("Private files have no URL: serve them through a view that checks the perimeter.")


@deconstructible(path="siao_ofii.privatefiles.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(NoUrlMixin, FileSystemStorage):
    """Local (or network-mounted) disk under ``PRIVATE_STORAGE_ROOT``: the embedded default.

    Files 0600, folders 0700. A file is written under a temporary name in its final folder,
    synced, then published with ``os.link`` (atomic, and fails if the name exists), so that
    nobody ever opens a half-written file under its final name."""

    def __init__(self, location=None, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, base_url=None, **kwargs)

    # Read from the settings at each use (not cached): tests and the benchmark move the root.
    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_STORAGE_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        safe_makedirs(directory, self.directory_permissions_mode, exist_ok=True)  # 0700 down the path
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in content.chunks():
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, self.file_permissions_mode)
            while True:
                try:
                    os.link(tmp, full_path)
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            os.unlink(tmp)
        return str(name).replace("\\", "/")


class _ChunkReader(io.RawIOBase):
    """Seekable, read-only view of a stored file; reads the chunk it needs, one at a time."""

    def __init__(self, file_id, size, chunk_size, using):
        super().__init__()
        self._file_id, self._size, self._chunk_size, self._using = file_id, size, chunk_size, using
        self._pos = 0
        self._index = None
        self._chunk = b""

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer):
        if self._pos >= self._size or not len(buffer):
            return 0
        index, offset = divmod(self._pos, self._chunk_size)
        if index != self._index:
            data = (StoredFileChunk.objects.using(self._using)
                    .filter(file_id=self._file_id, index=index).values_list("data", flat=True).first())
            if data is None:
                raise OSError(f"stored file {self._file_id}: chunk {index} missing (file deleted while read?)")
            self._index, self._chunk = index, bytes(data)
        piece = self._chunk[offset:offset + len(buffer)]
        buffer[:len(piece)] = piece
        self._pos += len(piece)
        return len(piece)


def _blocks(content, size):
    """The content cut in blocks of exactly ``size`` bytes (the last one shorter), whatever
    sizes ``content.chunks()`` yields: a position maps to chunk ``pos // size``."""
    pending = bytearray()
    for piece in content.chunks(size):
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


@deconstructible(path="siao_ofii.privatefiles.storage.DatabaseStorage")
class DatabaseStorage(NoUrlMixin, Storage):
    """Files in the database (``privatefiles.StoredFile`` + 1 MiB ``StoredFileChunk`` rows).

    With PostgreSQL, every node reaches the files and the database backup covers them. A save
    runs in one transaction (a savepoint inside the caller's): other connections see the file
    only once it is complete and committed, and a build that fails leaves nothing. Reads
    stream chunk by chunk (``open`` returns a seekable file whose size is known)."""

    def __init__(self, chunk_size=CHUNK_SIZE, using=None):
        self.chunk_size = int(chunk_size)
        self.using = using

    def _db(self, write=False):
        if self.using:
            return self.using
        return router.db_for_write(StoredFile) if write else router.db_for_read(StoredFile)

    def _files(self, write=False):
        return StoredFile.objects.using(self._db(write))

    def _open(self, name, mode="rb"):
        if mode not in ("r", "rb"):
            raise ValueError("DatabaseStorage files are read-only once saved; use save().")
        stored = self._files().filter(name=name).values("pk", "size", "chunk_size").first()
        if stored is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        raw = _ChunkReader(stored["pk"], stored["size"], stored["chunk_size"], self._db())
        return File(io.BufferedReader(raw, buffer_size=stored["chunk_size"]), name=name)

    def _save(self, name, content):
        db = self._db(write=True)
        while True:
            try:
                with transaction.atomic(using=db):
                    stored = StoredFile.objects.using(db).create(name=name, chunk_size=self.chunk_size)
                    size = 0
                    for index, block in enumerate(_blocks(content, self.chunk_size)):
                        StoredFileChunk.objects.using(db).create(file=stored, index=index, data=block)
                        size += len(block)
                    StoredFile.objects.using(db).filter(pk=stored.pk).update(size=size)
                return name
            except IntegrityError:
                # Another save of the same name committed first (the unique index made this one
                # wait for it): take another name, like FileSystemStorage does.
                if not StoredFile.objects.using(db).filter(name=name).exists():
                    raise
                name = self.get_available_name(name)

    def delete(self, name):
        # The chunks go with it (ON DELETE CASCADE, deleted without being loaded).
        self._files(write=True).filter(name=name).delete()

    def exists(self, name):
        return self._files().filter(name=name).exists()

    def size(self, name):
        size = self._files().filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        return size

    def listdir(self, path):
        prefix = str(path).strip("/")
        prefix = f"{prefix}/" if prefix else ""
        directories, files = set(), []
        for name in self._files().filter(name__startswith=prefix).values_list("name", flat=True):
            rest = name[len(prefix):]
            if "/" in rest:
                directories.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(directories), sorted(files)

    def _time(self, name, field):
        value = self._files().filter(name=name).values_list(field, flat=True).first()
        if value is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        return value

    def get_created_time(self, name):
        return self._time(name, "created_at")

    def get_modified_time(self, name):
        return self._time(name, "modified_at")

    def get_accessed_time(self, name):
        return self._time(name, "modified_at")

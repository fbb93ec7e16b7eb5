"""The private storage (STORAGES["private"], siao_ofii/privatefiles): the database backend as
the code uses it (save, open, exists, delete, size, listdir, modified time), chunking of large
files and streaming reads, atomic publication, concurrent saves of one name; the local-disk
backend; encryption at rest of uploaded lists; the choice of backend by the environment."""

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.http import FileResponse
from django.test.utils import CaptureQueriesContext

from siao_ofii.privatefiles import crypto
from siao_ofii.privatefiles.models import StoredFile, StoredFileChunk
from siao_ofii.privatefiles.storage import CHUNK_SIZE, DatabaseStorage, PrivateFileSystemStorage

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20


@pytest.fixture
def db_storage(db):
    return DatabaseStorage()


def test_database_storage_round_trip(db_storage):
    name = db_storage.save("uploads/a.csv", ContentFile(b"NOM;Prenom\r\nDUPONT;Elodie\r\n"))
    assert name == "uploads/a.csv"
    assert db_storage.exists(name) and not db_storage.exists("uploads/b.csv")
    assert db_storage.size(name) == len(b"NOM;Prenom\r\nDUPONT;Elodie\r\n") == 27
    with db_storage.open(name) as fh:
        assert fh.read() == b"NOM;Prenom\r\nDUPONT;Elodie\r\n"
    db_storage.save("extracts/2026-11/SIAO_069_2026-11_v1.zip", ContentFile(b"PK"))
    db_storage.save("extracts/2026-12/SIAO_069_2026-12_v1.zip", ContentFile(b"PK"))
    assert db_storage.listdir("uploads") == ([], ["a.csv"])
    assert db_storage.listdir("extracts") == (["2026-11", "2026-12"], [])
    assert db_storage.listdir("") == (["extracts", "uploads"], [])
    assert db_storage.get_modified_time(name).tzinfo is not None
    db_storage.delete(name)
    db_storage.delete(name)  # deleting what is gone is not an error (like FileSystemStorage)
    assert not db_storage.exists(name)
    with pytest.raises(FileNotFoundError):
        db_storage.open(name)
    with pytest.raises(FileNotFoundError):
        db_storage.size(name)
    assert StoredFileChunk.objects.filter(file__name=name).count() == 0


def test_database_storage_has_no_url_and_no_path(db_storage):
    name = db_storage.save("extracts/x.zip", ContentFile(b"PK"))
    with pytest.raises(NotImplementedError):
        db_storage.url(name)
    with pytest.raises(NotImplementedError):
        db_storage.path(name)
    with pytest.raises(ValueError):
        db_storage.open(name, "wb")


def test_same_name_gets_another_name_and_keeps_the_first(db_storage):
    first = db_storage.save("uploads/a.csv", ContentFile(b"first"))
    second = db_storage.save("uploads/a.csv", ContentFile(b"second"))
    assert first == "uploads/a.csv" and second != first and second.startswith("uploads/a_")
    assert db_storage.open(first).read() == b"first" and db_storage.open(second).read() == b"second"


class Pieces:
    """Content whose chunks() yields irregular pieces (as a network stream might), and may fail."""

    def __init__(self, sizes, fail_after=None):
        self.sizes, self.fail_after = sizes, fail_after
        self.data = b"".join(bytes([i % 251]) * size for i, size in enumerate(sizes))

    def chunks(self, chunk_size=None):
        offset = 0
        for i, size in enumerate(self.sizes):
            if self.fail_after is not None and i == self.fail_after:
                raise OSError("connexion coupée")
            yield self.data[offset:offset + size]
            offset += size


def test_large_file_is_chunked_and_read_back_by_position(db_storage):
    content = Pieces([10, MiB + 5, 700_000, 3, 900_000])  # 2.5 MiB, cut anywhere
    name = db_storage.save("extracts/big.zip", content)
    stored = StoredFile.objects.get(name=name)
    sizes = [len(bytes(d)) for d in stored.chunks.order_by("index").values_list("data", flat=True)]
    assert stored.chunk_size == CHUNK_SIZE == MiB
    assert sizes == [MiB, MiB, len(content.data) - 2 * MiB] and stored.size == len(content.data)
    with db_storage.open(name) as fh:
        assert fh.read() == content.data
        fh.seek(MiB - 3)
        assert fh.read(6) == content.data[MiB - 3:MiB + 3]  # across a chunk boundary
        fh.seek(-4, io.SEEK_END)
        assert fh.read() == content.data[-4:]


def test_reads_stream_one_chunk_at_a_time(db_storage):
    data = os.urandom(2 * MiB + 1000)
    name = db_storage.save("extracts/big.zip", ContentFile(data))
    with CaptureQueriesContext(connection) as queries:
        fh = db_storage.open(name)
        assert fh.read(10) == data[:10]
    chunk_queries = [q["sql"] for q in queries if StoredFileChunk._meta.db_table in q["sql"]]
    assert len(chunk_queries) == 1  # only the first chunk was fetched
    fh.seek(0)
    response = FileResponse(fh, as_attachment=True, filename="big.zip")
    assert int(response["Content-Length"]) == len(data)
    pieces = list(response.streaming_content)
    assert len(pieces) >= 3 and max(len(p) for p in pieces) <= MiB
    assert b"".join(pieces) == data


def test_failed_save_leaves_nothing(db_storage):
    with pytest.raises(OSError):
        db_storage.save("extracts/broken.zip", Pieces([MiB, MiB, 10], fail_after=2))
    assert not StoredFile.objects.exists() and not StoredFileChunk.objects.exists()


def _in_other_connection(fn):
    """Run ``fn`` in a thread, hence with its own database connection; return its result."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except Exception as exc:  # noqa: BLE001
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_file_is_visible_to_other_nodes_only_once_committed():
    storage = DatabaseStorage()
    with transaction.atomic():  # e.g. the archive build: file and Extract row commit together
        name = storage.save("extracts/2026-11/SIAO_069_2026-11_v1.zip", ContentFile(b"PK" * 1000))
        assert storage.exists(name)
        assert _in_other_connection(lambda: storage.exists(name)) is False
    assert _in_other_connection(lambda: storage.open(name).read()) == b"PK" * 1000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_saves_of_one_name_both_succeed_under_two_names(monkeypatch):
    storage = DatabaseStorage()
    first_inserted, results, errors, asked = threading.Event(), {}, [], []
    choose = storage.get_available_name
    monkeypatch.setattr(storage, "get_available_name", lambda name, max_length=None: asked.append(name) or choose(name, max_length))
    one, two = b"1" * (MiB + 10), b"2" * (MiB + 20)

    class Slow:
        """The first save holds its transaction open after inserting the name."""

        def chunks(self, chunk_size=None):
            first_inserted.set()
            yield one[:MiB]
            threading.Event().wait(3.0)
            yield one[MiB:]

    def save(key, content):
        try:
            results[key] = storage.save("uploads/same.csv", content)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=save, args=("a", Slow()))
    a.start()
    assert first_inserted.wait(30)
    b = threading.Thread(target=save, args=("b", ContentFile(two)))
    b.start()  # finds no committed file, inserts the same name, waits on the unique index
    a.join(60)
    b.join(60)
    assert not errors, errors
    assert results["a"] == "uploads/same.csv" and results["b"] != results["a"]
    # The second save saw no committed file, collided on the unique name, and took another:
    # one name asked by each save, plus the one after the collision.
    assert asked == ["uploads/same.csv"] * 3
    assert storage.open(results["a"]).read() == one and storage.open(results["b"]).read() == two
    assert StoredFile.objects.count() == 2


# --- the local-disk backend ---------------------------------------------------------------

def test_filesystem_storage_publishes_whole_files_only(settings):
    storage = PrivateFileSystemStorage()
    name = storage.save("extracts/2026-11/SIAO_069_2026-11_v1.zip", ContentFile(b"PK" * 10))
    folder = settings.PRIVATE_STORAGE_ROOT / "extracts" / "2026-11"
    assert sorted(p.name for p in folder.iterdir()) == ["SIAO_069_2026-11_v1.zip"]  # no .part- left
    assert (folder / "SIAO_069_2026-11_v1.zip").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o077 == 0 and folder.parent.stat().st_mode & 0o077 == 0
    again = storage.save(name, ContentFile(b"other"))
    assert again != name and storage.open(name).read() == b"PK" * 10
    with pytest.raises(NotImplementedError):
        storage.url(name)
    with pytest.raises(OSError):
        storage.save("extracts/broken.zip", Pieces([10, 10], fail_after=1))
    assert not storage.exists("extracts/broken.zip")
    assert [p for p in (settings.PRIVATE_STORAGE_ROOT / "extracts").iterdir() if p.name.startswith(".part-")] == []


def test_filesystem_storage_follows_the_private_root(settings, tmp_path):
    storage = PrivateFileSystemStorage()
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "moved"
    storage.save("uploads/a.csv", ContentFile(b"x"))
    assert (tmp_path / "moved" / "uploads" / "a.csv").read_bytes() == b"x"


def test_stale_part_files_are_purged(settings, db):
    import datetime

    from exchanges.extracts.services import remove_stale_builds

    settings.STORAGES = {**settings.STORAGES,
                         "private": {"BACKEND": "siao_ofii.privatefiles.storage.PrivateFileSystemStorage"}}
    folder = settings.PRIVATE_STORAGE_ROOT / "extracts" / "2026-11"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".part-old", folder / ".part-new"
    stale.write_bytes(b"PK")
    fresh.write_bytes(b"PK")
    now = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.timezone.utc).timestamp()
    os.utime(stale, (now - 2 * 86400,) * 2)
    os.utime(fresh, (now - 60,) * 2)
    assert remove_stale_builds(now=now) == 1
    assert not stale.exists() and fresh.exists()


# --- encryption at rest of the uploaded lists ---------------------------------------------

def test_uploads_are_encrypted_with_a_key_of_their_own(db_storage, settings):
    plain = "NOM;Prénom\r\nDUPONT;Élodie\r\n".encode("cp1252")
    name = crypto.save_encrypted("uploads/a.csv", plain)
    token = db_storage.open(name).read()
    assert plain not in token and b"DUPONT" not in token
    assert crypto.open_encrypted(name) == plain
    # Not the archive-password key itself (a derived one), and useless without the key.
    with pytest.raises(Exception):
        Fernet(settings.ARCHIVE_ENCRYPTION_KEY).decrypt(token)
    settings.ARCHIVE_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(OSError):
        crypto.open_encrypted(name)


# --- the backend chosen by the environment -------------------------------------------------

def _private_backend(**env):
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PRIVATE_STORAGE")}
    base.update(DJANGO_SETTINGS_MODULE="siao_ofii.settings", DEBUG="true", **env)
    done = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.STORAGES['private']['BACKEND'])"],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=60,
    )
    return (done.stdout.strip() or done.stderr.strip().splitlines()[-1])


def test_backend_defaults_to_database_with_postgresql_and_disk_otherwise():
    postgres = "postgres://u@127.0.0.1:5432/x"
    assert _private_backend(DATABASE_URL=postgres).endswith("DatabaseStorage")
    assert _private_backend(DATABASE_URL=postgres, PRIVATE_STORAGE="filesystem").endswith("PrivateFileSystemStorage")
    assert _private_backend().endswith("PrivateFileSystemStorage")  # make demo: SQLite
    assert "PRIVATE_STORAGE='nfs'" in _private_backend(PRIVATE_STORAGE="nfs")


# --- upgrading an installation that kept its files on the local disk -----------------------

def test_import_private_files_from_the_local_disk(db, settings):
    import hashlib

    from django.core.management import call_command

    from siao_ofii.privatefiles.storage import private_storage

    disk = PrivateFileSystemStorage()
    archive = b"PK\x03\x04" + os.urandom(3000)
    disk.save("extracts/2026-10/SIAO_069_2026-10_v1.zip", ContentFile(archive))
    disk.save("uploads/abc.csv", ContentFile(b"NOM;Prenom\r\nDUPONT;Elodie\r\n"))  # clear, as before
    disk.save("extracts/2026-10/.part-xyz", ContentFile(b"half"))
    out = io.StringIO()
    call_command("import_private_files", "--delete-source", stdout=out)
    assert "2 fichier(s) copié(s), 0 déjà présent(s)" in out.getvalue()
    target = private_storage()
    assert isinstance(target, DatabaseStorage)
    with target.open("extracts/2026-10/SIAO_069_2026-10_v1.zip") as fh:
        assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(archive).digest()
    assert b"DUPONT" not in target.open("uploads/abc.csv").read()
    assert crypto.open_encrypted("uploads/abc.csv") == b"NOM;Prenom\r\nDUPONT;Elodie\r\n"
    assert not target.exists("extracts/2026-10/.part-xyz")
    assert disk.listdir("uploads") == ([], []) and disk.listdir("extracts/2026-10") == ([], [".part-xyz"])
    out = io.StringIO()
    call_command("import_private_files", stdout=out)
    assert "0 fichier(s) copié(s)" in out.getvalue()

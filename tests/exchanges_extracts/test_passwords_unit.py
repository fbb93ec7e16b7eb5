"""Archive passwords and the archive builder's small parts, called directly, literal expectations."""

import base64
import hashlib
import stat

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from exchanges.extracts import passwords
from exchanges.extracts.archive import base_name, build_archive, sha256_of


def test_password_shape():
    for _ in range(50):
        password = passwords.generate_password()
        groups = password.split("-")
        assert len(password) == 24 and len(groups) == 5 and all(len(g) == 4 for g in groups)
        assert set(password.replace("-", "")) <= set("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789")
    assert round(passwords.ENTROPY_BITS, 1) == 115.6


def test_encrypted_at_rest_with_the_configured_key(settings):
    key = Fernet.generate_key()
    settings.ARCHIVE_ENCRYPTION_KEY = key.decode()
    token = passwords.encrypt_password("Abcd-Efgh-Jkmn-Pqrs-Tuvw")
    assert "Abcd" not in token
    assert Fernet(key).decrypt(token.encode()).decode() == "Abcd-Efgh-Jkmn-Pqrs-Tuvw"
    assert passwords.decrypt_password(token) == "Abcd-Efgh-Jkmn-Pqrs-Tuvw"


def test_no_key_in_production_is_refused(settings):
    settings.ARCHIVE_ENCRYPTION_KEY = ""
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match=r"^ARCHIVE_ENCRYPTION_KEY doit être défini dans l'environnement\.$"):
        passwords.encrypt_password("x")


def test_no_key_in_debug_derives_one_from_the_secret_key(settings):
    settings.ARCHIVE_ENCRYPTION_KEY = ""
    settings.DEBUG = True
    settings.SECRET_KEY = "s" * 50
    expected_key = base64.urlsafe_b64encode(hashlib.sha256(b"siao-ofii archive passwords:" + b"s" * 50).digest())
    token = passwords.encrypt_password("Abcd")
    assert Fernet(expected_key).decrypt(token.encode()) == b"Abcd"


def test_invalid_key_is_refused(settings):
    settings.ARCHIVE_ENCRYPTION_KEY = "pas-une-cle"
    with pytest.raises(ImproperlyConfigured, match=r"^ARCHIVE_ENCRYPTION_KEY n’est pas une clé Fernet valide \(32 octets en base64 URL\)\.$"):
        passwords.decrypt_password("x")


@pytest.mark.parametrize("code, expected", [("69", "SIAO_069_2026-11_v1"), ("2A", "SIAO_02A_2026-11_v1"),
                                             ("971", "SIAO_971_2026-11_v1"), ("1", "SIAO_001_2026-11_v1")])
def test_base_name(code, expected):
    assert base_name(code, "2026-11", 1) == expected


def test_sha256_of_reads_the_whole_file_in_chunks(tmp_path):
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 9000  # 2.3 MB: three chunks of 1 MiB
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    assert sha256_of(path, chunk=7) == hashlib.sha256(data).hexdigest()


def test_built_archive_file_mode_size_and_no_leftovers(tmp_path, settings):
    from exchanges.extracts.writers import columns
    from siao_ofii.privatefiles.storage import PrivateFileSystemStorage

    settings.PRIVATE_STORAGE_ROOT = tmp_path / "node"  # this node's scratch folder: tmp/
    storage = PrivateFileSystemStorage(location=tmp_path / "shared")
    built = build_archive(storage, "extracts/2026-11/SIAO_069_2026-11_v1.zip", "SIAO_069_2026-11_v1", [],
                          "Abcd-Efgh-Jkmn-Pqrs-Tuvw", cols=columns(False), to_values=list)
    dest = tmp_path / "shared" / "extracts" / "2026-11" / "SIAO_069_2026-11_v1.zip"
    assert built.name == "extracts/2026-11/SIAO_069_2026-11_v1.zip" and built.row_count == 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600  # personal data: owner only
    assert built.size == dest.stat().st_size
    assert built.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert [p.name for p in dest.parent.iterdir()] == ["SIAO_069_2026-11_v1.zip"]
    assert list((tmp_path / "node" / "tmp").iterdir()) == []  # the build folder is gone

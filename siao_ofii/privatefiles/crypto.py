"""Encryption at rest of the uploaded lists kept until they are processed.

The shared store (a PostgreSQL dump, a backup, a bucket) must not give the raw spreadsheet:
the bytes are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) before they are stored. The key
is derived (HKDF-SHA256, its own label) from ``ARCHIVE_ENCRYPTION_KEY``, the Fernet key that
already encrypts archive passwords and lives only in the environment: one secret to keep, two
independent keys. In DEBUG without a key, the development key is derived from SECRET_KEY.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from .storage import private_storage

UPLOADS_INFO = b"siao-ofii uploaded lists at rest v1"


def master_key():
    """``ARCHIVE_ENCRYPTION_KEY`` (a Fernet key, checked), or the DEBUG development key."""
    key = settings.ARCHIVE_ENCRYPTION_KEY
    if not key:
        if not settings.DEBUG:
            raise ImproperlyConfigured("ARCHIVE_ENCRYPTION_KEY doit être défini dans l'environnement.")
        digest = hashlib.sha256(b"siao-ofii archive passwords:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    try:
        Fernet(key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "ARCHIVE_ENCRYPTION_KEY n’est pas une clé Fernet valide (32 octets en base64 URL)."
        ) from exc
    return key.encode("ascii") if isinstance(key, str) else key


def uploads_fernet():
    secret = base64.urlsafe_b64decode(master_key())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=UPLOADS_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


def save_encrypted(name, data):
    """Store ``data`` (bytes) encrypted under ``name``; returns the name actually used."""
    return private_storage().save(name, ContentFile(uploads_fernet().encrypt(data)))


def open_encrypted(name):
    """The plain bytes stored by ``save_encrypted``. FileNotFoundError if absent; OSError if
    they cannot be decrypted (other key, altered content)."""
    with private_storage().open(name) as fh:
        token = fh.read()
    try:
        return uploads_fernet().decrypt(token)
    except InvalidToken as exc:
        raise OSError(f"{name}: contenu illisible (clé différente ou fichier altéré)") from exc

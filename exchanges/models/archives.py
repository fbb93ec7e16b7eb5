"""What every password-protected archive of the product has in common (instruction II.A.4 for
the SIAO → OFII list, II.B.3 / R744-50 for the OFII → SIAO return flow): a file served only by a view that checks the
perimeter and writes the audit log, its SHA-256, and its password encrypted at rest (see
``exchanges.extracts.passwords``), never put in a URL, an e-mail, a log line or a task argument.
The file lives in the private storage (``STORAGES["private"]``, shared by every node, outside
any URL space; see ``siao_ofii.privatefiles``).
"""

from pathlib import Path

from django.db import models


class ArchiveQuerySetMixin:
    def available(self):
        return self.filter(purged_at__isnull=True)


class EncryptedArchive(models.Model):
    file_path = models.CharField("fichier", max_length=255, blank=True,
                                 help_text="Nom dans le stockage privé (STORAGES[\"private\"]).")
    size = models.BigIntegerField("taille (octets)", default=0)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    row_count = models.PositiveIntegerField("lignes", default=0)
    password_encrypted = models.TextField("mot de passe chiffré", blank=True, editable=False)
    built_at = models.DateTimeField("produite le", auto_now_add=True)
    build_seconds = models.FloatField("durée de production (s)", default=0)
    purged_at = models.DateTimeField("supprimée le (conservation)", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def file_name(self):
        return Path(self.file_path).name if self.file_path else ""

    @property
    def is_available(self):
        return bool(self.file_path) and self.purged_at is None

    def set_password(self, password):
        from exchanges.extracts.passwords import encrypt_password

        self.password_encrypted = encrypt_password(password)

    def reveal_password(self):
        """Decrypt the password. Callers must have checked the perimeter and audited the reveal."""
        from exchanges.extracts.passwords import decrypt_password

        return decrypt_password(self.password_encrypted)

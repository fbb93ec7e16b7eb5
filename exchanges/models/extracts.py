"""Password-protected extracts (instruction II.A.4): one AES-256 ZIP per département, period
and list version, readable only by the competent DT OFII and by OFII headquarters.

The archive file lives in the private storage (``STORAGES["private"]``, shared by every node,
outside any URL space; see siao_ofii/privatefiles) and is served only by a view that checks the perimeter and writes the audit log. Its password is kept
encrypted at rest (see ``exchanges.extracts.passwords``) and is never put in a URL, an e-mail,
a log line or a task argument.
"""

from pathlib import Path

from django.db import models

from referentiel.models import Departement
from referentiel.perimeter import PerimeterQuerySet

from .lists import MonthlyList


class ExtractQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"

    def available(self):
        return self.filter(purged_at__isnull=True)


class Extract(models.Model):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="extracts")
    period = models.CharField("mois", max_length=7, db_index=True)
    version = models.PositiveSmallIntegerField("version")
    monthly_list = models.ForeignKey(MonthlyList, on_delete=models.PROTECT, related_name="extracts")
    file_path = models.CharField("fichier", max_length=255, blank=True,
                                 help_text="Nom dans le stockage privé (STORAGES[\"private\"]).")
    size = models.BigIntegerField("taille (octets)", default=0)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    row_count = models.PositiveIntegerField("lignes", default=0)
    # Changes against the previous month's validated list (counts only, never names).
    new_count = models.PositiveIntegerField("nouvelles arrivées", default=0)
    left_count = models.PositiveIntegerField("sorties depuis le mois précédent", default=0)
    ada_count = models.PositiveIntegerField("montant additionnel ADA non dû", default=0)
    with_agdref_nationality = models.BooleanField("avec AGDREF et nationalité", default=False)
    password_encrypted = models.TextField("mot de passe chiffré", blank=True, editable=False)
    built_at = models.DateTimeField("produite le", auto_now_add=True)
    build_seconds = models.FloatField("durée de production (s)", default=0)
    notified_at = models.DateTimeField("DT notifiée le", null=True, blank=True)
    purged_at = models.DateTimeField("supprimée le (conservation)", null=True, blank=True)

    objects = ExtractQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "departement__sort_key", "-version"]
        verbose_name = "archive transmise à l’OFII"
        verbose_name_plural = "archives transmises à l’OFII"
        constraints = [
            models.UniqueConstraint(fields=["departement", "period", "version"], name="unique_extract_version"),
        ]

    def __str__(self):
        return self.file_name or f"Archive {self.departement_id} {self.period} v{self.version}"

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


class LateSubmissionQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"


class LateSubmission(models.Model):
    """A département whose list was not validated when the sweep of the 10th ran."""

    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="late_submissions")
    period = models.CharField("mois", max_length=7, db_index=True)
    recorded_at = models.DateTimeField("constaté le", auto_now_add=True)
    notified_at = models.DateTimeField("signalé le", null=True, blank=True)

    objects = LateSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "departement__sort_key"]
        verbose_name = "retard de transmission"
        verbose_name_plural = "retards de transmission"
        constraints = [
            models.UniqueConstraint(fields=["departement", "period"], name="unique_late_submission"),
        ]

    def __str__(self):
        return f"Retard {self.departement.code} {self.period}"

"""Password-protected extracts (instruction II.A.4): one AES-256 ZIP per département, period
and list version, readable only by the competent DT OFII and by OFII headquarters.

File, hash and encrypted password: see ``exchanges.models.archives.EncryptedArchive``.
"""

from django.db import models

from referentiel.models import Departement
from referentiel.perimeter import PerimeterQuerySet

from .archives import ArchiveQuerySetMixin, EncryptedArchive
from .lists import MonthlyList


class ExtractQuerySet(ArchiveQuerySetMixin, PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"


class Extract(EncryptedArchive):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="extracts")
    period = models.CharField("mois", max_length=7, db_index=True)
    version = models.PositiveSmallIntegerField("version")
    monthly_list = models.ForeignKey(MonthlyList, on_delete=models.PROTECT, related_name="extracts")
    # Changes against the previous month's validated list (counts only, never names).
    new_count = models.PositiveIntegerField("nouvelles arrivées", default=0)
    left_count = models.PositiveIntegerField("sorties depuis le mois précédent", default=0)
    ada_count = models.PositiveIntegerField("montant additionnel ADA non dû", default=0)
    with_agdref_nationality = models.BooleanField("avec AGDREF et nationalité", default=False)
    notified_at = models.DateTimeField("DT notifiée le", null=True, blank=True)

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

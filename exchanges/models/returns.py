"""The return flow OFII → SIAO (instruction II.B; article R744-48 2° CESEDA).

Every month OFII extracts from the DNA the asylum seekers who refused an accommodation offer,
did not present themselves, or left it (L.744-7), and sends them, per département, to the SIAO
agents individually designated and specially habilitated by the prefect. Only the fields
R744-48 2° lists (instruction II.B.2: 1° to 5° of I, 4° to 6° of II and 5° to 8° of III of
annex 7-2) are stored: ``ReturnRow`` has one column per field and nothing else.

- ``ReturnFile``: one upload by a DT agent (their DT's départements) or headquarters (any),
  for a département and a month; processed by Celery, stored all or nothing.
- ``ReturnRow``: its rows.
- ``ReturnArchive``: the AES-256 archive of a stored file (II.B.3: "un fichier compressé au
  niveau de chaque SIAO et sécurisé par un mot de passe"), same writer, password scheme,
  audited reveal and retention as the monthly list's archive.

R744-50: these data are neither merged into the monthly list nor into its archive. The only
comparison the product makes is the SIAO agent's own cross-check page (see
``exchanges.returns.crosscheck``), computed on the fly and never stored.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from referentiel.models import Departement
from referentiel.perimeter import PerimeterQuerySet

from .archives import ArchiveQuerySetMixin, EncryptedArchive
from .lists import Sex


class ReturnState(models.TextChoices):
    PROCESSING = "processing", "En cours d’analyse"
    FAILED = "failed", "Fichier refusé"
    STORED = "stored", "Transmis"
    SUPERSEDED = "superseded", "Remplacé par un dépôt plus récent"


class ReturnFileQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"

    def stored(self):
        return self.filter(state=ReturnState.STORED)


class ReturnFile(models.Model):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="return_files")
    period = models.CharField("mois", max_length=7, help_text="AAAA-MM", db_index=True)
    version = models.PositiveSmallIntegerField("version", default=1)
    state = models.CharField("état", max_length=20, choices=ReturnState.choices, default=ReturnState.PROCESSING)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)
    stored_at = models.DateTimeField("transmis le", null=True, blank=True)
    source_sha256 = models.CharField("empreinte SHA-256 du fichier", max_length=64, blank=True)
    source_format = models.CharField("format", max_length=10, blank=True)
    source_name = models.CharField("nom du fichier", max_length=255, blank=True)
    # The uploaded file, encrypted in the private storage (uploads/) only until it has been processed.
    source_path = models.CharField(max_length=255, blank=True, editable=False)
    row_count = models.PositiveIntegerField("lignes", default=0)
    error_count = models.PositiveIntegerField("lignes en erreur", default=0)
    warning_count = models.PositiveIntegerField("lignes avec avertissement", default=0)
    progress = models.PositiveSmallIntegerField("progression (%)", default=0)
    # File-level problems (extra or missing columns), row errors (row, column, message), columns
    # read: what OFII needs to fix its extraction.
    report = models.JSONField("rapport", default=dict, blank=True)

    objects = ReturnFileQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "departement__sort_key", "-version"]
        verbose_name = "fichier du flux retour (OFII → SIAO)"
        verbose_name_plural = "fichiers du flux retour (OFII → SIAO)"
        constraints = [
            models.UniqueConstraint(fields=["departement", "period"], condition=Q(state="stored"),
                                    name="one_stored_return_file_per_departement_period"),
        ]

    def __str__(self):
        return f"Flux retour {self.departement.code} {self.period} v{self.version} ({self.get_state_display()})"


class ReturnRowQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "return_file__departement"


class ReturnRow(models.Model):
    """One asylum seeker of the return file: exactly the fields of instruction II.B.2."""

    return_file = models.ForeignKey(ReturnFile, on_delete=models.CASCADE, related_name="rows")
    line_number = models.PositiveIntegerField("ligne du fichier")
    # a) civil status (annex 7-2, I, 1° to 5°)
    birth_name = models.CharField("nom de naissance", max_length=150)
    usage_name = models.CharField("nom d’usage", max_length=150, blank=True)
    first_name = models.CharField("prénom", max_length=150)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    birth_place = models.CharField("lieu de naissance", max_length=150, blank=True)
    nationality = models.CharField("nationalité", max_length=100, blank=True)
    # b) administrative situation (annex 7-2, II, 4° to 6°)
    certificate_issued_on = models.DateField("délivrance de l’attestation de demande d’asile", null=True, blank=True)
    certificate_valid_until = models.DateField("fin de validité de l’attestation", null=True, blank=True)
    certificate_renewed_on = models.DateField("renouvellement de l’attestation", null=True, blank=True)
    certificate_withdrawn_on = models.DateField("retrait de l’attestation", null=True, blank=True)
    # c) reception conditions (annex 7-2, III, 5° to 8°)
    offer_place = models.CharField("lieu de l’hébergement proposé", max_length=300, blank=True)
    offer_type = models.CharField("typologie de l’hébergement proposé", max_length=100, blank=True)
    offer_notified_on = models.DateField("notification de l’offre", null=True, blank=True)
    accepted_on = models.DateField("acceptation", null=True, blank=True)
    non_presentation_on = models.DateField("constat de non-présentation", null=True, blank=True)
    refused_on = models.DateField("refus", null=True, blank=True)
    entry_date = models.DateField("entrée dans l’hébergement", null=True, blank=True)
    exit_date = models.DateField("sortie de l’hébergement", null=True, blank=True)
    entry_modality = models.CharField("modalités d’entrée", max_length=200, blank=True)
    exit_modality = models.CharField("modalités de sortie", max_length=200, blank=True)
    # Matching keys of the cross-check (exchanges.services.identity.person_key), never exported.
    birth_name_key = models.CharField(max_length=64, blank=True, db_index=True)
    usage_name_key = models.CharField(max_length=64, blank=True, db_index=True)

    objects = ReturnRowQuerySet.as_manager()

    class Meta:
        ordering = ["return_file", "line_number"]
        verbose_name = "ligne du flux retour"
        verbose_name_plural = "lignes du flux retour"

    def __str__(self):
        return f"Ligne {self.line_number}"


class ReturnArchiveQuerySet(ArchiveQuerySetMixin, PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"


class ReturnArchive(EncryptedArchive):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="return_archives")
    period = models.CharField("mois", max_length=7, db_index=True)
    version = models.PositiveSmallIntegerField("version")
    return_file = models.OneToOneField(ReturnFile, on_delete=models.PROTECT, related_name="archive")
    notified_at = models.DateTimeField("agents SIAO habilités notifiés le", null=True, blank=True)

    objects = ReturnArchiveQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "departement__sort_key", "-version"]
        verbose_name = "archive du flux retour (OFII → SIAO)"
        verbose_name_plural = "archives du flux retour (OFII → SIAO)"
        constraints = [
            models.UniqueConstraint(fields=["departement", "period", "version"], name="unique_return_archive_version"),
        ]

    def __str__(self):
        return self.file_name or f"Archive flux retour {self.departement_id} {self.period} v{self.version}"

"""Monthly lists sent by each SIAO (instruction II.A.3) and their rows.

A row carries the person (names, birth date, sex; AGDREF number and nationality only when an
administrator has switched them on), the status and the stay (shelter address, entry date),
as read from the uploaded file, with its errors and warnings and the facts derived from the
previous validated month.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from referentiel.models import Departement
from referentiel.perimeter import PerimeterQuerySet


class ListState(models.TextChoices):
    PROCESSING = "processing", "En cours d’analyse"
    FAILED = "failed", "Fichier refusé"
    DRAFT = "draft", "Brouillon"
    VALIDATED = "validated", "Validée"
    SUPERSEDED = "superseded", "Remplacée par une version plus récente"


class Sex(models.TextChoices):
    F = "F", "Femme"
    M = "M", "Homme"


class Status(models.TextChoices):
    DA = "DA", "Demandeur d’asile"
    REFUGIE = "REFUGIE", "Réfugié"
    PROTECTION_SUBSIDIAIRE = "PS", "Protection subsidiaire"
    # The file says "BPI" without telling refugee from subsidiary protection: still transmitted.
    BPI = "BPI", "Bénéficiaire d’une protection internationale"

    @classmethod
    def transmitted(cls, value):
        """The category transmitted to OFII: DA, or BPI for both protections."""
        return "DA" if value == cls.DA else "BPI"


class Movement(models.TextChoices):
    NEW = "new", "Nouvelle arrivée"
    PRESENT = "present", "Toujours présente"
    STATUS_CHANGED = "status_changed", "Statut modifié"


class MonthlyListQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"

    def validated(self):
        return self.filter(state=ListState.VALIDATED)


class MonthlyList(models.Model):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="monthly_lists")
    period = models.CharField("mois", max_length=7, help_text="AAAA-MM", db_index=True)
    version = models.PositiveSmallIntegerField("version", default=1)
    state = models.CharField("état", max_length=20, choices=ListState.choices, default=ListState.PROCESSING)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("déposée le", auto_now_add=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    validated_at = models.DateTimeField("validée le", null=True, blank=True)
    is_late = models.BooleanField("validée en retard", default=False)
    source_sha256 = models.CharField("empreinte SHA-256 du fichier", max_length=64, blank=True)
    source_format = models.CharField("format", max_length=10, blank=True)
    row_count = models.PositiveIntegerField("lignes", default=0)
    error_count = models.PositiveIntegerField("erreurs", default=0)
    warning_count = models.PositiveIntegerField("avertissements", default=0)
    progress = models.PositiveSmallIntegerField("progression (%)", default=0)
    # File-level problems (unreadable file, missing columns), column mapping, counts of
    # persons who left since last month… never nominative.
    report = models.JSONField("rapport", default=dict, blank=True)
    # The uploaded file, encrypted in the private storage (STORAGES["private"], shared by every
    # node) as ``uploads/<source_path>``, only until it has been processed (or, when a column
    # must be mapped by hand, until the agent has mapped it).
    # Why a validated list was corrected (a new version): mandatory, shown in the history; e.g. a
    # rectification asked by the person (right of rectification, CESEDA R.744-52).
    correction_reason = models.TextField("motif de la correction", blank=True)
    source_name = models.CharField("nom du fichier", max_length=255, blank=True)
    source_path = models.CharField(max_length=255, blank=True, editable=False)
    # Deliveries of the processing task (counted, and committed, before the file is read): a
    # file whose reading kills the worker is redelivered (acks_late + reject_on_worker_lost);
    # the third delivery marks the list failed instead (workflow.start_attempt).
    attempts = models.PositiveSmallIntegerField("tentatives de traitement", default=0, editable=False)

    objects = MonthlyListQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "departement__sort_key", "-version"]
        verbose_name = "liste mensuelle"
        verbose_name_plural = "listes mensuelles"
        constraints = [
            models.UniqueConstraint(
                fields=["departement", "period"],
                condition=Q(state="validated"),
                name="one_validated_list_per_departement_period",
            ),
            models.UniqueConstraint(
                fields=["departement", "period", "version"],
                condition=Q(state__in=["validated", "superseded"]),
                name="unique_list_version",
            ),
        ]
        indexes = [models.Index(fields=["departement", "period", "state"])]

    def __str__(self):
        return f"Liste {self.departement.code} {self.period} v{self.version} ({self.get_state_display()})"


class ListRowQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "monthly_list__departement"


class ListRow(models.Model):
    # No index of its own: the (monthly_list, line_number) index below serves it (leftmost
    # column), and every index costs at import time (COPY of 100,000 rows, issue 15).
    monthly_list = models.ForeignKey(MonthlyList, on_delete=models.CASCADE, related_name="rows", db_index=False)
    line_number = models.PositiveIntegerField("ligne du fichier")
    last_name = models.CharField("nom", max_length=150, blank=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, blank=True)
    shelter_address = models.CharField("adresse de l’hébergement", max_length=500, blank=True)
    entry_date = models.DateField("date d’entrée", null=True, blank=True)
    agdref = models.CharField("numéro AGDREF", max_length=20, blank=True)
    nationality = models.CharField("nationalité", max_length=100, blank=True)
    # The cells as read (text), so that the agent sees and fixes exactly what was sent.
    raw = models.JSONField("valeurs lues", default=dict, blank=True)
    errors = models.JSONField("erreurs", default=list, blank=True)  # [{"column": …, "message": …}]
    warnings = models.JSONField("avertissements", default=list, blank=True)
    # Warnings for OFII only (e.g. the same person in another département's list for the same
    # period): never shown in the SIAO pages, which only read ``errors`` and ``warnings``.
    ofii_warnings = models.JSONField("avertissements réservés à l’OFII", default=list, blank=True)
    # Identity across months (see exchanges.identity) and derived facts.
    # Indexed in Meta.indexes: a plain b-tree (equality and IN only; ``db_index=True`` would add
    # a second, ``varchar_pattern_ops`` index for LIKE that no query uses).
    identity_key = models.CharField(max_length=64, blank=True)
    movement = models.CharField("mouvement", max_length=20, choices=Movement.choices, blank=True)
    continuous_months = models.PositiveSmallIntegerField("mois continus en hébergement généraliste", default=1)
    ada_flag = models.BooleanField("montant additionnel de l’ADA non dû", default=False)

    objects = ListRowQuerySet.as_manager()

    class Meta:
        ordering = ["monthly_list", "line_number"]
        verbose_name = "ligne"
        indexes = [
            models.Index(fields=["monthly_list", "line_number"]),
            # Rights of access and rectification (R.744-52): siège searches a person by birth date.
            models.Index(fields=["birth_date"], name="listrow_birth_date"),
            models.Index(fields=["identity_key"], name="listrow_identity_key"),
        ]

    def __str__(self):
        return f"Ligne {self.line_number}"

    @property
    def has_errors(self):
        return bool(self.errors)

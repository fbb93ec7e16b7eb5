"""Monthly SIAO–OFII commissions (instruction I.A, I.B, II.A.5).

A ``Meeting`` is one commission of one département for one month. Its ``AgendaItem``s are
the situations examined (drawn from that month's validated list, carried over from last
month, or free items); each item may receive one ``Outcome`` (the decision for the person).
A person is followed from month to month through ``identity_key`` (see exchanges.identity):
the latest outcome of a person, if still open, comes back on the next agenda.

Every nominative queryset goes through ``referentiel.perimeter.PerimeterQuerySet``.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referentiel.models import Agent, Departement, Organisation
from referentiel.perimeter import PerimeterQuerySet


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", "Planifiée"
    CANCELLED = "cancelled", "Annulée"
    HELD = "held", "Tenue"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "lundi"
    TUESDAY = 1, "mardi"
    WEDNESDAY = 2, "mercredi"
    THURSDAY = 3, "jeudi"
    FRIDAY = 4, "vendredi"


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, "1er"
    SECOND = 2, "2e"
    THIRD = 3, "3e"
    FOURTH = 4, "4e"
    LAST = 5, "dernier"


def new_ical_uid():
    return f"{uuid.uuid4()}@siao-ofii"


class MeetingQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "departement"

    def active(self):
        return self.exclude(state=MeetingState.CANCELLED)


class Meeting(models.Model):
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="meetings")
    period = models.CharField("mois", max_length=7, db_index=True, editable=False, help_text="AAAA-MM")
    starts_at = models.DateTimeField("date et heure")
    duration_minutes = models.PositiveSmallIntegerField("durée (minutes)", default=120)
    place = models.CharField("lieu", max_length=300, blank=True)
    video_url = models.URLField("lien de visioconférence", blank=True)
    within_siao_commission = models.BooleanField("tenue au sein d’une commission SIAO existante", default=False)
    # Recurrence, stored structurally: "3e mardi du mois" = (3, 1).
    recurrence_week = models.PositiveSmallIntegerField(
        "semaine du mois", choices=WeekOfMonth.choices, null=True, blank=True
    )
    recurrence_weekday = models.PositiveSmallIntegerField("jour", choices=Weekday.choices, null=True, blank=True)
    recurrence_parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="occurrences"
    )
    invited_organisations = models.ManyToManyField(
        Organisation, verbose_name="organisations invitées", blank=True, related_name="+"
    )
    invited_agents = models.ManyToManyField(Agent, verbose_name="agents invités", blank=True, related_name="+")
    state = models.CharField("état", max_length=20, choices=MeetingState.choices, default=MeetingState.SCHEDULED)
    ical_uid = models.CharField(max_length=200, unique=True, default=new_ical_uid, editable=False)
    sequence = models.PositiveIntegerField("révision iCalendar", default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "departement__sort_key"]
        verbose_name = "commission"
        indexes = [models.Index(fields=["departement", "period"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(place="") | ~Q(video_url=""), name="meeting_place_or_video"
            ),
            models.CheckConstraint(
                condition=Q(recurrence_week__isnull=True, recurrence_weekday__isnull=True)
                | Q(recurrence_week__isnull=False, recurrence_weekday__isnull=False),
                name="meeting_recurrence_complete",
            ),
        ]

    def __str__(self):
        local = timezone.localtime(self.starts_at)
        return f"Commission {self.departement.code} du {local:%d/%m/%Y}"

    def clean(self):
        if not self.place and not self.video_url:
            raise ValidationError("Indiquez un lieu ou un lien de visioconférence (ou les deux).")
        if (self.recurrence_week is None) != (self.recurrence_weekday is None):
            raise ValidationError("Une récurrence indique la semaine du mois et le jour.")

    def save(self, *args, **kwargs):
        self.period = timezone.localtime(self.starts_at).strftime("%Y-%m")
        super().save(*args, **kwargs)

    @property
    def ends_at(self):
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)

    @property
    def recurrence_label(self):
        if self.recurrence_week is None:
            return ""
        return f"{WeekOfMonth(self.recurrence_week).label} {Weekday(self.recurrence_weekday).label} du mois"

    @property
    def is_cancelled(self):
        return self.state == MeetingState.CANCELLED


class Category(models.IntegerChoices):
    """The situations of instruction I.B."""

    WISHES_TO_APPLY = 1, "1. Souhaite demander l’asile (orientation vers la SPADA)"
    ASYLUM_SEEKER = 2, "2. Demandeur d’asile enregistré (réorientation vers le DNA)"
    BPI = 3, "3. Bénéficiaire d’une protection internationale (CPH, logement, intégration)"
    REJECTED = 4, "4. Débouté (DPAR, aide au retour, accompagnement à la régularisation)"
    FREE = 9, "Points divers"


CATEGORY_SHORT_LABELS = {
    Category.WISHES_TO_APPLY: "1. Asile à demander (SPADA)",
    Category.ASYLUM_SEEKER: "2. DA → DNA",
    Category.BPI: "3. BPI",
    Category.REJECTED: "4. Débouté",
    Category.FREE: "Divers",
}


class AgendaItemQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "meeting__departement"

    def on_agenda(self):
        return self.filter(excluded=False)


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    identity_key = models.CharField(max_length=64, blank=True, db_index=True)
    # The person's row in the list of the meeting's month (or, for a person carried over who
    # is no longer on the list, the last row known). Kept NULL for free items, and when the
    # retention purge has removed the row.
    list_row = models.ForeignKey(
        "exchanges.ListRow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    on_current_list = models.BooleanField("sur la liste du mois", default=False)
    category = models.PositiveSmallIntegerField("catégorie", choices=Category.choices)
    priority = models.IntegerField("priorité", default=0, help_text="Plus la valeur est élevée, plus le cas est prioritaire.")
    text = models.TextField("texte", blank=True)
    carried_over = models.BooleanField("reporté du mois précédent", default=False)
    carried_from = models.ForeignKey(
        "Outcome", on_delete=models.SET_NULL, null=True, blank=True, related_name="carried_to"
    )
    excluded = models.BooleanField("retiré de l’ordre du jour", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AgendaItemQuerySet.as_manager()

    class Meta:
        ordering = ["category", "-priority", "pk"]
        verbose_name = "point de l’ordre du jour"
        verbose_name_plural = "points de l’ordre du jour"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "identity_key"], condition=~Q(identity_key=""), name="one_item_per_person_per_meeting"
            ),
        ]

    def __str__(self):
        return f"Point {self.pk} ({self.meeting})"

    @property
    def is_free(self):
        return not self.identity_key

    @property
    def short_category(self):
        return CATEGORY_SHORT_LABELS[Category(self.category)]

    @property
    def current_outcome(self):
        """The outcome, or None (templates must not touch the reverse one-to-one directly)."""
        try:
            return self.outcome
        except Outcome.DoesNotExist:
            return None

    @property
    def person_label(self):
        row = self.list_row
        if row is None:
            return self.text or "Personne (ligne supprimée)"
        return f"{row.last_name} {row.first_name}".strip()


class Decision(models.TextChoices):
    DNA = "dna", "Orientation vers le DNA"
    CPH = "cph", "Orientation vers un CPH"
    SPADA = "spada", "Orientation vers la SPADA"
    DPAR = "dpar", "Orientation vers le DPAR"
    VOLUNTARY_RETURN = "voluntary_return", "Rendez-vous d’aide au retour volontaire"
    KEPT_IN_SHELTER = "kept_in_shelter", "Maintien en hébergement généraliste (détresse avérée)"
    REGULARISATION = "regularisation", "Accompagnement à la régularisation"
    OTHER = "other", "Autre"


class OutcomeState(models.TextChoices):
    OPEN = "open", "En cours"
    DONE = "done", "Réalisée"
    DROPPED = "dropped", "Abandonnée"


class OutcomeQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "agenda_item__meeting__departement"


class Outcome(models.Model):
    """The decision of one commission for one situation. Each month's review of a person makes
    a new record (``previous`` links to last month's), so that the history reads month by month."""

    agenda_item = models.OneToOneField(AgendaItem, on_delete=models.CASCADE, related_name="outcome")
    identity_key = models.CharField(max_length=64, blank=True, db_index=True)
    decision = models.CharField("décision", max_length=30, choices=Decision.choices)
    responsible_organisation = models.ForeignKey(
        Organisation, verbose_name="organisme chargé de la suite", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    due_date = models.DateField("échéance", null=True, blank=True)
    comment = models.TextField("commentaire", blank=True)
    state = models.CharField("état", max_length=10, choices=OutcomeState.choices, default=OutcomeState.OPEN)
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["agenda_item__meeting__starts_at", "pk"]
        verbose_name = "suite donnée"
        verbose_name_plural = "suites données"

    def __str__(self):
        return f"Suite {self.pk} — {self.get_decision_display()} ({self.get_state_display()})"


class MinutesFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "tableur XLSX"


class MinutesState(models.TextChoices):
    PENDING = "pending", "En cours de production"
    READY = "ready", "Prêt"
    FAILED = "failed", "Échec"


class MinutesDocumentQuerySet(PerimeterQuerySet, models.QuerySet):
    perimeter_lookup = "meeting__departement"


class MinutesDocument(models.Model):
    """The minutes of a commission as one agent asked for them, built by a Celery task (issue
    15: never in the request) and kept in the private storage. The content depends on the
    reader (nominative or counts only, minimised for prefecture staff: services/disclosure.py),
    so a document is served to the agent who asked for it only, after the perimeter is checked
    again; ``nominative`` and ``list_details`` record what it holds."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="minutes_documents")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    format = models.CharField("format", max_length=4, choices=MinutesFormat.choices)
    state = models.CharField("état", max_length=10, choices=MinutesState.choices, default=MinutesState.PENDING)
    progress = models.PositiveSmallIntegerField("progression (%)", default=0)
    nominative = models.BooleanField(default=False)
    list_details = models.BooleanField(default=False)
    file_path = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)

    objects = MinutesDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "compte rendu produit"
        verbose_name_plural = "comptes rendus produits"

    def __str__(self):
        return f"Compte rendu {self.format} de la commission {self.meeting_id} ({self.get_state_display()})"

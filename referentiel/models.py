"""Referentiel (regions, DT OFII, départements of Annex 1, organisations), agents and
their personal habilitations.

Who may see which département is decided in one place: ``referentiel.perimeter``.
"""

import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


def validate_period(value):
    from exchanges import periods

    if value and not periods.is_valid(value):
        raise ValidationError("Mois attendu au format AAAA-MM (par exemple 2026-11).")

class Region(models.Model):
    name = models.CharField("nom", max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "région"

    def __str__(self):
        return self.name


class FormerRegion(models.Model):
    """A region as it was before the 2016 reform; Annex 1 still names them."""

    name = models.CharField("nom", max_length=100, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="former_regions")

    class Meta:
        ordering = ["name"]
        verbose_name = "ancienne région"
        verbose_name_plural = "anciennes régions"

    def __str__(self):
        return self.name


class DirectionTerritoriale(models.Model):
    name = models.CharField("nom", max_length=100, unique=True)
    city = models.CharField("ville", max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = "direction territoriale de l’OFII"
        verbose_name_plural = "directions territoriales de l’OFII"

    def __str__(self):
        return self.name


class DepartementQuerySet(models.QuerySet):
    def visible_to(self, user, capability):
        from .perimeter import departement_filter

        return self.filter(departement_filter(user, capability))

    def without_dt(self):
        return self.filter(dt__isnull=True)


def departement_sort_key(code):
    """INSEE order as a string: 01…19, 2A, 2B, 21…95, then overseas."""
    if len(code) == 3:
        return "Z" + code
    return code.replace("2A", "20A").replace("2B", "20B")


class Departement(models.Model):
    code = models.CharField("code INSEE", max_length=3, unique=True)
    name = models.CharField("nom", max_length=100)
    prefecture_town = models.CharField("préfecture", max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departements")
    former_region = models.ForeignKey(
        FormerRegion, on_delete=models.PROTECT, null=True, blank=True, related_name="departements"
    )
    dt = models.ForeignKey(
        DirectionTerritoriale,
        verbose_name="DT OFII compétente",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departements",
        help_text="Sans DT, les données du département ne vont qu’au siège de l’OFII.",
    )
    first_period = models.CharField(
        "premier mois de transmission", max_length=7, blank=True, validators=[validate_period],
        help_text="AAAA-MM. Les mois antérieurs ne sont pas comptés comme manquants. Vide : date de mise en "
                  "service de la plateforme (paramètres).",
    )
    sort_key = models.CharField(max_length=5, editable=False, db_index=True)

    objects = DepartementQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key"]
        verbose_name = "département"

    def save(self, *args, **kwargs):
        self.sort_key = departement_sort_key(self.code)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def has_dt(self):
        return self.dt_id is not None


class Organisation(models.Model):
    class Kind(models.TextChoices):
        SIAO = "SIAO", "SIAO"
        DT = "DT", "Direction territoriale de l’OFII"
        SIEGE = "SIEGE", "Siège de l’OFII"
        PREFECTURE = "PREFECTURE", "Préfecture / DDETS"

    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    name = models.CharField("nom", max_length=200, unique=True)
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, null=True, blank=True)
    dt = models.ForeignKey(DirectionTerritoriale, on_delete=models.PROTECT, null=True, blank=True)
    email = models.EmailField("adresse fonctionnelle", blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "organisation"

    def __str__(self):
        return self.name


class AgentManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L’adresse e-mail est obligatoire.")
        agent = self.model(email=self.normalize_email(email).lower(), **extra)
        agent.set_password(password)
        agent.save(using=self._db)
        return agent

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class Agent(AbstractBaseUser):
    """A person who logs in. What they may see comes only from their habilitations."""

    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("créé le", default=timezone.now)

    objects = AgentManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        verbose_name = "agent"

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    # Django admin integration: only an agent with a valid administrator habilitation
    # reaches the admin, and there may do everything the admin offers.
    @property
    def is_staff(self):
        from .perimeter import Capability, has_capability

        return has_capability(self, Capability.ADMINISTER)

    @property
    def is_superuser(self):
        return False

    def has_perm(self, perm, obj=None):
        return self.is_active and self.is_staff

    def has_perms(self, perm_list, obj=None):
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label):
        return self.is_active and self.is_staff


class Role(models.TextChoices):
    SIAO = "SIAO", "Agent SIAO"
    SIAO_DNA = "SIAO_DNA", "Agent SIAO habilité par le préfet (données DNA)"
    DT = "DT", "Agent de DT OFII"
    SIEGE = "SIEGE", "Siège de l’OFII"
    PREFECTURE = "PREFECTURE", "Préfecture / DDETS"
    ADMIN = "ADMIN", "Administrateur"


DEPARTEMENT_ROLES = {Role.SIAO, Role.SIAO_DNA, Role.PREFECTURE}

# Who makes a habilitation effective (issue 10, point 4). An administrator manages accounts and
# asks; the authority the texts name approves:
# - R744-47 CESEDA: OFII staff (DT, headquarters) are designated by OFII's director general →
#   OFII headquarters (a valid SIEGE habilitation) approves DT and SIEGE habilitations;
# - R744-48 CESEDA: the SIAO staff who receive DNA data are "individuellement désignés et
#   spécialement habilités par le préfet" → a prefecture agent of that département designates them;
# - administrator and prefecture habilitations (the latter carries the prefect's power to designate)
#   need a second administrator (four-eyes).
# The approver is never the requester nor the beneficiary: an account an administrator created
# (a puppet) cannot approve its own grant, and nobody approves their own request.
APPROVER_ROLE = {
    Role.ADMIN: Role.ADMIN,
    Role.PREFECTURE: Role.ADMIN,
    Role.DT: Role.SIEGE,
    Role.SIEGE: Role.SIEGE,
    Role.SIAO_DNA: Role.PREFECTURE,
}


class HabilitationQuerySet(models.QuerySet):
    def active(self, on=None):
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on, valid_until__gte=on, revoked_at__isnull=True, agent__is_active=True,
                           approved_at__isnull=False)

    def pending(self):
        return self.filter(approved_at__isnull=True, revoked_at__isnull=True)

    def state(self, state, on=None):
        on = on or timezone.localdate()
        if state == "active":
            return self.active(on)
        if state == "pending":
            return self.pending()
        if state == "upcoming":
            return self.filter(valid_from__gt=on, revoked_at__isnull=True, approved_at__isnull=False)
        if state == "expired":
            return self.filter(valid_until__lt=on, revoked_at__isnull=True)
        if state == "revoked":
            return self.filter(revoked_at__isnull=False)
        return self


def default_valid_until():
    return timezone.localdate() + datetime.timedelta(days=365)


class Habilitation(models.Model):
    """A personal, dated, revocable authorisation: role + perimeter, granted by someone."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="habilitations")
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    departements = models.ManyToManyField(
        Departement,
        verbose_name="départements",
        blank=True,
        related_name="habilitations",
        help_text="Pour les rôles SIAO et préfecture.",
    )
    dt = models.ForeignKey(
        DirectionTerritoriale,
        verbose_name="DT OFII",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations",
        help_text="Pour le rôle agent de DT : donne accès à tous les départements de la DT.",
    )
    valid_from = models.DateField("valide à partir du", default=timezone.localdate)
    valid_until = models.DateField("valide jusqu’au", default=default_valid_until)
    granted_by = models.ForeignKey(
        Agent,
        verbose_name="accordée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations_granted",
        help_text="Vide seulement pour les habilitations créées par l’installation.",
    )
    reason = models.TextField("motif / référence de la décision")
    designated_by = models.ForeignKey(
        Agent,
        verbose_name="désignée par (préfecture)",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations_designated",
        help_text="Agent de préfecture du département qui a désigné l’agent SIAO pour les données DNA (R744-48).",
    )
    approved_by = models.ForeignKey(
        Agent,
        verbose_name="approuvée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations_approved",
    )
    approved_at = models.DateTimeField("approuvée le", null=True, blank=True,
                                       help_text="Vide : demande en attente de l’autorité compétente.")
    # Canonical perimeter ("dt:3", "dep:12,40", "national"…), for the duplicate constraint.
    perimeter_key = models.CharField(max_length=200, editable=False, default="")
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        Agent,
        verbose_name="révoquée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitations_revoked",
    )
    revocation_reason = models.TextField("motif de la révocation", blank=True)

    objects = HabilitationQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_until"]
        verbose_name = "habilitation"
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="habilitation_dates"),
            models.CheckConstraint(
                condition=Q(role="DT", dt__isnull=False) | (~Q(role="DT") & Q(dt__isnull=True)),
                name="habilitation_dt_only_for_dt_role",
            ),
            # R744-48: an effective SIAO_DNA habilitation names the prefecture agent who designated.
            models.CheckConstraint(
                condition=~Q(role="SIAO_DNA") | Q(approved_at__isnull=True) | Q(designated_by__isnull=False),
                name="habilitation_dna_designated_by_prefecture",
            ),
            # The same habilitation twice (a double-submitted form) is refused by the database; on
            # PostgreSQL an exclusion constraint also refuses overlapping periods (migration 0004).
            models.UniqueConstraint(
                fields=["agent", "role", "perimeter_key", "valid_from"],
                condition=Q(revoked_at__isnull=True),
                name="habilitation_no_duplicate",
            ),
        ]

    def __str__(self):
        return f"{self.agent} — {self.get_role_display()} ({self.perimeter_label()})"

    def clean(self):
        errors = {}
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = "La date de fin doit suivre la date de début."
        if self.role == Role.DT and not self.dt_id:
            errors["dt"] = "Une habilitation d’agent de DT désigne une DT."
        if self.role != Role.DT and self.dt_id:
            errors["dt"] = "Seule une habilitation d’agent de DT désigne une DT."
        if errors:
            raise ValidationError(errors)

    def perimeter_label(self):
        if self.role == Role.SIEGE:
            return "national"
        if self.role == Role.ADMIN:
            return "administration"
        if self.role == Role.DT:
            return str(self.dt) if self.dt_id else "?"
        codes = [d.code for d in self.departements.all()]
        return ", ".join(codes) or "aucun département"

    perimeter_label.short_description = "périmètre"

    def compute_perimeter_key(self, departements=None):
        if self.role == Role.DT:
            return f"dt:{self.dt_id}"
        if self.role not in DEPARTEMENT_ROLES:
            return "national" if self.role == Role.SIEGE else "administration"
        deps = self.departements.all() if departements is None else departements
        return "dep:" + ",".join(str(pk) for pk in sorted(d.pk for d in deps))

    @property
    def state(self):
        today = timezone.localdate()
        if self.revoked_at:
            return "revoked"
        if self.approved_at is None:
            return "pending"
        if self.valid_from > today:
            return "upcoming"
        if self.valid_until < today:
            return "expired"
        return "active"

    STATE_LABELS = {"active": "en cours", "pending": "en attente d’approbation", "upcoming": "à venir",
                    "expired": "expirée", "revoked": "révoquée"}

    def get_state_display(self):
        return self.STATE_LABELS[self.state]


class PlatformSettings(models.Model):
    """Settings an administrator changes without a code change (a single row)."""

    collect_agdref_nationality = models.BooleanField(
        "collecter le numéro AGDREF et la nationalité",
        default=False,
        help_text="À n’activer qu’une fois les formalités RGPD accomplies (instruction, II.A.3).",
    )
    retention_months = models.PositiveSmallIntegerField(
        "durée de conservation (mois)",
        default=24,
        help_text="Les archives et les lignes nominatives plus anciennes sont supprimées automatiquement.",
    )
    first_period = models.CharField(
        "premier mois de transmission sur la plateforme", max_length=7, blank=True, validators=[validate_period],
        help_text="AAAA-MM. Les mois antérieurs ne sont comptés manquants pour aucun département.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "paramètres de la plateforme"
        verbose_name_plural = "paramètres de la plateforme"

    def __str__(self):
        return "Paramètres de la plateforme"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The settings, read only: a GET never writes (issue 15, goal 3), and get_or_create
        wrote the row on the first read. Until an administrator saves them (the row is created
        on that write path, the admin), the defaults, as an unsaved row whose ``save()`` creates
        it (pk 1, see ``save``)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1, retention_months=settings.DEFAULT_RETENTION_MONTHS)

"""Machine accounts of the API (issue 14, point 2) and the stored answers of idempotent writes."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from referentiel.perimeter import Capability


class Scope(models.TextChoices):
    LIST_WRITE = "list:write", "list:write — déposer, corriger et valider la liste mensuelle"
    LIST_READ = "list:read", "list:read — lire l’état et le rapport de contrôle des listes"
    EXTRACT_READ = "extract:read", "extract:read — télécharger les archives SIAO → OFII et leur mot de passe"
    RETURN_WRITE = "return:write", "return:write — déposer le flux retour OFII → SIAO"
    RETURN_READ = "return:read", "return:read — télécharger les archives du flux retour et leur mot de passe"


# What each scope needs from the service agent's habilitation: a scope never widens it.
SCOPE_CAPABILITY = {
    Scope.LIST_WRITE: Capability.SUBMIT_LIST,
    Scope.LIST_READ: Capability.SUBMIT_LIST,
    Scope.EXTRACT_READ: Capability.READ_EXTRACT,
    Scope.RETURN_WRITE: Capability.UPLOAD_REVERSE_FLOW,
    Scope.RETURN_READ: Capability.READ_REVERSE_FLOW,
}


def default_expiry():
    return timezone.now() + datetime.timedelta(days=365)


class ApiClient(models.Model):
    """An information system (SI-SIAO, DNA-NG, a département's script) calling the API.

    It acts through ``agent``, a service account that cannot log in (unusable password, not
    reachable by OIDC) and holds ordinary habilitations: the perimeter, the granting authority
    (R744-47, R744-48) and four-eyes apply to it exactly as to a person."""

    organisation = models.ForeignKey("referentiel.Organisation", verbose_name="organisation",
                                     on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField("nom du client", max_length=150,
                            help_text="Par exemple « SI-SIAO du Rhône » ou « DNA-NG ».")
    agent = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="compte de service",
                                 on_delete=models.PROTECT, related_name="api_client", editable=False)
    token_id = models.CharField("identifiant du jeton", max_length=32, unique=True, editable=False)
    # SHA-256 of the secret part (32 random bytes): the token itself is shown once, never stored.
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField("opérations autorisées", default=list)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="créé par", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    expires_at = models.DateTimeField("expire le", default=default_expiry)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="révoqué par", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = "client de l’API"
        verbose_name_plural = "clients de l’API"

    def __str__(self):
        return f"{self.name} ({self.token_id})"

    @property
    def state(self):
        if self.revoked_at:
            return "révoqué"
        if self.expires_at <= timezone.now():
            return "expiré"
        return "actif"

    def has_scope(self, scope):
        return str(scope) in self.scopes


class IdempotentResponse(models.Model):
    """The answer given to one write of one client under one ``Idempotency-Key``: a retry gets
    the same answer and never a second list version. Holds no nominative data and no password
    (the password call is not stored, see ``views``)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 de la méthode, du chemin et du corps.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_unique_key")]

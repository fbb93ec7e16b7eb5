"""Append-only audit log.

Rows are only ever inserted: the model refuses updates and deletes, its queryset refuses bulk
updates and deletes, the admin offers neither, and on PostgreSQL a trigger rejects UPDATE and
DELETE at the database level (see the migration).
"""

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    LOGIN_SUCCESS = "login_success", "Connexion réussie"
    LOGIN_FAILURE = "login_failure", "Échec de connexion"
    LOGOUT = "logout", "Déconnexion"
    OTP_ENROLLED = "otp_enrolled", "Second facteur enregistré"
    OTP_FAILURE = "otp_failure", "Code de second facteur refusé"
    HABILITATION_REQUESTED = "habilitation_requested", "Habilitation demandée (en attente d’approbation)"
    HABILITATION_GRANTED = "habilitation_granted", "Habilitation accordée"
    HABILITATION_APPROVED = "habilitation_approved", "Habilitation approuvée"
    HABILITATION_CHANGED = "habilitation_changed", "Habilitation modifiée"
    HABILITATION_EXTENDED = "habilitation_extended", "Habilitation prolongée"
    HABILITATION_REVOKED = "habilitation_revoked", "Habilitation révoquée"
    AGENT_CHANGED = "agent_changed", "Agent créé ou modifié"
    SETTINGS_CHANGED = "settings_changed", "Paramètres modifiés"
    ADMIN_CHANGED = "admin_changed", "Modification dans l’administration"
    OTP_RESET = "otp_reset", "Second facteur réinitialisé"
    PERIMETER_DENIED = "perimeter_denied", "Accès refusé hors périmètre"
    ACCESS_DENIED = "access_denied", "Accès refusé (rôle sans ce droit)"
    NOMINATIVE_READ = "nominative_read", "Consultation de données nominatives"
    UPLOAD = "upload", "Dépôt de fichier"
    LIST_VALIDATED = "list_validated", "Liste validée"
    LIST_CORRECTED = "list_corrected", "Liste corrigée"
    DOWNLOAD = "download", "Téléchargement"
    PASSWORD_REVEAL = "password_reveal", "Affichage du mot de passe"
    ARCHIVE_BUILT = "archive_built", "Archive produite"
    RETENTION_PURGE = "retention_purge", "Purge de conservation"
    AUDIT_EXPORT = "audit_export", "Export du journal"
    MEETING_CHANGED = "meeting_changed", "Commission planifiée ou modifiée"
    OUTCOME_RECORDED = "outcome_recorded", "Suite donnée enregistrée"
    RIGHTS_SEARCH = "rights_search", "Recherche d’une personne (droit d’accès)"
    RIGHTS_EXPORT = "rights_export", "Export des données d’une personne (droit d’accès)"
    API_CLIENT_CREATED = "api_client_created", "Client de l’API créé"
    API_CLIENT_REVOKED = "api_client_revoked", "Client de l’API révoqué"
    API_CALL = "api_call", "Appel de l’API"


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Le journal d’audit ne peut pas être modifié.")

    def delete(self):
        raise AppendOnlyError("Le journal d’audit ne peut pas être effacé.")


class AuditEvent(models.Model):
    timestamp = models.DateTimeField("date", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Copied so that the entry keeps its meaning whatever happens to the account.
    actor_email = models.CharField("e-mail de l’agent", max_length=254, blank=True, db_index=True)
    action = models.CharField("action", max_length=40, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField("type d’objet", max_length=100, blank=True)
    object_id = models.CharField("identifiant", max_length=64, blank=True)
    object_repr = models.CharField("objet", max_length=255, blank=True)
    departement = models.CharField("département", max_length=3, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    user_agent = models.CharField("navigateur", max_length=255, blank=True)
    details = models.JSONField("détails", default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        verbose_name = "entrée du journal d’audit"
        verbose_name_plural = "journal d’audit"

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_email} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Le journal d’audit ne peut pas être modifié.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Le journal d’audit ne peut pas être effacé.")

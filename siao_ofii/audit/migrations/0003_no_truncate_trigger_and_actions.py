"""On PostgreSQL, refuse TRUNCATE on the audit table too (the row trigger of 0002 does not see
TRUNCATE, which empties a table without deleting rows one by one); new actions (refusals,
approvals, second-factor reset, administration changes)."""

from django.db import migrations, models

CREATE = """
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('login_success', 'Connexion réussie'), ('login_failure', 'Échec de connexion'), ('logout', 'Déconnexion'), ('otp_enrolled', 'Second facteur enregistré'), ('otp_failure', 'Code de second facteur refusé'), ('habilitation_requested', 'Habilitation demandée (en attente d’approbation)'), ('habilitation_granted', 'Habilitation accordée'), ('habilitation_approved', 'Habilitation approuvée'), ('habilitation_changed', 'Habilitation modifiée'), ('habilitation_extended', 'Habilitation prolongée'), ('habilitation_revoked', 'Habilitation révoquée'), ('agent_changed', 'Agent créé ou modifié'), ('settings_changed', 'Paramètres modifiés'), ('admin_changed', 'Modification dans l’administration'), ('otp_reset', 'Second facteur réinitialisé'), ('perimeter_denied', 'Accès refusé hors périmètre'), ('access_denied', 'Accès refusé (rôle sans ce droit)'), ('nominative_read', 'Consultation de données nominatives'), ('upload', 'Dépôt de fichier'), ('list_validated', 'Liste validée'), ('list_corrected', 'Liste corrigée'), ('download', 'Téléchargement'), ('password_reveal', 'Affichage du mot de passe'), ('archive_built', 'Archive produite'), ('retention_purge', 'Purge de conservation'), ('audit_export', 'Export du journal'), ('meeting_changed', 'Commission planifiée ou modifiée'), ('outcome_recorded', 'Suite donnée enregistrée')], db_index=True, max_length=40, verbose_name='action'),
        ),
        migrations.RunPython(forwards, backwards),
    ]

"""Granting authority and four-eyes (issue 10, points 4 and 6): who designated (SIAO_DNA,
R744-48), who approved and when; one canonical perimeter key per habilitation so that the
database refuses the same habilitation twice (partial unique constraint, and on PostgreSQL an
exclusion constraint on overlapping periods).

Existing habilitations: approved as granted, except SIAO_DNA ones, which name no designating
prefecture agent and therefore wait for the prefecture's designation (R744-48). Duplicates and
overlapping copies are revoked (the earliest one is kept)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DOUBLON = "Doublon ou chevauchement révoqué lors de la migration 0004 (une seule habilitation identique)."
EXCLUSION = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE referentiel_habilitation ADD CONSTRAINT habilitation_no_overlap EXCLUDE USING gist (
    agent_id WITH =, role WITH =, perimeter_key WITH =, daterange(valid_from, valid_until, '[]') WITH &&
) WHERE (revoked_at IS NULL);
"""


def key(hab):
    if hab.role == "DT":
        return f"dt:{hab.dt_id}"
    if hab.role in ("SIAO", "SIAO_DNA", "PREFECTURE"):
        return "dep:" + ",".join(str(pk) for pk in sorted(hab.departements.values_list("pk", flat=True)))
    return "national" if hab.role == "SIEGE" else "administration"


def forwards(apps, schema_editor):
    from django.utils import timezone

    Habilitation = apps.get_model("referentiel", "Habilitation")
    ends = {}
    for hab in Habilitation.objects.order_by("valid_from", "id"):
        hab.perimeter_key = key(hab)
        if hab.role != "SIAO_DNA":
            hab.approved_at, hab.approved_by_id = hab.created_at, hab.granted_by_id
        group = (hab.agent_id, hab.role, hab.perimeter_key)
        if hab.revoked_at is None:
            if group in ends and hab.valid_from <= ends[group]:
                hab.revoked_at, hab.revocation_reason = timezone.now(), DOUBLON
            else:
                ends[group] = max(ends.get(group, hab.valid_until), hab.valid_until)
        hab.save(update_fields=["perimeter_key", "approved_at", "approved_by", "revoked_at", "revocation_reason"])
    if schema_editor.connection.vendor == "postgresql":  # fire deferred FK checks before the ALTER TABLEs
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXCLUSION)


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE referentiel_habilitation DROP CONSTRAINT IF EXISTS habilitation_no_overlap")


class Migration(migrations.Migration):

    dependencies = [
        ('referentiel', '0003_schedule_reminders'),
    ]

    operations = [
        migrations.AddField(
            model_name='habilitation',
            name='approved_at',
            field=models.DateTimeField(blank=True, help_text='Vide : demande en attente de l’autorité compétente.', null=True, verbose_name='approuvée le'),
        ),
        migrations.AddField(
            model_name='habilitation',
            name='approved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='habilitations_approved', to=settings.AUTH_USER_MODEL, verbose_name='approuvée par'),
        ),
        migrations.AddField(
            model_name='habilitation',
            name='designated_by',
            field=models.ForeignKey(blank=True, help_text='Agent de préfecture du département qui a désigné l’agent SIAO pour les données DNA (R744-48).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='habilitations_designated', to=settings.AUTH_USER_MODEL, verbose_name='désignée par (préfecture)'),
        ),
        migrations.AddField(
            model_name='habilitation',
            name='perimeter_key',
            field=models.CharField(default='', editable=False, max_length=200),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='habilitation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('role', 'SIAO_DNA'), _negated=True), ('approved_at__isnull', True), ('designated_by__isnull', False), _connector='OR'), name='habilitation_dna_designated_by_prefecture'),
        ),
        migrations.AddConstraint(
            model_name='habilitation',
            constraint=models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('agent', 'role', 'perimeter_key', 'valid_from'), name='habilitation_no_duplicate'),
        ),
        migrations.RunPython(exclusion, drop_exclusion),
    ]

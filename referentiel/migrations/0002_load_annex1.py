from django.db import migrations


def load_annex1(apps, schema_editor):
    from referentiel import annex1

    annex1.load(apps.get_model)


class Migration(migrations.Migration):
    dependencies = [("referentiel", "0001_initial")]
    operations = [migrations.RunPython(load_annex1, migrations.RunPython.noop)]

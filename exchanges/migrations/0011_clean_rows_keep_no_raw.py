"""A row without a message keeps no copy of its cells (``workflow.kept_raw``): the rows stored
before the rule lose theirs too. The agent still sees and fixes the rows with a message from
what the file said; a clean row is edited from its checked values."""

from django.db import migrations


def forget_raw_of_clean_rows(apps, schema_editor):
    ListRow = apps.get_model("exchanges", "ListRow")
    ListRow.objects.filter(errors=[], warnings=[]).exclude(raw={}).update(raw={})


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0010_listrow_fewer_indexes")]

    operations = [migrations.RunPython(forget_raw_of_clean_rows, migrations.RunPython.noop)]

"""The table of the shared report cache (settings.CACHES["reports"], a database cache by
default), made by `migrate` so that no deployment step can forget `createcachetable`."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_exportjob")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]

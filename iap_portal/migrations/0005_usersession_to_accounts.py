"""The session model now lives in accounts (its 0001): drop it from this app's state only, so
the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("iap_portal", "0004_audit_append_only_guard"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="UserSession")],
            database_operations=[],
        ),
    ]

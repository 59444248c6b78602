"""The session table moves here from iap_portal in the migration state only: its table keeps
its name (iap_portal_usersession) and its rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("iap_portal", "0004_audit_append_only_guard"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="UserSession",
                    fields=[
                        (
                            "session_key",
                            models.CharField(
                                max_length=40,
                                primary_key=True,
                                serialize=False,
                                verbose_name="session key",
                            ),
                        ),
                        ("session_data", models.TextField(verbose_name="session data")),
                        (
                            "expire_date",
                            models.DateTimeField(db_index=True, verbose_name="expire date"),
                        ),
                        ("user_id", models.BigIntegerField(db_index=True, null=True)),
                    ],
                    options={"db_table": "iap_portal_usersession"},
                ),
            ],
            database_operations=[],
        ),
    ]

"""The session table moves here from iap_portal in the migration state only: its table keeps
its name (iap_portal_usersession) and its rows. Its content type moves along, so the
permissions that point at it stay attached and nothing stale is left behind."""

from django.db import migrations, models


def move_content_type(apps, schema_editor, source="iap_portal", target="accounts"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label=source, model="usersession"
    ).update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="accounts", target="iap_portal")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("iap_portal", "0004_audit_append_only_guard"),
        ("contenttypes", "0002_remove_content_type_name"),
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
        migrations.RunPython(move_content_type, move_content_type_back),
    ]

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Live = apps.get_model("students", "Student")
    History = apps.get_model("students", "HistoricalStudent")
    ids = {}
    for pk in Live.objects.values_list("pk", flat=True):
        ids[pk] = uuid.uuid4()
        Live.objects.filter(pk=pk).update(public_id=ids[pk])
    # History rows carry the same id as their object (a new one if the object is gone).
    for row_id, object_id in History.objects.values_list("history_id", "id"):
        History.objects.filter(history_id=row_id).update(public_id=ids.get(object_id) or uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("students", "0002_specialist_types")]

    operations = [
        migrations.AddField("student", "public_id", models.UUIDField(null=True, editable=False)),
        migrations.AddField(
            "historicalstudent", "public_id", models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            "student",
            "public_id",
            models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            "historicalstudent",
            "public_id",
            models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
    ]

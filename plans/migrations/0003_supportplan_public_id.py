import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Live = apps.get_model("plans", "SupportPlan")
    History = apps.get_model("plans", "HistoricalSupportPlan")
    ids = {}
    for pk in Live.objects.values_list("pk", flat=True):
        ids[pk] = uuid.uuid4()
        Live.objects.filter(pk=pk).update(public_id=ids[pk])
    # History rows carry the same id as their object (a new one if the object is gone).
    for row_id, object_id in History.objects.values_list("history_id", "id"):
        History.objects.filter(history_id=row_id).update(public_id=ids.get(object_id) or uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_risk_catalogue")]

    operations = [
        migrations.AddField("supportplan", "public_id", models.UUIDField(null=True, editable=False)),
        migrations.AddField(
            "historicalsupportplan", "public_id", models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            "supportplan",
            "public_id",
            models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            "historicalsupportplan",
            "public_id",
            models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
    ]

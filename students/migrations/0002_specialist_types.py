from django.db import migrations

# The programme's list of who delivers consultations; coordinators may add more.
SPECIALIST_TYPES = [
    "pedagogs",
    "psihologs",
    "sociālais pedagogs",
    "pedagoga palīgs",
    "speciālās izglītības pedagogs",
    "surdotulks",
    "asistents",
    "ergoterapeits",
]


def create_types(apps, schema_editor):
    SpecialistType = apps.get_model("students", "SpecialistType")
    for name in SPECIALIST_TYPES:
        SpecialistType.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("students", "0001_initial")]

    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]

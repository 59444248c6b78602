"""Specialist types in both languages (issue 21): an English name beside the Latvian one,
filled for the types seeded by 0002_specialist_types."""

from django.db import migrations, models

SPECIALIST_TYPES_EN = {
    "pedagogs": "teacher",
    "psihologs": "psychologist",
    "sociālais pedagogs": "social pedagogue",
    "pedagoga palīgs": "teacher's assistant",
    "speciālās izglītības pedagogs": "special education teacher",
    "surdotulks": "sign language interpreter",
    "asistents": "assistant",
    "ergoterapeits": "occupational therapist",
}


def fill_english_names(apps, schema_editor):
    """English names for the seeded types that have none (idempotent: demo/seed.py runs it)."""
    SpecialistType = apps.get_model("students", "SpecialistType")
    for latvian, english in SPECIALIST_TYPES_EN.items():
        SpecialistType.objects.filter(name=latvian, name_en="").update(name_en=english)


class Migration(migrations.Migration):
    dependencies = [("students", "0009_revision_lowering_school_only")]

    operations = [
        migrations.AddField(
            model_name="specialisttype",
            name="name_en",
            field=models.CharField(blank=True, max_length=100, verbose_name="name in English"),
        ),
        migrations.AlterField(
            model_name="specialisttype",
            name="name",
            field=models.CharField(max_length=100, unique=True, verbose_name="name in Latvian"),
        ),
        migrations.RunPython(fill_english_names, migrations.RunPython.noop),
    ]

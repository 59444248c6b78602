"""The risk catalogue in both languages (issue 21): an English name beside the Latvian one,
filled for the national catalogue as seeded (0006_risk_factor_versions). A type or factor
whose Latvian name was changed since is left without one (the agency names it)."""

from django.db import migrations, models

RISK_TYPES_EN = {
    1: ("mācību darba un izglītības iestādes riski", "learning and school-related risks"),
    2: ("ekonomiskie riski", "economic risks"),
    3: ("ar ģimeni saistītie riski", "family-related risks"),
    4: ("sociālās vides un veselības riski", "social environment and health risks"),
}

# code -> (the Latvian name as seeded, the English name)
RISK_FACTORS_EN = {
    "zemi-macibu-sasniegumi": ("zemi mācību sasniegumi", "low learning achievement"),
    "neattaisnoti-kavejumi": ("neattaisnoti kavējumi", "unexcused absences"),
    "macibu-motivacijas-trukums": ("mācību motivācijas trūkums", "lack of motivation to learn"),
    "nepatika-pret-macibam-vai-macibu-prieksmetu": (
        "nepatika pret mācībām vai mācību priekšmetu",
        "dislike of learning or of a subject",
    ),
    "zinasanu-robi": ("zināšanu robi", "gaps in knowledge"),
    "konflikti-ar-pedagogiem": ("konflikti ar pedagogiem", "conflicts with teachers"),
    "konflikti-ar-vienaudziem": ("konflikti ar vienaudžiem", "conflicts with peers"),
    "macibu-slodzes-parslodze": ("mācību slodzes pārslodze", "too heavy a study load"),
    "biezi-kavejumi": ("bieži kavējumi", "frequent absences"),
    "uzvedibas-problemas": ("uzvedības problēmas", "behaviour problems"),
    "gimenes-trucigums-vai-maznodrosinatiba": (
        "ģimenes trūcīgums vai maznodrošinātība",
        "the family's poverty or low income",
    ),
    "attalums-lidz-skolai-un-transporta-izmaksas": (
        "attālums līdz skolai un transporta izmaksas",
        "distance to school and the cost of transport",
    ),
    "velme-stradat-algotu-darbu": ("vēlme strādāt algotu darbu", "wish to take paid work"),
    "vecaki-arzemes": ("vecāki ārzemēs", "parents abroad"),
    "krize-gimene": ("krīze ģimenē", "a crisis in the family"),
    "nepietiekams-vecaku-atbalsts": ("nepietiekams vecāku atbalsts", "too little support from parents"),
    "hroniska-slimiba": ("hroniska slimība", "chronic illness"),
    "psihoemocionalas-grutibas": ("psihoemocionālas grūtības", "psycho-emotional difficulties"),
    "atstumtibas-sajuta": ("atstumtības sajūta", "feeling left out"),
    "grutnieciba": ("grūtniecība", "pregnancy"),
}


def fill_english_names(apps, schema_editor):
    """English names for the seeded types and national factors that still have their seeded
    Latvian name and no English one (idempotent: demo/seed.py runs it again)."""
    RiskType = apps.get_model("plans", "RiskType")
    RiskFactor = apps.get_model("plans", "RiskFactor")
    for number, (latvian, english) in RISK_TYPES_EN.items():
        RiskType.objects.filter(number=number, name=latvian, name_en="").update(name_en=english)
    for code, (latvian, english) in RISK_FACTORS_EN.items():
        RiskFactor.objects.filter(
            code=code, name=latvian, school__isnull=True, name_en=""
        ).update(name_en=english)


class Migration(migrations.Migration):
    dependencies = [("plans", "0010_ngo_projects")]

    operations = [
        migrations.AddField(
            model_name="riskfactor",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="Shown to users who chose English (empty: they see the Latvian name).",
                max_length=200,
                verbose_name="name in English",
            ),
        ),
        migrations.AddField(
            model_name="risktype",
            name="name_en",
            field=models.CharField(blank=True, max_length=150, verbose_name="name in English"),
        ),
        migrations.AlterField(
            model_name="riskfactor",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name in Latvian"),
        ),
        migrations.AlterField(
            model_name="risktype",
            name="name",
            field=models.CharField(max_length=150, verbose_name="name in Latvian"),
        ),
        migrations.RunPython(fill_english_names, migrations.RunPython.noop),
    ]

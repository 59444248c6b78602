from django.db import migrations

# The four official risk types of the programme, and a starting catalogue of factors under
# each (coordinators may add and retire factors).
RISK_TYPES = {
    1: (
        "mācību darba un izglītības iestādes riski",
        [
            "zemi mācību sasniegumi",
            "neattaisnoti kavējumi",
            "mācību motivācijas trūkums",
            "nepatika pret mācībām vai mācību priekšmetu",
            "zināšanu robi",
            "konflikti ar pedagogiem",
            "konflikti ar vienaudžiem",
            "mācību slodzes pārslodze",
        ],
    ),
    2: (
        "ekonomiskie riski",
        [
            "ģimenes trūcīgums vai maznodrošinātība",
            "attālums līdz skolai un transporta izmaksas",
            "vēlme strādāt algotu darbu",
        ],
    ),
    3: (
        "ar ģimeni saistītie riski",
        [
            "vecāki ārzemēs",
            "krīze ģimenē",
            "nepietiekams vecāku atbalsts",
        ],
    ),
    4: (
        "sociālās vides un veselības riski",
        [
            "hroniska slimība",
            "psihoemocionālas grūtības",
            "atstumtības sajūta",
            "grūtniecība",
        ],
    ),
}


def create_catalogue(apps, schema_editor):
    RiskType = apps.get_model("plans", "RiskType")
    RiskFactor = apps.get_model("plans", "RiskFactor")
    for number, (name, factors) in RISK_TYPES.items():
        risk_type, _ = RiskType.objects.get_or_create(number=number, defaults={"name": name})
        for factor in factors:
            RiskFactor.objects.get_or_create(risk_type=risk_type, name=factor)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]

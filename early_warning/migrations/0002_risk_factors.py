from django.db import migrations

# Risk factors the early-warning signals point to that the starting catalogue lacks
# (risk type 1, learning and school related). Frequent absences and behaviour are among the
# reasons the programme's experts named.
FACTORS = ["bieži kavējumi", "uzvedības problēmas"]


def create_factors(apps, schema_editor):
    RiskType = apps.get_model("plans", "RiskType")
    RiskFactor = apps.get_model("plans", "RiskFactor")
    risk_type = RiskType.objects.filter(number=1).first()
    if risk_type is None:
        return
    for name in FACTORS:
        RiskFactor.objects.get_or_create(risk_type=risk_type, name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("early_warning", "0001_initial"),
        ("plans", "0002_risk_catalogue"),
    ]

    operations = [migrations.RunPython(create_factors, migrations.RunPython.noop)]

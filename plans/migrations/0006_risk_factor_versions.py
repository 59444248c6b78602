"""The risk catalogue becomes national and versioned (issue 15).

Every factor gets a stable ``code``; the factors existing now become the national catalogue
(``school`` empty), since nothing records which school added one. A factor named in plans is
no longer renamed in place: a new version takes its code and the old one points to it
(``replaced_by``). The pre-fill from the early-warning signals finds factors by code.
"""

import re
import unicodedata

import django.db.models.deletion
from django.db import migrations, models

# The national catalogue as of this migration, with the code of each factor: the starting
# catalogue of 0002_risk_catalogue and the two factors early_warning's 0002_risk_factors adds.
# plans/early_signals.py refers to these codes; demo/seed.py recreates the catalogue from here.
NATIONAL_CATALOGUE = {
    1: (
        "mācību darba un izglītības iestādes riski",
        [
            ("zemi mācību sasniegumi", "zemi-macibu-sasniegumi"),
            ("neattaisnoti kavējumi", "neattaisnoti-kavejumi"),
            ("mācību motivācijas trūkums", "macibu-motivacijas-trukums"),
            (
                "nepatika pret mācībām vai mācību priekšmetu",
                "nepatika-pret-macibam-vai-macibu-prieksmetu",
            ),
            ("zināšanu robi", "zinasanu-robi"),
            ("konflikti ar pedagogiem", "konflikti-ar-pedagogiem"),
            ("konflikti ar vienaudžiem", "konflikti-ar-vienaudziem"),
            ("mācību slodzes pārslodze", "macibu-slodzes-parslodze"),
            ("bieži kavējumi", "biezi-kavejumi"),
            ("uzvedības problēmas", "uzvedibas-problemas"),
        ],
    ),
    2: (
        "ekonomiskie riski",
        [
            ("ģimenes trūcīgums vai maznodrošinātība", "gimenes-trucigums-vai-maznodrosinatiba"),
            (
                "attālums līdz skolai un transporta izmaksas",
                "attalums-lidz-skolai-un-transporta-izmaksas",
            ),
            ("vēlme strādāt algotu darbu", "velme-stradat-algotu-darbu"),
        ],
    ),
    3: (
        "ar ģimeni saistītie riski",
        [
            ("vecāki ārzemēs", "vecaki-arzemes"),
            ("krīze ģimenē", "krize-gimene"),
            ("nepietiekams vecāku atbalsts", "nepietiekams-vecaku-atbalsts"),
        ],
    ),
    4: (
        "sociālās vides un veselības riski",
        [
            ("hroniska slimība", "hroniska-slimiba"),
            ("psihoemocionālas grūtības", "psihoemocionalas-grutibas"),
            ("atstumtības sajūta", "atstumtibas-sajuta"),
            ("grūtniecība", "grutnieciba"),
        ],
    ),
}


def slug(text):
    """Django's slugify as of this migration (kept here so the codes never change)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")[:90] or "factor"


def fill_codes(apps, schema_editor):
    """Give each existing factor its catalogue code, or one made from its name (a factor a
    coordinator added); the same name twice gets -2, -3, … in the order the rows were made."""
    RiskFactor = apps.get_model("plans", "RiskFactor")
    known = {
        name: (number, code)
        for number, (_type, factors) in NATIONAL_CATALOGUE.items()
        for name, code in factors
    }
    rows = list(RiskFactor.objects.select_related("risk_type").order_by("pk"))
    taken = set()
    # The catalogue's own rows first (in their own type before a namesake in another type),
    # so each keeps the code plans/early_signals.py knows it by.
    for row in sorted(rows, key=lambda r: (r.risk_type.number != known.get(r.name, (0,))[0], r.pk)):
        if row.name in known and known[row.name][1] not in taken:
            row.code = known[row.name][1]
            taken.add(row.code)
    for row in rows:
        if row.code:
            continue
        base = code = slug(row.name)
        number = 2
        while code in taken:
            code = f"{base}-{number}"
            number += 1
        row.code = code
        taken.add(code)
    RiskFactor.objects.bulk_update(rows, ["code"])


def create_national_catalogue(apps, schema_editor):
    """The risk types and national factors, where a database lost them (demo/seed.py; not run
    by this migration): a code that exists in any version is left as it is."""
    RiskType = apps.get_model("plans", "RiskType")
    RiskFactor = apps.get_model("plans", "RiskFactor")
    existing = set(RiskFactor.objects.values_list("code", flat=True))
    for number, (type_name, factors) in NATIONAL_CATALOGUE.items():
        risk_type, _ = RiskType.objects.get_or_create(number=number, defaults={"name": type_name})
        for name, code in factors:
            if code not in existing:
                RiskFactor.objects.create(risk_type=risk_type, name=name, code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0005_measure_approved_figures"),
        ("students", "0004_claims_fall_back_to_coordinator"),
        # Its factors must exist before the codes are given.
        ("early_warning", "0002_risk_factors"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="riskfactor", name="riskfactor_unique_name"),
        migrations.AddField(
            model_name="riskfactor",
            name="code",
            field=models.SlugField(default="", editable=False, max_length=100, verbose_name="code"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="riskfactor",
            name="replaced_by",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replaces",
                to="plans.riskfactor",
                verbose_name="replaced by",
            ),
        ),
        migrations.AddField(
            model_name="riskfactor",
            name="school",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for the national catalogue.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="students.school",
                verbose_name="school",
            ),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="riskfactor",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaced_by__isnull", True), ("school__isnull", True)),
                fields=("risk_type", "name"),
                name="riskfactor_unique_national_name",
            ),
        ),
        migrations.AddConstraint(
            model_name="riskfactor",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaced_by__isnull", True), ("school__isnull", False)),
                fields=("school", "risk_type", "name"),
                name="riskfactor_unique_school_name",
            ),
        ),
        migrations.AddConstraint(
            model_name="riskfactor",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)),
                fields=("code",),
                name="riskfactor_one_active_per_code",
            ),
        ),
        migrations.AddConstraint(
            model_name="riskfactor",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("replaced_by__isnull", True), ("is_active", False), _connector="OR"
                ),
                name="riskfactor_replaced_not_in_use",
            ),
        ),
        migrations.AddConstraint(
            model_name="riskfactor",
            constraint=models.CheckConstraint(
                condition=models.Q(("code", ""), _negated=True), name="riskfactor_has_code"
            ),
        ),
    ]

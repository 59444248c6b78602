"""Participation in the programme, computed in the database.

A pupil counts in a semester when a plan of that semester was approved at least once and is
not deleted (inactive); a pupil with several plans counts once. Every figure comes from a
grouped, filtered aggregate, so the number of queries does not grow with the data.

The figures are computed as a *system* (``Figures``): values under keys
``(measure, semester_id, unit, label)``, where the unit is ``ALL`` (the whole scope),
``("m", municipality_id)`` or ``("s", school_id)``. A school's own report is one unit (its
school) and shows every figure exactly. Above school level one system holds the whole country —
every municipality and school, every semester — so that ``suppression.protect`` hides the same
figures in every scope a user can open (the country, each municipality) and in every format:
the tables below only read the system's decision.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from compensations.models import CompensationClaim, money_sums
from early_warning.indicators import FLAGGED
from early_warning.models import Indicator
from iap_portal import suppression
from iap_portal.i18n import shown
from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    SupportMeasure,
    SupportPlan,
)
from students.models import School, Student

SMALL = suppression.SMALL
ALL = "all"
SMALL_MARK = "<3"  # a figure of one or two pupils
HIDDEN_MARK = "x"  # hidden so that a "<3" cannot be worked out by subtraction

# The figures that follow another figure's pupil count: (measure, basis measure).
FOLLOWS = {
    "planned_hours": "measure",
    "delivered_hours": "measure",
    "comp_planned": "comp_pupils",
    "comp_claimed": "comp_pupils",
    "comp_approved": "comp_pupils",
    "comp_paid": "comp_pupils",
}
# Figures whose rows together make up the scope's pupils (each pupil is in exactly one row).
PARTITIONS = ("grade", "gender")
# Figures kept per school above the school besides its pupils (fidelity: consultations per
# school and specialist type); a municipality's is the sum of its schools'.
SCHOOL_PARTS = ("measure", "planned_hours", "delivered_hours")


def counted(schools, semester=None, prefix=""):
    """The condition "a counted plan" on the plan reached through ``prefix`` ("plan__", …).

    Written as a plain join condition rather than ``plan__in=<plans>``: the planner then joins
    straight through the small set of one semester's plans. ``schools=None`` means every school
    (the agency's scope), with no school condition at all."""
    condition = Q(**{f"{prefix}first_approved_at__isnull": False}) & ~Q(
        **{f"{prefix}status": PlanStatus.INACTIVE}
    )
    if schools is not None:
        condition &= Q(**{f"{prefix}school__in": schools})
    if semester is not None:
        condition &= Q(**{f"{prefix}semester": semester})
    return condition


def counted_plans(schools):
    """Plans approved at least once and not deleted; ``schools=None`` for all schools."""
    return SupportPlan.objects.filter(counted(schools))


# --- Cells and tables -----------------------------------------------------------------------


@dataclass
class Cell:
    """A published figure: its value, or a mark where it is hidden."""

    value: int | Decimal
    mark: str = ""

    @property
    def hidden(self):
        return bool(self.mark)

    def __str__(self):
        return self.mark or str(self.value)

    def export(self):
        """What a file shows: the mark as text (never a number), or the value."""
        return self.mark or self.value


# Each table's sheet in the XLSX: short names, so that none is cut mid-word.
SHEETS = {
    "semesters": pgettext_lazy("sheet", "Participation"),
    "share": pgettext_lazy("sheet", "Flagged and plans"),
    "schools": pgettext_lazy("sheet", "Schools"),
    "municipalities": pgettext_lazy("sheet", "Municipalities"),
    "grades": pgettext_lazy("sheet", "Grades"),
    "genders": pgettext_lazy("sheet", "Gender"),
    "risks": pgettext_lazy("sheet", "Risk types"),
    "risk_semesters": pgettext_lazy("sheet", "Risk types by semester"),
    "fidelity": pgettext_lazy("sheet", "Fidelity by school"),
    "fidelity_municipalities": pgettext_lazy("sheet", "Fidelity by municipality"),
    "measures": pgettext_lazy("sheet", "Measures"),
    "money": pgettext_lazy("sheet", "Compensations"),
    "outcomes": pgettext_lazy("sheet", "Outcomes"),
    "ngo_projects": pgettext_lazy("sheet", "NGO projects"),
    "low_delivery": pgettext_lazy("sheet", "Low delivery"),
}


@dataclass
class Table:
    title: str
    columns: list
    rows: list = field(default_factory=list)  # each: list of str / Cell / Decimal
    key: str = ""  # what the table is, whatever the language (its chart finds it by this)

    @property
    def sheet(self):
        """A short name for its XLSX sheet (Excel allows 31 characters)."""
        return SHEETS.get(self.key, self.title)

    def export_rows(self):
        yield [str(c) for c in self.columns]
        for row in self.rows:
            yield [c.export() if isinstance(c, Cell) else c for c in row]


def year_label(start_year):
    return f"{start_year}/{start_year + 1}"


# --- The system of figures ------------------------------------------------------------------


@dataclass
class Figures:
    """Figures under keys (measure, semester_id, unit, label), and which are hidden."""

    values: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)  # ("semester", id) -> (start_year, number), …
    hidden: set = field(default_factory=set)

    def add(self, measure, semester_id, unit, label, value):
        if value:
            self.values[(measure, semester_id, unit, label)] = value
            self.__dict__.pop("_index", None)

    def basis(self, key):
        measure, semester_id, unit, label = key
        if measure in FOLLOWS:
            return (FOLLOWS[measure], semester_id, unit, label)
        return key

    def cell(self, measure, semester_id, unit, label=None, zero=0):
        key = (measure, semester_id, unit, label)
        value = self.values.get(key, zero)
        # A row's money and hours are hidden with its pupils, a zero among them too.
        if key not in self.hidden and self.basis(key) not in self.hidden:
            return Cell(value)
        pupils = self.values.get(self.basis(key), 0)
        return Cell(value, SMALL_MARK if 0 < pupils < SMALL else HIDDEN_MARK)

    def labels_of(self, measure, semester_id, unit=None):
        """The labels (rows) of one measure, semester and unit; ``unit=None``: every unit,
        as (unit, label) pairs."""
        index = self.__dict__.get("_index")
        if index is None:  # built once per process and kept figures, not stored with them
            index = defaultdict(list)
            for m, sid, u, label in self.values:
                index[(m, sid, u)].append(label)
                index[(m, sid, None)].append((u, label))
            self.__dict__["_index"] = index
        return index.get((measure, semester_id, unit), [])

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_index", None)
        return state

    def relations(self, schools_of):
        """The sums a reader can form: the country of its municipalities, a municipality of
        its schools (``schools_of``: {municipality_id: [school_id]}), and a scope's pupils of
        its grades and of its genders."""
        by_measure = defaultdict(lambda: defaultdict(list))  # (measure, sem, label) -> units
        for measure, semester_id, unit, label in self.values:
            if unit != ALL and unit[0] == "m":
                by_measure[(measure, semester_id, label)][ALL].append(unit)
        relations = []
        for (measure, semester_id, label), units in by_measure.items():
            total = (measure, semester_id, ALL, label)
            relations.append((total, [(measure, semester_id, unit, label) for unit in units[ALL]]))
        municipality_of = {
            pk: municipality_id
            for municipality_id, school_ids in schools_of.items()
            for pk in school_ids
        }
        per_school = {
            (measure, semester_id, municipality_of[unit[1]], label)
            for measure, semester_id, unit, label in self.values
            if measure in SCHOOL_PARTS and unit != ALL and unit[0] == "s"
        }
        for measure, semester_id, municipality_id, label in per_school:
            schools = schools_of[municipality_id]
            relations.append(
                (
                    (measure, semester_id, ("m", municipality_id), label),
                    [(measure, semester_id, ("s", pk), label) for pk in schools],
                )
            )
        semesters = {k[1] for k in self.values if k[0] == "pupils"}
        for semester_id in semesters:
            for municipality_id, school_ids in schools_of.items():
                relations.append(
                    (
                        ("pupils", semester_id, ("m", municipality_id), None),
                        [("pupils", semester_id, ("s", pk), None) for pk in school_ids],
                    )
                )
            for unit, _label in self.labels_of("pupils", semester_id):
                if unit != ALL and unit[0] == "s":
                    continue
                for measure in PARTITIONS:
                    relations.append(
                        (
                            ("pupils", semester_id, unit, None),
                            [
                                (measure, semester_id, unit, label)
                                for label in self.labels_of(measure, semester_id, unit)
                            ],
                        )
                    )
        return relations

    def protect(self, schools_of):
        bases = {k: self.basis(k) for k in self.values if k[0] in FOLLOWS}
        self.hidden = suppression.protect(self.values, self.relations(schools_of), bases)
        return self


def _units(levels, prefix):
    """(unit field or None, unit kind) per level: the scope as a whole, each municipality,
    each school."""
    fields = {
        ALL: (None, None),
        "municipality": (f"{prefix}school__municipality_id", "m"),
        "school": (f"{prefix}school_id", "s"),
    }
    return [fields[level] for level in levels]


def _grouped(queryset, levels, prefix, fields, annotations):
    """Rows of ``queryset`` grouped by ``fields`` once per level, each with its unit."""
    for unit_field, kind in _units(levels, prefix):
        group = ([unit_field] if unit_field else []) + list(fields)
        for row in queryset.order_by().values(*group).annotate(**annotations).order_by():
            yield (ALL if unit_field is None else (kind, row[unit_field])), row


def _summed(queryset, levels, prefix, fields, annotations):
    """Like ``_grouped`` for sums only: the scope's sums are added up from the municipalities'
    rather than queried again (a sum, unlike a count of distinct pupils, adds up)."""
    if not (ALL in levels and "municipality" in levels):
        yield from _grouped(queryset, levels, prefix, fields, annotations)
        return
    totals = {}
    for unit, row in _grouped(
        queryset, [lvl for lvl in levels if lvl != ALL], prefix, fields, annotations
    ):
        yield unit, row
        if unit[0] == "m":
            key = tuple(row[f] for f in fields)
            total = totals.setdefault(key, {**dict(zip(fields, key, strict=True))})
            for name in annotations:
                total[name] = (total.get(name) or 0) + (row[name] or 0)
    for total in totals.values():
        yield ALL, total


def pupil_figures(schools, levels=(ALL,)):
    """Every semester's pupils, by grade, by gender and by risk type, and the early warning's
    flagged pupils with and without a plan (one query per figure and level)."""
    figures = Figures()
    plans = SupportPlan.objects.filter(counted(schools))
    pupils = {"pupils": Count("student_id", distinct=True)}
    for unit, row in _grouped(
        plans,
        levels,
        "",
        ["semester_id", "semester__school_year__start_year", "semester__number"],
        pupils,
    ):
        figures.labels[("semester", row["semester_id"])] = (
            row["semester__school_year__start_year"],
            row["semester__number"],
        )
        figures.add("pupils", row["semester_id"], unit, None, row["pupils"])
    partitions = [lvl for lvl in levels if lvl != "school"]
    grades = plans.annotate(
        year_class=FilteredRelation(
            "student__enrollments",
            condition=Q(student__enrollments__school_year=F("semester__school_year")),
        )
    )
    for unit, row in _grouped(
        grades, partitions, "", ["semester_id", "year_class__class_group__grade"], pupils
    ):
        figures.add(
            "grade", row["semester_id"], unit, row["year_class__class_group__grade"], row["pupils"]
        )
    for unit, row in _grouped(plans, partitions, "", ["semester_id", "student__gender"], pupils):
        figures.add("gender", row["semester_id"], unit, row["student__gender"], row["pupils"])
    # Pupils per risk type in every semester: the programme's headline series, and the chosen
    # semester's "By risk type" table reads the same figures (one source, one decision).
    for unit, row in _grouped(
        PlanRisk.objects.filter(counted(schools, prefix="plan__")),
        partitions,
        "plan__",
        [
            "plan__semester_id",
            "risk_factor__risk_type__number",
            "risk_factor__risk_type__name",
            "risk_factor__risk_type__name_en",
        ],
        {"pupils": Count("plan__student_id", distinct=True)},
    ):
        number = row["risk_factor__risk_type__number"]
        # Both names: the snapshot is kept for readers of either language.
        english = row["risk_factor__risk_type__name_en"]
        figures.labels[("risk", number)] = (
            f"{number}. {row['risk_factor__risk_type__name']}",
            f"{number}. {english}" if english else "",
        )
        figures.add("risk", row["plan__semester_id"], unit, number, row["pupils"])

    indicators = Indicator.objects.filter(level__gte=FLAGGED)
    if schools is not None:
        indicators = indicators.filter(period__school__in=schools)
    has_plan = Exists(
        counted_plans(schools).filter(
            student=OuterRef("student"), semester=OuterRef("period__semester")
        )
    )
    for unit, row in _grouped(
        indicators.annotate(has_plan=has_plan),
        partitions,
        "period__",
        [
            "period__semester_id",
            "period__semester__school_year__start_year",
            "period__semester__number",
        ],
        {
            "flagged": Count("student_id", distinct=True),
            "with_plan": Count("student_id", distinct=True, filter=Q(has_plan=True)),
        },
    ):
        semester_id = row["period__semester_id"]
        figures.labels[("semester", semester_id)] = (
            row["period__semester__school_year__start_year"],
            row["period__semester__number"],
        )
        figures.add("flagged", semester_id, unit, None, row["flagged"])
        figures.add("with_plan", semester_id, unit, None, row["with_plan"])
        figures.labels.setdefault(("flagged_semesters", unit), set()).add(semester_id)
    return figures


def semester_figures(schools, semester, levels=(ALL,)):
    """One semester's measures with their hours, compensations with their
    money, and evaluation outcomes (one query per figure and level; the delivered minutes and
    the claims' money are summed up from the municipalities)."""
    figures = Figures()
    sid = semester.pk
    pupils = Count("plan__student_id", distinct=True)
    measures = SupportMeasure.objects.filter(counted(schools, semester, "plan__"))
    for unit, row in _grouped(
        measures,
        levels,
        "plan__",
        ["measure_type", "specialist_type_id", "specialist_type__name", "specialist_type__name_en"],
        {"pupils": pupils, "planned": Sum("planned_hours")},
    ):
        label = (row["measure_type"], row["specialist_type_id"])
        figures.labels[("specialist", row["specialist_type_id"])] = (
            row["specialist_type__name"] or "",
            row["specialist_type__name_en"] or "",
        )
        figures.add("measure", sid, unit, label, row["pupils"])
        if row["measure_type"] == SupportMeasure.Type.CONSULTATION:
            figures.add("planned_hours", sid, unit, label, row["planned"])
    # Pupils per youth NGO project (measures from before the register name none).
    for unit, row in _grouped(
        measures.filter(measure_type=SupportMeasure.Type.NGO_PROJECT, ngo_project__isnull=False),
        levels,
        "plan__",
        [
            "ngo_project_id",
            "ngo_project__title",
            "ngo_project__municipality__name",
            "ngo_project__budget",
        ],
        {"pupils": pupils},
    ):
        # Named with its municipality: two municipalities' projects may share a title.
        figures.labels[("ngo_project", row["ngo_project_id"])] = (
            f"{row['ngo_project__title']} ({row['ngo_project__municipality__name']})"
        )
        # The project's budget is the register's (public money, no pupil in it).
        figures.labels[("ngo_budget", row["ngo_project_id"])] = row["ngo_project__budget"]
        figures.add("ngo_project", sid, unit, row["ngo_project_id"], row["pupils"])
    for unit, row in _summed(
        Consultation.objects.filter(counted(schools, semester, "measure__plan__")),
        levels,
        "measure__plan__",
        ["measure__measure_type", "measure__specialist_type_id"],
        {"minutes": Sum("minutes")},
    ):
        label = (row["measure__measure_type"], row["measure__specialist_type_id"])
        if row["measure__measure_type"] == SupportMeasure.Type.CONSULTATION:
            hours = (Decimal(row["minutes"] or 0) / 60).quantize(Decimal("0.1"))
            figures.add("delivered_hours", sid, unit, label, hours)

    for unit, row in _grouped(
        measures.filter(measure_type=SupportMeasure.Type.COMPENSATION),
        levels,
        "plan__",
        ["compensation_category"],
        {"pupils": pupils, "planned": Sum("planned_amount")},
    ):
        category = row["compensation_category"]
        figures.add("comp_pupils", sid, unit, category, row["pupils"])
        figures.add("comp_planned", sid, unit, category, row["planned"])
    for unit, row in _summed(
        CompensationClaim.objects.filter(counted(schools, semester, "plan__")),
        levels,
        "plan__",
        ["measure__compensation_category"],
        money_sums(),
    ):
        category = row["measure__compensation_category"]
        for name in ("claimed", "approved", "paid"):
            figures.add(f"comp_{name}", sid, unit, category, row[name])

    for unit, row in _grouped(
        PlanEvaluation.objects.filter(counted(schools, semester, "plan__")),
        levels,
        "plan__",
        ["overall_outcome"],
        {"pupils": pupils},
    ):
        figures.add("outcome", sid, unit, row["overall_outcome"], row["pupils"])
    return figures


# --- The whole country, protected -----------------------------------------------------------


def school_directory():
    """Every school with its municipality (one query): what the per-school tables name."""
    return {
        row["pk"]: (row["municipality_id"], row["municipality__name"], row["name"])
        for row in School.objects.values("pk", "name", "municipality_id", "municipality__name")
    }


def _schools_of(directory):
    schools_of = defaultdict(list)
    for pk, (municipality_id, _m, _n) in directory.items():
        schools_of[municipality_id].append(pk)
    return schools_of


def national_pupil_figures(directory):
    """Every semester's pupil figures for the country, each municipality and each school,
    with the hidden ones decided together."""
    figures = pupil_figures(None, levels=(ALL, "municipality", "school"))
    return figures.protect(_schools_of(directory))


def school_fidelity_figures(figures, semester):
    """Adds each school's consultations of the semester to ``figures``: pupils, planned and
    delivered hours per specialist type (two queries), for fidelity per school above the
    school."""
    sid = semester.pk
    consultations = SupportMeasure.objects.filter(
        counted(None, semester, "plan__"), measure_type=SupportMeasure.Type.CONSULTATION
    )
    for unit, row in _grouped(
        consultations,
        ["school"],
        "plan__",
        ["specialist_type_id", "specialist_type__name"],
        {"pupils": Count("plan__student_id", distinct=True), "planned": Sum("planned_hours")},
    ):
        label = (SupportMeasure.Type.CONSULTATION.value, row["specialist_type_id"])
        figures.labels[("specialist", row["specialist_type_id"])] = (
            row["specialist_type__name"] or ""
        )
        figures.add("measure", sid, unit, label, row["pupils"])
        figures.add("planned_hours", sid, unit, label, row["planned"])
    for unit, row in _grouped(
        Consultation.objects.filter(
            counted(None, semester, "measure__plan__"),
            measure__measure_type=SupportMeasure.Type.CONSULTATION,
        ),
        ["school"],
        "measure__plan__",
        ["measure__specialist_type_id"],
        {"minutes": Sum("minutes")},
    ):
        label = (SupportMeasure.Type.CONSULTATION.value, row["measure__specialist_type_id"])
        hours = (Decimal(row["minutes"] or 0) / 60).quantize(Decimal("0.1"))
        figures.add("delivered_hours", sid, unit, label, hours)
    return figures


def national_semester_figures(semester, directory):
    figures = semester_figures(None, semester, levels=(ALL, "municipality"))
    school_fidelity_figures(figures, semester)
    return figures.protect(_schools_of(directory))


# --- Tables of one scope --------------------------------------------------------------------


def semester_table(figures, unit=ALL):
    """School years as rows, semesters I and II as columns: distinct pupils."""
    by_year = defaultdict(dict)
    for key in figures.values:
        if key[0] == "pupils" and key[2] == unit:
            year, number = figures.labels[("semester", key[1])]
            by_year[year][number] = key[1]
    table = Table(
        key="semesters",
        title=_("Pupils in the programme"),
        columns=[_("School year"), _("Semester I"), _("Semester II")],
    )
    for year in sorted(by_year):
        table.rows.append(
            [
                year_label(year),
                *(figures.cell("pupils", by_year[year].get(n), unit) for n in (1, 2)),
            ]
        )
    return table


def risk_semester_table(figures, unit=ALL):
    """Semesters as rows (oldest first), risk types as columns: the pupils with a risk of
    that type in a counted plan of the semester (a pupil may have several types)."""
    semesters = sorted(
        {key[1] for key in figures.values if key[0] == "pupils" and key[2] == unit},
        key=lambda pk: figures.labels[("semester", pk)],
    )
    numbers = sorted(
        {n for pk in semesters for n in figures.labels_of("risk", pk, unit)},
    )
    table = Table(
        key="risk_semesters",
        title=_("Risk types per semester"),
        columns=[_("Semester"), *(shown(figures.labels[("risk", n)]) for n in numbers)],
    )
    for pk in semesters:
        year, number = figures.labels[("semester", pk)]
        table.rows.append(
            [
                f"{year_label(year)} {'I' if number == 1 else 'II'}",
                *(figures.cell("risk", pk, unit, n) for n in numbers),
            ]
        )
    return table


def share_of(part, whole):
    """``part`` as a percentage of ``whole``, exact and rounded once; hidden where either is,
    empty where the whole is zero."""
    if part.hidden or whole.hidden:
        return HIDDEN_MARK
    if not whole.value:
        return ""
    return (Decimal(part.value) * 100 / Decimal(whole.value)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def share_table(figures, unit=ALL):
    """Per semester: the pupils flagged "at risk" or higher by the early warning in any period
    of the semester, and how many of them have a counted plan of that semester. A share is
    hidden whenever one of its counts is."""
    table = Table(
        key="share",
        title=_("Flagged pupils who received a plan"),
        columns=[
            _("School year"),
            _("Semester"),
            _("Flagged pupils"),
            _("With a plan"),
            _("Share, %"),
        ],
    )
    semesters = figures.labels.get(("flagged_semesters", unit), set())
    for semester_id in sorted(semesters, key=lambda pk: figures.labels[("semester", pk)]):
        year, number = figures.labels[("semester", semester_id)]
        flagged = figures.cell("flagged", semester_id, unit)
        with_plan = figures.cell("with_plan", semester_id, unit)
        # Exact, then rounded once to what the table shows: 2 of 15 is 13,33.
        share = share_of(with_plan, flagged)
        table.rows.append(
            [year_label(year), "I" if number == 1 else "II", flagged, with_plan, share]
        )
    return table


def school_tables(figures, semester, directory, municipality_id=None):
    """Per school (of one municipality, or of the country) and per municipality."""
    sid = semester.pk
    schools = Table(
        key="schools", title=_("Schools"), columns=[_("Municipality"), _("School"), _("Pupils")]
    )
    rows = []
    units = [unit for unit, _label in figures.labels_of("pupils", sid) if unit != ALL]
    for unit in units:
        if unit[0] != "s":
            continue
        m_id, m_name, name = directory[unit[1]]
        if municipality_id is None or m_id == municipality_id:
            rows.append((m_name, name, figures.cell("pupils", sid, unit)))
    schools.rows = [list(row) for row in sorted(rows, key=lambda r: (r[0], r[1]))]
    names = {m_id: m_name for m_id, m_name, _n in directory.values()}
    municipalities = Table(
        key="municipalities", title=_("Municipalities"), columns=[_("Municipality"), _("Pupils")]
    )
    rows = [(names[unit[1]], figures.cell("pupils", sid, unit)) for unit in units if unit[0] == "m"]
    municipalities.rows = [list(row) for row in sorted(rows, key=lambda r: r[0])]
    return schools, municipalities


def fidelity_table(figures, semester, directory, municipality_id=None):
    """Consultations per school of one municipality and specialist type — or, for the
    country, per municipality (600 schools × their specialists would be thousands of rows;
    the agency opens a municipality for its schools): the pupils, planned and delivered hours,
    and the delivered share."""
    sid = semester.pk
    per_school = municipality_id is not None
    table = Table(
        key="fidelity" if per_school else "fidelity_municipalities",
        title=_("Consultation hours by school")
        if per_school
        else _("Consultation hours by municipality"),
        columns=[
            _("School") if per_school else _("Municipality"),
            _("Specialist"),
            _("Pupils"),
            _("Planned hours"),
            _("Delivered hours"),
            _("Delivered, %"),
        ],
    )
    names = {m_id: m_name for m_id, m_name, _n in directory.values()}
    rows = []
    for unit, label in figures.labels_of("measure", sid):
        if unit == ALL or label[0] != SupportMeasure.Type.CONSULTATION:
            continue
        if per_school:
            if unit[0] != "s" or directory[unit[1]][0] != municipality_id:
                continue
            name = directory[unit[1]][2]
        elif unit[0] == "m":
            name = names[unit[1]]
        else:
            continue
        planned = figures.cell("planned_hours", sid, unit, label, Decimal("0"))
        delivered = figures.cell("delivered_hours", sid, unit, label, Decimal("0.0"))
        rows.append(
            [
                name,
                figures.labels[("specialist", label[1])],
                figures.cell("measure", sid, unit, label),
                planned,
                delivered,
                share_of(delivered, planned),
            ]
        )
    table.rows = sorted(rows, key=lambda row: (row[0], row[1]))
    return table


def breakdown_tables(pupils, figures, semester, unit=ALL):
    """The breakdowns of one semester: grade, gender, risk type, measures, money, outcomes,
    youth NGO projects.
    ``pupils``: the pupil figures (grade and gender), ``figures``: the semester's."""
    sid = semester.pk
    grades = Table(key="grades", title=_("By grade"), columns=[_("Grade"), _("Pupils")])
    labels = pupils.labels_of("grade", sid, unit)
    for grade in sorted(labels, key=lambda g: (g is None, g or 0)):
        label = f"{grade}." if grade else _("not in a class")
        grades.rows.append([label, pupils.cell("grade", sid, unit, grade)])

    gender_names = dict(Student.Gender.choices)
    genders = Table(key="genders", title=_("By gender"), columns=[_("Gender"), _("Pupils")])
    for gender in sorted(pupils.labels_of("gender", sid, unit), key=str):
        genders.rows.append(
            [gender_names.get(gender, _("not given")), pupils.cell("gender", sid, unit, gender)]
        )

    risks = Table(key="risks", title=_("By risk type"), columns=[_("Risk type"), _("Pupils")])
    for number in sorted(pupils.labels_of("risk", sid, unit)):
        risks.rows.append(
            [shown(pupils.labels[("risk", number)]), pupils.cell("risk", sid, unit, number)]
        )

    types = dict(SupportMeasure.Type.choices)
    measures = Table(
        key="measures",
        title=_("By measure"),
        columns=[
            _("Measure"),
            _("Specialist"),
            _("Pupils"),
            _("Planned hours"),
            _("Delivered hours"),
            _("Delivered, %"),
        ],
    )
    labels = figures.labels_of("measure", sid, unit)
    for label in sorted(labels, key=lambda m: (m[0], shown(figures.labels[("specialist", m[1])]))):
        measure_type, specialist_id = label
        is_consultation = measure_type == SupportMeasure.Type.CONSULTATION
        hours = ["", "", ""]
        if is_consultation:
            planned = figures.cell("planned_hours", sid, unit, label, Decimal("0"))
            delivered = figures.cell("delivered_hours", sid, unit, label, Decimal("0.0"))
            hours = [planned, delivered, share_of(delivered, planned)]
        measures.rows.append(
            [
                types.get(measure_type, measure_type),
                shown(figures.labels[("specialist", specialist_id)]),
                figures.cell("measure", sid, unit, label),
                *hours,
            ]
        )

    categories = dict(CompensationCategory.choices)
    money = Table(
        key="money",
        title=_("Compensations, EUR"),
        columns=[
            _("Category"),
            _("Pupils"),
            _("Planned"),
            _("Claimed"),
            _("Approved"),
            _("Paid"),
        ],
    )
    zero = Decimal("0.00")
    for category in sorted(figures.labels_of("comp_pupils", sid, unit)):
        money.rows.append(
            [
                categories.get(category, category),
                figures.cell("comp_pupils", sid, unit, category),
                *(
                    figures.cell(f"comp_{name}", sid, unit, category, zero)
                    for name in ("planned", "claimed", "approved", "paid")
                ),
            ]
        )

    outcome_names = dict(SupportPlan.Outcome.choices)
    outcomes = Table(
        key="outcomes", title=_("By evaluation outcome"), columns=[_("Outcome"), _("Pupils")]
    )
    for outcome in sorted(figures.labels_of("outcome", sid, unit)):
        outcomes.rows.append(
            [outcome_names.get(outcome, outcome), figures.cell("outcome", sid, unit, outcome)]
        )

    # The budget stands beside the project's name, as a second heading of its row: it is the
    # project's, not the pupils' (a row of "<3" pupils keeps it).
    projects = Table(
        key="ngo_projects",
        title=_("Youth NGO projects"),
        columns=[_("Project"), _("Budget, EUR"), _("Pupils")],
    )
    for project_id in sorted(
        figures.labels_of("ngo_project", sid, unit),
        key=lambda pk: (figures.labels[("ngo_project", pk)], pk),
    ):
        projects.rows.append(
            [
                figures.labels[("ngo_project", project_id)],
                # Figures kept from before the column have no budget.
                figures.labels.get(("ngo_budget", project_id), ""),
                figures.cell("ngo_project", sid, unit, project_id),
            ]
        )
    return [grades, genders, risks, measures, money, outcomes, projects]


# --- A school's own report (exact) ----------------------------------------------------------


def participation_by_semester(schools):
    return semester_table(pupil_figures(schools))


def flagged_plan_share(schools):
    return share_table(pupil_figures(schools))


def semester_breakdowns(schools, semester):
    return breakdown_tables(pupil_figures(schools), semester_figures(schools, semester), semester)


# --- Fidelity: plans that delivered under half of their hours ---------------------------------

LOW_DELIVERY = Decimal("50")


def low_delivery_plans(schools, semester):
    """A school's counted plans of an ended semester whose consultations delivered under half
    of the planned hours (the plan code, not the pupil: the table goes into exports too)."""
    plans = SupportPlan.objects.filter(counted(schools, semester))
    planned = dict(
        SupportMeasure.objects.filter(plan__in=plans, measure_type=SupportMeasure.Type.CONSULTATION)
        .values("plan_id")
        .annotate(hours=Sum("planned_hours"))
        .values_list("plan_id", "hours")
    )
    delivered = dict(
        Consultation.objects.filter(measure__plan__in=plans)
        .values("measure__plan_id")
        .annotate(minutes=Sum("minutes"))
        .values_list("measure__plan_id", "minutes")
    )
    codes = dict(plans.filter(pk__in=list(planned)).values_list("pk", "code"))
    table = Table(
        key="low_delivery",
        title=_("Plans that delivered under half of their consultation hours"),
        columns=[_("Plan"), _("Planned hours"), _("Delivered hours"), _("Delivered, %")],
    )
    rows = []
    for plan_id, hours in planned.items():
        if not hours:
            continue
        done = Decimal(delivered.get(plan_id) or 0) / 60
        share = share_of(Cell(done), Cell(hours))  # from the exact hours, rounded once
        if share < LOW_DELIVERY:
            rows.append([codes[plan_id], hours, done.quantize(Decimal("0.1")), share])
    table.rows = sorted(rows, key=lambda row: (row[3], row[0]))
    return table

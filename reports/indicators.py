"""The ESF participant indicators of a school year: who took part (pupils whose plan counted),
by gender, age at entry and education level, with the result at leaving.

A school sees its own participants one by one (personal data, for the project manager's
list). Above the school only counts leave, protected like the participation report: the whole
country is one system — the country is the sum of its municipalities in every cell, and each
unit's total is the sum of each breakdown — so no "<3" can be worked out by subtraction from
what the agency and the municipalities see.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Min
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iap_portal import suppression
from plans.models import SupportPlan
from students.models import Enrollment, SchoolYear, Student

from .participation import HIDDEN_MARK, SMALL_MARK, Cell, Table, counted

ALL = "all"
UNKNOWN = "unknown"

AGE_BANDS = (
    ("under_15", _("under 15")),
    ("15_17", _("15–17")),
    ("18_24", _("18–24")),
    ("25_plus", _("25 or older")),
    (UNKNOWN, _("birth date not given")),
)
ISCED = (
    ("isced1", _("ISCED 1 (grades 1–6)")),
    ("isced2", _("ISCED 2 (grades 7–9)")),
    ("isced3", _("ISCED 3 (grades 10–12, vocational)")),
    (UNKNOWN, _("not in a class")),
)
RESULTS = (
    ("continues", _("continues learning")),
    ("completed", _("completed the grade")),
    ("left", _("left education")),
    (UNKNOWN, _("not evaluated yet")),
)
GENDERS = (
    (Student.Gender.FEMALE.value, Student.Gender.FEMALE.label),
    (Student.Gender.MALE.value, Student.Gender.MALE.label),
    (UNKNOWN, pgettext_lazy("gender", "not given")),
)
DIMENSIONS = (
    ("gender", _("Gender"), GENDERS),
    ("age", _("Age at entry"), AGE_BANDS),
    ("isced", _("Education level"), ISCED),
    ("result", _("Result at leaving"), RESULTS),
)
# The evaluation's outcome, as the managing authority asks for it.
RESULT_OF_OUTCOME = {
    SupportPlan.Outcome.CONTINUES: "continues",
    SupportPlan.Outcome.EXTENDED: "continues",
    SupportPlan.Outcome.PROMOTED: "completed",
    SupportPlan.Outcome.LEFT: "left",
}


def age_band(birth_date: date | None, on: date) -> str:
    if birth_date is None:
        return UNKNOWN
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if age < 15:
        return "under_15"
    if age <= 17:
        return "15_17"
    if age <= 24:
        return "18_24"
    return "25_plus"


def isced_level(grade: int | None) -> str:
    if grade is None:
        return UNKNOWN
    if grade <= 6:
        return "isced1"
    if grade <= 9:
        return "isced2"
    return "isced3"


@dataclass
class Participant:
    student_id: int
    school_id: int
    municipality_id: int
    name: str
    gender: str
    entry: date
    leaving: date
    age: str
    isced: str
    result: str
    grade: int | None = None


def participants(schools, year: SchoolYear) -> list[Participant]:
    """The school year's participants: each pupil once, entering when their first counted plan
    of the year started (its first measure, else its semester) and leaving when the last one
    ended, with the result of the last evaluation. Three queries."""
    plans = (
        SupportPlan.objects.filter(counted(schools), semester__school_year=year)
        .annotate(first_measure=Min("measures__start_date"), last_measure=Max("measures__end_date"))
        .values(
            "student_id",
            "student__first_name",
            "student__last_name",
            "student__gender",
            "student__birth_date",
            "school_id",
            "school__municipality_id",
            "semester__start_date",
            "semester__end_date",
            "first_measure",
            "last_measure",
            "evaluation__overall_outcome",
        )
        .order_by("semester__start_date", "pk")
    )
    by_pupil = {}
    for plan in plans:
        entry = plan["first_measure"] or plan["semester__start_date"]
        leaving = plan["last_measure"] or plan["semester__end_date"]
        known = by_pupil.get(plan["student_id"])
        if known is None:
            by_pupil[plan["student_id"]] = known = {
                "plan": plan,
                "entry": entry,
                "leaving": leaving,
                "outcome": plan["evaluation__overall_outcome"],
            }
        known["entry"] = min(known["entry"], entry)
        if leaving >= known["leaving"]:
            known["leaving"] = leaving
            known["outcome"] = plan["evaluation__overall_outcome"] or known["outcome"]
    grades = dict(
        Enrollment.objects.filter(school_year=year, student_id__in=list(by_pupil)).values_list(
            "student_id", "class_group__grade"
        )
    )
    result = []
    for student_id, known in by_pupil.items():
        plan = known["plan"]
        result.append(
            Participant(
                student_id=student_id,
                school_id=plan["school_id"],
                municipality_id=plan["school__municipality_id"],
                name=f"{plan['student__last_name']} {plan['student__first_name']}",
                gender=plan["student__gender"] or UNKNOWN,
                entry=known["entry"],
                leaving=known["leaving"],
                age=age_band(plan["student__birth_date"], known["entry"]),
                isced=isced_level(grades.get(student_id)),
                result=RESULT_OF_OUTCOME.get(known["outcome"], UNKNOWN),
                grade=grades.get(student_id),
            )
        )
    return sorted(result, key=lambda p: (p.name, p.student_id))


def _count(people, units_of):
    """{(unit, dimension, label): n} and {(unit, "total", ""): n} for each unit of each
    participant (``units_of``: participant -> its units)."""
    values = defaultdict(int)
    for person in people:
        for unit in units_of(person):
            values[(unit, "total", "")] += 1
            for dimension, _title, _labels in DIMENSIONS:
                values[(unit, dimension, getattr(person, dimension))] += 1
    return values


def _relations(values, units, parts_of):
    """Each unit's total is the sum of each breakdown; each parent unit's cell is the sum of
    its parts' cells (``parts_of``: {parent unit: [units]})."""
    relations = []
    for unit in units:
        for dimension, _title, labels in DIMENSIONS:
            relations.append(
                ((unit, "total", ""), [(unit, dimension, label) for label, _n in labels])
            )
    cells = {(dimension, label) for _unit, dimension, label in values}
    for parent, parts in parts_of.items():
        for dimension, label in cells:
            relations.append(
                ((parent, dimension, label), [(part, dimension, label) for part in parts])
            )
    return relations


@dataclass
class Indicators:
    """The counts of one scope: exact (a school's) or protected (above the school)."""

    values: dict
    hidden: dict  # key -> mark
    unit: object

    def cell(self, dimension, label=""):
        key = (self.unit, dimension, label)
        return Cell(self.values.get(key, 0), self.hidden.get(key, ""))

    def tables(self):
        total = Table(
            key="esf_total",
            title=_("Participants"),
            columns=[_("Participants")],
            rows=[[self.cell("total")]],
        )
        tables = [total]
        for dimension, title, labels in DIMENSIONS:
            table = Table(key=f"esf_{dimension}", title=title, columns=[title, _("Participants")])
            for label, name in labels:
                table.rows.append([name, self.cell(dimension, label)])
            tables.append(table)
        return tables


def school_indicators(people) -> Indicators:
    return Indicators(values=_count(people, lambda p: [ALL]), hidden={}, unit=ALL)


def cached_national_indicators(year: SchoolYear) -> dict:
    """The country's protected counts, kept a few minutes (every aggregate scope reads them)."""
    key = f"esf:v1:{year.pk}"
    found = cache.get(key)
    if found is None:
        found = national_indicators(year)
        cache.set(key, found, settings.IAP_REPORT_FRESH_MINUTES * 60)
    return found


def national_indicators(year: SchoolYear) -> dict:
    """Every aggregate scope's counts of the year, protected together: {unit: Indicators}
    for ALL (the country) and ("m", id) for each municipality."""
    people = participants(None, year)
    values = _count(people, lambda p: [ALL, ("m", p.municipality_id)])
    municipalities = sorted({unit for unit, _d, _l in values if unit != ALL})
    units = [ALL, *municipalities]
    relations = _relations(values, units, {ALL: municipalities})
    hidden_keys = suppression.protect(dict(values), relations)
    hidden = {
        key: SMALL_MARK if 0 < values.get(key, 0) < suppression.SMALL else HIDDEN_MARK
        for key in hidden_keys
    }
    return {unit: Indicators(values=values, hidden=hidden, unit=unit) for unit in units}


def participant_rows(people):
    """The school's participant list (personal data: the school only)."""
    names = {dimension: dict(labels) for dimension, _title, labels in DIMENSIONS}
    yield [
        _("Pupil"),
        _("Gender"),
        _("Age at entry"),
        _("Education level"),
        _("Entry"),
        _("Leaving"),
        _("Result at leaving"),
    ]
    for person in people:
        yield [
            person.name,
            names["gender"][person.gender],
            names["age"][person.age],
            names["isced"][person.isced],
            person.entry,
            person.leaving,
            names["result"][person.result],
        ]

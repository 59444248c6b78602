"""Whether the pupils supported in a school year stayed in education a year later: what the
programme was for.

A participant of year Y (reports.indicators) *stayed* when they are enrolled in a class of
year Y+1 in any school of the instance — their own pupil record, or another school's record
with the same personal code (a pupil who moved school) — and *finished* when they were in a
final grade (9 or 12) in Y and are enrolled nowhere in Y+1; the others *left* education.
Until year Y+1 has classes, nothing can be said and the report says so.

Per school, municipality and the country, by grade and by risk type. Above the school the
counts are protected as one system (the country is the sum of its municipalities, a
municipality of its schools, each row's total of its three outcomes), like the other reports.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from iap_portal import suppression
from iap_portal.i18n import shown
from plans.models import PlanRisk, RiskType
from students.models import Enrollment, Municipality, School, SchoolYear, Student

from .indicators import participants
from .participation import HIDDEN_MARK, SMALL_MARK, Cell, Table, counted

ALL = "all"
FINAL_GRADES = (9, 12)
OUTCOMES = (
    ("stayed", _("enrolled a year later")),
    ("finished", _("finished the final grade")),
    ("left", _("left education")),
)


def next_year(year: SchoolYear) -> SchoolYear | None:
    return SchoolYear.objects.filter(start_year=year.start_year + 1).first()


def has_started(year: SchoolYear | None) -> bool:
    return year is not None and Enrollment.objects.filter(school_year=year).exists()


@dataclass
class Followed:
    student_id: int
    school_id: int
    municipality_id: int
    grade: int | None
    risk_types: frozenset
    outcome: str


def followed(schools, year: SchoolYear, later: SchoolYear) -> list[Followed]:
    """Each participant of ``year`` with where they were in ``later``. Five queries: the
    participants (two), their personal codes, the enrolments of ``later``, the risk types."""
    people = participants(schools, year)
    ids = [p.student_id for p in people]
    pupils = dict(Student.objects.filter(pk__in=ids).values_list("pk", "personas_kods"))
    codes = {code for code in pupils.values() if code}
    enrolled = Enrollment.objects.filter(school_year=later).filter(
        Q(student_id__in=ids) | Q(student__personas_kods__in=codes)
    )
    enrolled_ids, enrolled_codes = set(), set()
    for student_id, code in enrolled.values_list("student_id", "student__personas_kods"):
        enrolled_ids.add(student_id)
        if code:
            enrolled_codes.add(code)
    risks = defaultdict(set)
    for student_id, number in (
        PlanRisk.objects.filter(counted(schools, prefix="plan__"), plan__student_id__in=ids)
        .filter(plan__semester__school_year=year)
        .values_list("plan__student_id", "risk_factor__risk_type__number")
        .distinct()
    ):
        risks[student_id].add(number)
    result = []
    for person in people:
        code = pupils.get(person.student_id)
        grade = person.grade
        if person.student_id in enrolled_ids or (code and code in enrolled_codes):
            outcome = "stayed"
        elif grade in FINAL_GRADES:
            outcome = "finished"
        else:
            outcome = "left"
        result.append(
            Followed(
                student_id=person.student_id,
                school_id=person.school_id,
                municipality_id=person.municipality_id,
                grade=grade,
                risk_types=frozenset(risks[person.student_id]),
                outcome=outcome,
            )
        )
    return result


def _count(people, units_of):
    values = defaultdict(int)
    for person in people:
        for unit in units_of(person):
            rows = [("total", ""), ("grade", person.grade or 0)]
            rows += [("risk", number) for number in person.risk_types]
            for row in rows:
                values[(unit, *row, "all")] += 1
                values[(unit, *row, person.outcome)] += 1
    return values


def _relations(values, parents):
    """Each row's pupils are the sum of its three outcomes; a parent's cell is the sum of its
    parts' (``parents``: {parent unit: [part units]})."""
    rows = {(unit, kind, label) for unit, kind, label, _o in values}
    relations = [
        ((unit, kind, label, "all"), [(unit, kind, label, name) for name, _t in OUTCOMES])
        for unit, kind, label in rows
    ]
    cells = {key[1:] for key in values}
    for parent, parts in parents.items():
        for cell in cells:
            relations.append(((parent, *cell), [(part, *cell) for part in parts]))
    return relations


@dataclass
class Outcomes:
    values: dict
    hidden: dict
    labels: dict  # ("risk", number) -> name

    def cell(self, unit, kind, label, outcome):
        key = (unit, kind, label, outcome)
        return Cell(self.values.get(key, 0), self.hidden.get(key, ""))

    def row(self, unit, kind, label):
        return [self.cell(unit, kind, label, o) for o in ("all", *(n for n, _t in OUTCOMES))]

    def rows_of(self, unit, kind):
        return sorted(
            {label for u, k, label, _o in self.values if u == unit and k == kind},
            key=lambda label: (label == 0, label),
        )


def _columns(first):
    return [first, _("Supported"), *(title for _n, title in OUTCOMES)]


def tables(outcomes: Outcomes, unit, *, schools=(), municipalities=()):
    """The scope's tables: the whole, by grade, by risk type, then per school and per
    municipality where the scope has them (``schools``: [(unit, name)])."""
    whole = Table(key="later_total", title=_("A year later"), columns=_columns(_("Scope")))
    whole.rows.append([_("All supported pupils"), *outcomes.row(unit, "total", "")])
    grades = Table(
        key="later_grades", title=_("A year later, by grade"), columns=_columns(_("Grade"))
    )
    for grade in outcomes.rows_of(unit, "grade"):
        label = f"{grade}." if grade else _("not in a class")
        grades.rows.append([label, *outcomes.row(unit, "grade", grade)])
    risks = Table(
        key="later_risks", title=_("A year later, by risk type"), columns=_columns(_("Risk type"))
    )
    for number in outcomes.rows_of(unit, "risk"):
        name = shown(outcomes.labels.get(number, number))
        risks.rows.append([f"{number}. {name}", *outcomes.row(unit, "risk", number)])
    result = [whole, grades, risks]
    for key, title, first, parts in (
        ("later_schools", _("A year later, per school"), _("School"), schools),
        (
            "later_municipalities",
            _("A year later, per municipality"),
            _("Municipality"),
            municipalities,
        ),
    ):
        if parts:
            table = Table(key=key, title=title, columns=_columns(first))
            for part, name in parts:
                table.rows.append([name, *outcomes.row(part, "total", "")])
            result.append(table)
    return result


def risk_type_names():
    """{number: (Latvian name, English name)}: the national figures are cached for readers
    of either language."""
    return {
        number: (name, name_en)
        for number, name, name_en in RiskType.objects.values_list("number", "name", "name_en")
    }


def school_outcomes(people) -> Outcomes:
    return Outcomes(values=_count(people, lambda p: [ALL]), hidden={}, labels=risk_type_names())


def cached_national_outcomes(year: SchoolYear, later: SchoolYear):
    """(the participants followed, their protected figures), kept a few minutes."""
    key = f"later:v1:{year.pk}:{later.pk}"
    found = cache.get(key)
    if found is None:
        people = followed(None, year, later)
        found = (people, national_outcomes(people))
        cache.set(key, found, settings.IAP_REPORT_FRESH_MINUTES * 60)
    return found


def national_outcomes(people) -> Outcomes:
    """Every aggregate scope's figures, protected together."""
    values = _count(people, lambda p: [ALL, ("m", p.municipality_id), ("s", p.school_id)])
    municipalities = sorted({p.municipality_id for p in people})
    schools_of = defaultdict(list)
    for person in people:
        if ("s", person.school_id) not in schools_of[person.municipality_id]:
            schools_of[person.municipality_id].append(("s", person.school_id))
    parents = {ALL: [("m", m) for m in municipalities]}
    parents.update({("m", m): parts for m, parts in schools_of.items()})
    relations = _relations(values, parents)
    hidden_keys = suppression.protect(dict(values), relations)
    hidden = {
        key: SMALL_MARK if 0 < values.get(key, 0) < suppression.SMALL else HIDDEN_MARK
        for key in hidden_keys
    }
    return Outcomes(values=values, hidden=hidden, labels=risk_type_names())


def scope_parts(people, unit):
    """The schools (for a municipality) or municipalities (for the country) of a scope, as
    (unit, name) pairs for its per-part table."""
    if unit == ALL:
        ids = sorted({p.municipality_id for p in people})
        names = dict(Municipality.objects.filter(pk__in=ids).values_list("pk", "name"))
        return [], sorted(((("m", m), names[m]) for m in ids), key=lambda part: part[1])
    ids = sorted({p.school_id for p in people if ("m", p.municipality_id) == unit})
    names = dict(School.objects.filter(pk__in=ids).values_list("pk", "name"))
    return sorted(((("s", s), names[s]) for s in ids), key=lambda part: part[1]), []

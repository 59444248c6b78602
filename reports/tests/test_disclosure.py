"""No published figure of the aggregate reports, nor any combination of them, gives away a
hidden one (issue: "Children's data: aggregates that cannot be undone").

A generator builds random small municipalities (1–5 schools each, 0–6 pupils per grade and
gender of a school, with risks, consultations, compensations with claims, evaluations,
youth NGO projects and early-warning flags). For every seed the agency opens every scope (the
country and each municipality); an attacker then writes down every equation a reader can form
from what is published — the country is the sum of its municipalities in every cell of every
table, a municipality the sum of its schools, a scope's pupils the sum of its grades and of its
genders, the municipalities table repeats each municipality's total, a row that is not shown is
zero — and solves them exactly (rational Gaussian elimination). Every linear combination of
published figures is tried this way, not only sums and differences of up to three. The test
asserts:

- every shown count is 0 or at least 3, and a row whose pupils are hidden hides its money and
  hours too (primary suppression);
- "<3" marks exactly the figures whose pupils are 1 or 2;
- no hidden figure follows from the equations (secondary suppression holds);
- the municipality user sees exactly what the agency sees of that municipality;
- the school's own report stays exact.
"""

import csv
import io
import random
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from pypdf import PdfReader

from compensations.models import ClaimStatus, CompensationClaim
from early_warning.indicators import FLAGGED
from early_warning.models import Indicator, Period
from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanStatus,
    SupportMeasure,
    SupportPlan,
)
from plans.tests.factories import add_consultation_measure, add_risk, make_plan, ngo_project
from reports import snapshots
from reports.participation import Cell
from students.models import Semester, Student
from students.tests.factories import ClassGroupFactory, SchoolFactory, StudentFactory, enrol

SEEDS = range(12)
RISKS = ["neattaisnoti-kavejumi", "attalums-lidz-skolai-un-transporta-izmaksas"]
CATEGORIES = [CompensationCategory.TRANSPORT_TICKETS, CompensationCategory.SPECIAL_TRANSPORT]


def build(rng, cast, semester):
    """Random municipalities; the cast's municipality is one of them (its user looks too)."""
    municipalities = [cast.school.municipality] + [
        SchoolFactory().municipality for _m in range(rng.randint(0, 2))
    ]
    claims = 0
    for municipality in municipalities:
        projects = [
            ngo_project(
                municipality=municipality,
                semester=semester,
                title=f"Projekts {municipality.pk}-{number}",
            )
            for number in range(rng.randint(0, 2))
        ]
        count = rng.randint(1, 5)
        for index in range(count):
            # The case: one small school beside the others (1 or 2 pupils in all).
            tiny = municipality == municipalities[0] and index == count - 1
            school = SchoolFactory(municipality=municipality)
            period = Period.objects.create(
                school=school,
                semester=semester,
                start_date=semester.start_date,
                end_date=semester.start_date + timedelta(days=30),
            )
            for grade in (7, 8):
                group = ClassGroupFactory(
                    school=school, school_year=semester.school_year, grade=grade
                )
                for gender in (Student.Gender.FEMALE, Student.Gender.MALE):
                    size = rng.choice([0, 0, 1, 2, 3, 4, 5, 6])
                    if tiny:
                        size = rng.randint(1, 2) if (grade, gender) == (7, "F") else 0
                    for _pupil in range(size):
                        student = StudentFactory(school=school, gender=gender)
                        enrol(student, group)
                        if rng.random() < 0.3:
                            Indicator.objects.create(period=period, student=student, level=FLAGGED)
                        plan = make_plan(
                            student=student,
                            preparer=cast.class_teacher,
                            semester=semester,
                            status=PlanStatus.IN_PROGRESS,
                            first_approved_at=timezone.now(),
                        )
                        risks = [
                            add_risk(plan, code) for code in rng.sample(RISKS, rng.randint(1, 2))
                        ]
                        measure = add_consultation_measure(
                            plan, responsible=cast.specialist, risks=risks, hours=rng.randint(2, 9)
                        )
                        if rng.random() < 0.5:
                            Consultation.objects.create(
                                measure=measure,
                                date=semester.start_date,
                                minutes=rng.choice([30, 45, 60, 90]),
                                topic="T",
                                provider=cast.specialist,
                            )
                        if rng.random() < 0.5:
                            claims += 1
                            compensation(rng, plan, risks, cast, claims)
                        if projects and rng.random() < 0.4:
                            SupportMeasure.objects.create(
                                plan=plan,
                                measure_type=SupportMeasure.Type.NGO_PROJECT,
                                ngo_project=rng.choice(projects),
                                responsible=cast.class_teacher,
                                start_date=semester.start_date,
                                end_date=semester.end_date,
                            ).risks.set(risks[:1])
                        if rng.random() < 0.4:
                            PlanEvaluation.objects.create(
                                plan=plan,
                                narrative="x",
                                overall_outcome=rng.choice(list(SupportPlan.Outcome.values)),
                                evaluated_by=cast.class_teacher,
                            )
    return municipalities


def compensation(rng, plan, risks, cast, number):
    amount = Decimal(rng.randint(1000, 60000)) / 100
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=rng.choice(CATEGORIES),
        planned_amount=amount,
        approved_amount=amount,
        responsible=cast.class_teacher,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    )
    measure.risks.set(risks[:1])
    status = rng.choice([ClaimStatus.SUBMITTED, ClaimStatus.APPROVED, ClaimStatus.PAID])
    CompensationClaim.objects.create(
        measure=measure,
        plan=plan,
        school=plan.school,
        code=f"T-{number}",
        sequence=number,
        month=plan.semester.start_date.replace(day=1),
        status=status,
        total=(amount / 2).quantize(Decimal("0.01")),
        submitted_by=cast.class_teacher,
        paid_on=date.today() if status == ClaimStatus.PAID else None,
    )


# --- What the reader sees -------------------------------------------------------------------


def title(msgid):
    return str(_(msgid))


def published(response):
    """{(table, row labels, column): Cell or value} of one report page."""
    context = response.context
    two_labels = {
        title("Schools"),
        title("Flagged pupils who received a plan"),
        title("By measure"),
        title("Youth NGO projects"),  # the project and its budget
        title("Consultation hours by school"),  # the school and the specialist type
        title("Consultation hours by municipality"),
    }
    cells = {}
    for table in [context["main"], context["share"], context["risks"], *context["tables"]]:
        name = str(table.title)
        heads = 2 if name in two_labels else 1
        for row in table.rows:
            label = tuple(str(c) for c in row[:heads])
            for column, value in zip(table.columns[heads:], row[heads:], strict=True):
                if value != "":
                    cells[(name, label, str(column))] = value
    return cells


def hidden(value):
    return (isinstance(value, Cell) and value.hidden) or value == "x"


def by_table(cells):
    tables = defaultdict(dict)
    for (table, label, column), value in cells.items():
        tables[table][(label, column)] = value
    return tables


# --- The attacker ---------------------------------------------------------------------------


def equations(views, names, main_cell):
    """Every sum a reader can form, as {variable: coefficient} = 0, a variable being
    (scope, table, row labels, column). ``main_cell``: (table, row, column) of the semester's
    pupils in the main table."""
    found = []
    scopes = [s for s in views if s != "all"]
    tables = {scope: by_table(cells) for scope, cells in views.items()}
    by_school, by_municipality = (
        title("Consultation hours by school"),
        title("Consultation hours by municipality"),
    )
    per_school = {title("Municipalities"), title("Schools"), by_school, by_municipality}
    # The country is the sum of its municipalities, cell by cell, in every table they share
    # (a row one of them does not show is a zero there).
    for table in set().union(*(t.keys() for t in tables.values())) - per_school:
        keys = set().union(*(set(t.get(table, {})) for t in tables.values()))
        for label, column in keys:
            equation = {("all", table, label, column): Fraction(1)}
            for scope in scopes:
                equation[(scope, table, label, column)] = Fraction(-1)
            found.append(equation)
    municipalities = tables["all"].get(title("Municipalities"), {})
    total = {("all", *main_cell): Fraction(1)}
    for scope in scopes:
        # The municipalities table repeats each municipality's total ...
        for label, column in municipalities:
            if label == (names[scope],):
                found.append(
                    {
                        ("all", title("Municipalities"), label, column): Fraction(1),
                        (scope, *main_cell): Fraction(-1),
                    }
                )
                total[("all", title("Municipalities"), label, column)] = Fraction(-1)
        # ... a municipality is the sum of its schools, which the country's table repeats.
        equation = {(scope, *main_cell): Fraction(1)}
        for label, column in tables[scope].get(title("Schools"), {}):
            equation[(scope, title("Schools"), label, column)] = Fraction(-1)
            found.append(
                {
                    (scope, title("Schools"), label, column): Fraction(1),
                    ("all", title("Schools"), label, column): Fraction(-1),
                }
            )
        found.append(equation)
    found.append(total)
    # The country's schools add up to the country.
    equation = {("all", *main_cell): Fraction(1)}
    for label, column in tables["all"].get(title("Schools"), {}):
        equation[("all", title("Schools"), label, column)] = Fraction(-1)
    found.append(equation)
    # A scope's consultations per specialist type (pupils, planned and delivered hours) are
    # the sum of its schools' (a municipality) or of its municipalities' (the country), and the
    # country's row of a municipality repeats that municipality's own.
    consultation = str(SupportMeasure.Type.CONSULTATION.label)
    for scope in views:
        table = by_school if scope != "all" else by_municipality
        parts = tables[scope].get(table, {})
        for column in (title("Pupils"), title("Planned hours"), title("Delivered hours")):
            for specialist in {label[1] for label, c in parts if c == column}:
                equation = {
                    (scope, title("By measure"), (consultation, specialist), column): Fraction(1)
                }
                for label, c in parts:
                    if c == column and label[1] == specialist:
                        equation[(scope, table, label, c)] = Fraction(-1)
                found.append(equation)
    for label, column in tables["all"].get(by_municipality, {}):
        for scope in scopes:
            if label[0] == names[scope]:
                found.append(
                    {
                        ("all", by_municipality, label, column): Fraction(1),
                        (scope, title("By measure"), (consultation, label[1]), column): Fraction(
                            -1
                        ),
                    }
                )
    # A scope's pupils are the sum of its grades, and of its genders.
    for scope in views:
        for table in (title("By grade"), title("By gender")):
            equation = {(scope, *main_cell): Fraction(1)}
            for label, column in tables[scope].get(table, {}):
                equation[(scope, table, label, column)] = Fraction(-1)
            found.append(equation)
    return found


def given_away(views, system):
    """The hidden variables that the equations determine (exact, over the rationals)."""
    values = {
        (scope, table, label, column): value
        for scope, cells in views.items()
        for (table, label, column), value in cells.items()
    }
    rows = []
    for equation in system:
        row = {}
        for variable, coefficient in equation.items():
            if hidden(values.get(variable, 0)):  # a row that is not shown is a published zero
                row[variable] = row.get(variable, 0) + coefficient
        row = {k: v for k, v in row.items() if v}
        if row:
            rows.append(row)
    pivots = {}
    for row in rows:
        for key, pivot in pivots.items():
            factor = row.get(key)
            if factor:
                for k, v in pivot.items():
                    row[k] = row.get(k, 0) - factor * v
                row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        key = min(row, key=repr)
        row = {k: v / row[key] for k, v in row.items()}
        for other in pivots.values():
            factor = other.get(key)
            if factor:
                for k, v in row.items():
                    other[k] = other.get(k, 0) - factor * v
                for k in [k for k, v in other.items() if not v]:
                    del other[k]
        pivots[key] = row
    return sorted((key for key, row in pivots.items() if len(row) == 1), key=repr)


# --- The test -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_no_combination_of_published_figures_gives_a_hidden_one_away(cast, login, seed):
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    semester = Semester.objects.current()
    municipalities = build(rng, cast, semester)
    agency = login(cast.agency)
    response = agency.get(reverse("participation_report"), {"scope": "all"})
    views = {"all": published(response)}
    names = {}
    for municipality in municipalities:
        scope = f"municipality-{municipality.pk}"
        views[scope] = published(agency.get(reverse("participation_report"), {"scope": scope}))
        names[scope] = municipality.name
    own = login(cast.municipality).get(reverse("participation_report"))
    assert published(own) == views[f"municipality-{cast.school.municipality_id}"]

    hidden_count = 0
    for scope, cells in views.items():
        # Primary: no shown count of 1 or 2; money and hours follow their row's pupils.
        for key, value in cells.items():
            if isinstance(value, Cell) and not value.hidden and isinstance(value.value, int):
                assert value.value not in (1, 2), (scope, key)
            hidden_count += hidden(value)
        rows = defaultdict(dict)
        for (table, label, column), value in cells.items():
            rows[(table, label)][column] = value
        for (table, label), row in rows.items():
            pupils = row.get(title("Pupils"))
            if pupils is not None and hidden(pupils):
                assert all(hidden(v) for v in row.values()), (scope, table, label, row)
    assert hidden_count, (views, "nothing was small: the generator made no case to protect")

    year = f"{semester.school_year.start_year}/{semester.school_year.start_year + 1}"
    column = str(response.context["main"].columns[semester.number])
    main_cell = (str(response.context["main"].title), (year,), column)
    system = equations(views, names, main_cell)
    assert given_away(views, system) == []


# --- Every format shows the same cells ------------------------------------------------------


class TableParser(HTMLParser):
    """The report page's tables: {caption: [[cell text, …], …]} (body rows only)."""

    def __init__(self):
        super().__init__()
        self.tables, self.caption, self.row, self.text = {}, None, None, None
        self.in_body = False

    def handle_starttag(self, tag, attrs):
        if tag == "caption":
            self.text = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row = []
        elif tag in {"td", "th"} and self.row is not None:
            self.text = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self.caption = "".join(self.text).strip()
            self.tables[self.caption] = []
            self.text = None
        elif tag == "tbody":
            self.in_body = False
        elif tag in {"td", "th"} and self.row is not None and self.text is not None:
            self.row.append("".join(self.text).strip())
            self.text = None
        elif tag == "tr" and self.row is not None:
            if len(self.row) > 1:  # not the "no data" row
                self.tables[self.caption].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)


def token(value):
    """A cell as a comparable value: a mark as text, a number as a Decimal to the cent."""
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    text = str(value).replace("\xa0", "").replace(" ", "")
    if text in {"<3", "x", ""}:
        return text
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except ArithmeticError:
        return str(value).strip()


def test_html_csv_xlsx_and_pdf_show_identical_cells(cast, login):
    build(random.Random(5), cast, Semester.objects.current())  # noqa: S311 - test data
    agency = login(cast.agency)
    for scope in ("all", f"municipality-{cast.school.municipality_id}"):
        url = reverse("participation_report")
        parser = TableParser()
        parser.feed(agency.get(url, {"scope": scope}).content.decode())
        html = {
            title: [[token(c) for c in row] for row in rows]
            for title, rows in parser.tables.items()
        }
        assert any("<3" in row for rows in html.values() for row in rows)
        assert any("x" in row for rows in html.values() for row in rows)

        book = load_workbook(
            io.BytesIO(agency.get(url, {"scope": scope, "format": "xlsx"}).content)
        )
        xlsx = {}
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))[1:]
            xlsx[sheet.title] = [[token("" if c is None else c) for c in row] for row in rows]
            for row in sheet.iter_rows(min_row=2):
                for cell in row:  # a hidden figure is a text cell, never a number
                    if cell.value in {"<3", "x"}:
                        assert cell.data_type == "s"
        assert list(xlsx.values()) == [html[title] for title in html]

        csv_rows = list(
            csv.reader(
                io.StringIO(
                    agency.get(url, {"scope": scope, "format": "csv"}).content.decode("utf-8-sig")
                ),
                delimiter=";",
            )
        )
        # One section per table: its title, its header, its rows, an empty line.
        sections, rows = {}, []
        for row in csv_rows:
            if row == []:
                sections[rows[0][0]] = [[token(c) for c in r] for r in rows[2:]]
                rows = []
            else:
                rows.append(row)
        assert sections == html

        pdf = agency.get(url, {"scope": scope, "format": "pdf"}).content
        text = " ".join(
            " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
        )
        for title, rows in parser.tables.items():
            for row in rows:
                line = " ".join(" ".join(c.split()) for c in row if c.strip())
                assert line.replace("\xa0", " ") in text.replace("\xa0", " "), (title, line)


# --- The cases the issue found --------------------------------------------------------------


def pupils_at(cast, school, count, *, special_transport=None):
    group = ClassGroupFactory(school=school, school_year=Semester.objects.current().school_year)
    plans = []
    for _n in range(count):
        student = StudentFactory(school=school)
        enrol(student, group)
        plan = make_plan(
            student=student,
            preparer=cast.class_teacher,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
        )
        add_consultation_measure(plan, responsible=cast.specialist, risks=[add_risk(plan)])
        plans.append(plan)
    if special_transport:
        planned, paid = special_transport
        measure = SupportMeasure.objects.create(
            plan=plans[0],
            measure_type=SupportMeasure.Type.COMPENSATION,
            compensation_category=CompensationCategory.SPECIAL_TRANSPORT,
            planned_amount=Decimal(planned),
            approved_amount=Decimal(planned),
            responsible=cast.class_teacher,
            start_date=plans[0].semester.start_date,
            end_date=plans[0].semester.end_date,
        )
        CompensationClaim.objects.create(
            measure=measure,
            plan=plans[0],
            school=school,
            code="T-1",
            sequence=1,
            month=plans[0].semester.start_date,
            status=ClaimStatus.PAID,
            total=Decimal(paid),
            submitted_by=cast.class_teacher,
            paid_on=date.today(),
        )
    return plans


def test_a_school_of_one_beside_a_school_of_twelve_gives_nothing_away(cast, login):
    """The issue's case: 12 and "<3" beside the total 13, and the one child's money."""
    pupils_at(cast, cast.school, 12)
    small = SchoolFactory(municipality=cast.school.municipality, name="Mazā skola")
    pupils_at(cast, small, 1, special_transport=("432.10", "123.45"))
    for client in (login(cast.municipality), login(cast.agency)):
        scope = f"municipality-{cast.school.municipality_id}"
        response = client.get(reverse("participation_report"), {"scope": scope})
        cells = published(response)
        schools = {label[1]: str(v) for (t, label, _c), v in cells.items() if t == title("Schools")}
        assert schools == {cast.school.name: "x", "Mazā skola": "<3"}
        assert "13" in [str(c) for row in response.context["main"].rows for c in row[1:]]
        content = response.content.decode()
        # The charts' axes may tick at 12; what a chart draws is a value (charts_test checks).
        text = re.sub(r"<svg.*?</svg>", "", content, flags=re.S)
        drawn = re.findall(r'<desc class="value">([^<]*)</desc>', content)
        for figure in ("432,10", "123,45", "12"):
            assert f">{figure}<" not in text
            assert figure not in drawn
        money = next(
            t for t in response.context["tables"] if str(t.title) == title("Compensations, EUR")
        )
        assert [str(c) for c in money.rows[0][1:]] == ["<3"] * 5
    # The agency's country view: the municipality is the country here, so the same holds.
    everything = published(login(cast.agency).get(reverse("participation_report")))
    schools = {
        label[1]: str(v) for (t, label, _c), v in everything.items() if t == title("Schools")
    }
    assert schools == {cast.school.name: "x", "Mazā skola": "<3"}
    # The school's own report is exact.
    own = login(cast.coordinator).get(reverse("participation_report"))
    assert "12" in [str(c) for row in own.context["main"].rows for c in row[1:]]


def test_stale_figures_say_their_time_and_can_be_refreshed(cast, login, settings):
    pupils_at(cast, cast.school, 4)
    agency = login(cast.agency)
    url = reverse("participation_report")
    first = agency.get(url)
    assert "Dati uz" in first.content.decode()
    assert not first.context["may_refresh"]
    # Fresh figures are not recomputed on request.
    response = agency.post(reverse("participation_refresh"), {"scope": "all"}, follow=True)
    assert "4" in [str(c) for row in response.context["main"].rows for c in row[1:]]
    pupils_at(cast, cast.school, 3)
    later = timezone.now() + snapshots.FRESH_FOR + timedelta(seconds=1)
    with (
        mock.patch("reports.snapshots.timezone.now", return_value=later),
        mock.patch("reports.snapshots.refresh_participation_report"),
    ):
        stale = agency.get(url)
        assert stale.context["may_refresh"]
        assert "Atjaunot" in stale.content.decode()
        response = agency.post(reverse("participation_refresh"), {"scope": "all"}, follow=True)
    assert "7" in [str(c) for row in response.context["main"].rows for c in row[1:]]
    # Two users asking at once: the second is told to wait a moment, nothing is computed twice.
    semester = Semester.objects.current()
    caches["reports"].add(f"participation:v3:semester:{semester.pk}:refreshing:now", True)
    with mock.patch("reports.snapshots.timezone.now", return_value=later + snapshots.FRESH_FOR * 2):
        response = agency.post(
            reverse("participation_refresh"), {"scope": "all", "semester": semester.pk}, follow=True
        )
    assert "pēc brīža" in response.content.decode()
    # A school's own report is live and has no time to show; a school may not refresh.
    own = login(cast.coordinator).get(url)
    assert own.context["computed_at"] is None
    assert login(cast.coordinator).post(reverse("participation_refresh")).status_code == 403

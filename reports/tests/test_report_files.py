"""The issue's fixes in today's report: exact shares, every table in the CSV, readable sheet
names, tables kept with their titles in the PDF."""

import csv
import io
from unittest import mock

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from early_warning.indicators import FLAGGED
from early_warning.models import Indicator, Period
from plans.models import PlanStatus
from plans.tests.factories import make_plan
from reports import views
from students.models import Semester
from students.tests.factories import StudentFactory

from .test_disclosure import pupils_at


def flagged(cast, count, with_plan):
    semester = Semester.objects.current()
    period = Period.objects.create(
        school=cast.school,
        semester=semester,
        start_date=semester.start_date,
        end_date=semester.start_date,
    )
    for number in range(count):
        student = StudentFactory(school=cast.school)
        Indicator.objects.create(period=period, student=student, level=FLAGGED)
        if number < with_plan:
            make_plan(
                student=student,
                preparer=cast.class_teacher,
                semester=semester,
                status=PlanStatus.IN_PROGRESS,
                first_approved_at=timezone.now(),
            )


def test_a_share_is_computed_exactly_and_rounded_once(cast, login):
    """2 of 15 is 13,33 %, not 13,30 (it was rounded to one place, then shown with two)."""
    flagged(cast, 15, with_plan=2)
    response = login(cast.coordinator).get(reverse("participation_report"))
    row = response.context["share"].rows[0]
    assert [str(c) for c in row[2:4]] == ["15", "2"]
    assert str(row[4]) == "13.33"
    assert ">13,33<" in response.content.decode()


def read_csv(response):
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_csv_carries_every_table_as_a_section(cast, login):
    pupils_at(cast, cast.school, 4)
    client = login(cast.coordinator)
    page = client.get(reverse("participation_report"))
    tables = [
        page.context["main"],
        page.context["share"],
        page.context["risks"],
        *page.context["tables"],
    ]
    rows = read_csv(client.get(reverse("participation_report"), {"format": "csv"}))
    titles = [row[0] for index, row in enumerate(rows) if index == 0 or rows[index - 1] == []]
    assert titles == [str(t.title) for t in tables]
    # Each section: its title, its header, its rows, an empty line.
    start = rows.index([str(tables[0].title)])
    assert rows[start + 1] == [str(c) for c in tables[0].columns]
    assert len([r for r in rows if r == []]) == len(tables)


def test_xlsx_sheets_have_short_whole_names(cast, login):
    pupils_at(cast, cast.school, 4)
    response = login(cast.coordinator).get(reverse("participation_report"), {"format": "xlsx"})
    names = load_workbook(io.BytesIO(response.content)).sheetnames
    assert names[:2] == ["Dalība", "Riska signāli un plāni"]
    assert "Kompensācijas" in names and "Riska veidi" in names
    assert all(len(name) <= 31 for name in names)


def test_the_pdf_keeps_each_table_with_its_title(cast, login):
    pupils_at(cast, cast.school, 4)
    with mock.patch.object(views, "render_pdf", wraps=views.render_pdf) as rendering:
        login(cast.coordinator).get(reverse("participation_report"), {"format": "pdf"})
    template, context = rendering.call_args.args[:2]
    from django.template.loader import render_to_string  # noqa: PLC0415 - the test's own look

    html = render_to_string(template, context)
    tables = 3 + len(context["tables"])  # the semesters, the flagged share, the risk types
    assert html.count('<section class="report-table">') == tables
    assert html.count("</section>") == tables

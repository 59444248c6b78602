"""The participation report's charts: drawn on the server, under the CSP, hiding what the
tables hide, in the page and the PDF alike."""

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock
from xml.etree import ElementTree

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from iap_portal import charts as toolkit
from plans.models import Consultation, PlanStatus, SupportPlan
from plans.tests.factories import add_consultation_measure, add_risk, make_plan
from reports import charts, indicators, views
from reports.participation import Cell, Table
from reports.tests.test_disclosure import pupils_at
from reports.tests.test_esf_indicators import supported
from students.models import SchoolYear, Semester
from students.tests.factories import SchoolFactory, StudentFactory

VALUE = re.compile(r'<desc class="value">([^<]*)</desc>')


def drawn(svg):
    return VALUE.findall(str(svg))


def risk_table(*cells):
    return Table(
        key="risks",
        title="By risk type",
        columns=["Risk type", "Pupils"],
        rows=[[f"risk {n}", cell] for n, cell in enumerate(cells)],
    )


def test_it_draws_only_what_the_table_shows():
    table = risk_table(Cell(12, "x"), Cell(2, "<3"), Cell(7), Cell(31))
    chart = charts.bar_chart(table, chart_id="c")
    assert drawn(chart.svg) == ["7", "31"]
    assert chart.hidden == 2


def test_a_chart_with_nothing_to_draw_is_left_out():
    chart = charts.bar_chart(risk_table(Cell(1, "<3")), chart_id="c")
    assert not chart
    assert chart.hidden == 1


def test_it_keeps_to_the_content_security_policy():
    svg = str(charts.bar_chart(risk_table(Cell(5), Cell(9)), chart_id="c").svg)
    assert "<style" not in svg
    assert "<script" not in svg
    assert "style=" not in svg
    assert "<!--" not in svg
    assert 'id="c"' in svg and 'role="img"' in svg and 'aria-label="By risk type"' in svg


def test_amounts_are_written_the_latvian_way():
    table = Table(
        key="money",
        title="Compensations, EUR",
        columns=["Category", "Pupils", "Planned", "Claimed", "Approved", "Paid"],
        rows=[["meals", Cell(4), *(Cell(Decimal(v)) for v in ("1234.50", "9", "9", "0"))]],
    )
    chart = charts.bar_chart(table, chart_id="c", value_columns=(2, 4, 5))
    assert "1\xa0234,50" in drawn(chart.svg)


def test_the_semester_series_runs_in_order():
    main = Table(
        key="semesters",
        title="Pupils",
        columns=["School year", "Semester I", "Semester II"],
        rows=[["2017/2018", Cell(10), Cell(11)], ["2018/2019", Cell(13), Cell(2, "<3")]],
    )
    chart = charts.semester_chart(main, chart_id="c")
    assert drawn(chart.svg) == ["10", "11", "13"]
    assert ">2018/2019 II<" in str(chart.svg)


def test_the_stylesheet_in_static_is_current():
    """static/css/charts.css is what pygal generates for the palette (`manage.py chart_css`)."""
    written = (Path(settings.BASE_DIR) / "static" / "css" / "charts.css").read_text("utf-8")
    assert written == toolkit.stylesheet()
    for colour in toolkit.PALETTE:
        assert colour.lower() in written.lower()


def test_the_palette_stays_apart_in_greyscale():
    """Neighbouring series differ in lightness, so a greyscale print still tells them apart."""

    def luminance(colour):
        red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    for first, second in zip(toolkit.PALETTE, toolkit.PALETTE[1:], strict=False):
        assert abs(luminance(first) - luminance(second)) > 0.1, (first, second)


def test_the_school_report_shows_its_charts_beside_the_tables(cast, login):
    pupils_at(cast, cast.school, 4)
    response = login(cast.coordinator).get(reverse("participation_report"))
    content = response.content.decode()
    assert 'id="chart-semesters"' in content
    assert 'id="chart-risks"' in content and 'id="chart-hours"' in content
    assert "css/charts.css" in content
    for svg in re.findall(r"<svg.*?</svg>", content, flags=re.S):
        assert "style=" not in svg and "<style" not in svg


def test_an_aggregate_chart_draws_no_hidden_figure(cast, login):
    """The issue's case (12 beside "<3"): the municipality's charts draw neither."""
    pupils_at(cast, cast.school, 12)
    small = SchoolFactory(municipality=cast.school.municipality, name="Mazā skola")
    pupils_at(cast, small, 1)
    response = login(cast.municipality).get(
        reverse("participation_report"), {"scope": f"municipality-{cast.school.municipality_id}"}
    )
    shown = {
        Decimal(cell.value)
        for table in [response.context["main"], *response.context["tables"]]
        for row in table.rows
        for cell in row
        if isinstance(cell, Cell) and not cell.hidden
    }
    every = response.context["charts"]
    for chart in [*(c for k, c in every.items() if k != "parts"), *every["parts"]]:
        for value in drawn(chart.svg):  # as the page writes it: "1 234,5"
            number = Decimal(value.replace("\xa0", "").replace(" ", "").replace(",", "."))
            assert number in shown, (chart.title, value)


def test_aggregate_charts_are_kept_with_the_snapshot(cast, login):
    pupils_at(cast, cast.school, 4)
    client = login(cast.agency)
    with mock.patch.object(
        charts, "participation_charts", wraps=charts.participation_charts
    ) as drawing:
        client.get(reverse("participation_report"))
        client.get(reverse("participation_report"))
    assert drawing.call_count == 1


def test_the_pdf_draws_the_charts_in_their_colours(cast, login):
    pupils_at(cast, cast.school, 4)
    response = login(cast.coordinator).get(reverse("participation_report"), {"format": "pdf"})
    reader = PdfReader(io.BytesIO(response.content))
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    # The palette's first colour, #0072B2, as PDF fills it: 0 0.447 0.698 (rounded).
    assert re.search(rb"0 0\.44\d+ 0\.69\d+ rg", content)


def test_exports_carry_no_charts(cast, login):
    pupils_at(cast, cast.school, 4)
    client = login(cast.coordinator)
    with mock.patch.object(charts, "participation_charts") as drawing:
        client.get(reverse("participation_report"), {"format": "csv"})
        client.get(reverse("participation_report"), {"format": "xlsx"})
    assert drawing.call_count == 0


def test_an_aggregate_scope_shows_its_parts_side_by_side(cast, login):
    pupils_at(cast, cast.school, 12)
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Vidējā"), 5)
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Mazā"), 1)
    response = login(cast.municipality).get(
        reverse("participation_report"), {"scope": f"municipality-{cast.school.municipality_id}"}
    )
    parts = response.context["charts"]["parts"]
    # The small school's one pupil is "<3", the middle one's 5 its partner "x": neither has
    # anything to draw; the large school shows its 12.
    assert [str(chart.title) for chart in parts] == [cast.school.name]
    assert set(drawn(parts[0].svg)) == {"12", "0"}  # this semester, and the next one
    assert 'id="chart-part-0"' in response.content.decode()


def test_a_schools_charts_are_kept_until_its_figures_change(cast, login):
    pupils_at(cast, cast.school, 4)
    client = login(cast.coordinator)
    with mock.patch.object(
        charts, "participation_charts", wraps=charts.participation_charts
    ) as drawing:
        client.get(reverse("participation_report"))
        client.get(reverse("participation_report"))
        assert drawing.call_count == 1
        pupils_at(cast, cast.school, 1)
        client.get(reverse("participation_report"))
        assert drawing.call_count == 2


# --- Risk types per semester, fidelity per school, the ESF page, the PDF, warming ------------


def svg_of(chart):
    """The chart's SVG parsed (it must be well-formed XML) and its title's text."""
    root = ElementTree.fromstring(str(chart.svg))  # noqa: S314 - the SVG the app just drew
    titles = [
        "".join(node.itertext())
        for node in root.iter("{http://www.w3.org/2000/svg}text")
        if "title" in (node.get("class") or "").split()
    ]
    return root, titles


def as_number(text):
    return Decimal(text.replace("\xa0", "").replace(" ", "").replace(",", "."))


def visible(table, first_column=1):
    return [
        Decimal(cell.value)
        for row in table.rows
        for cell in row[first_column:]
        if isinstance(cell, Cell) and not cell.hidden
    ]


def with_risks(cast, school, semester, codes):
    """A counted plan of ``semester`` for a new pupil of ``school`` naming these risks."""
    plan = make_plan(
        student=StudentFactory(school=school),
        preparer=cast.class_teacher,
        semester=semester,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    risks = [add_risk(plan, code) for code in codes]
    add_consultation_measure(plan, responsible=cast.specialist, risks=risks)
    return plan


ABSENCE, DISTANCE, FAMILY = (
    "biezi-kavejumi",
    "attalums-lidz-skolai-un-transporta-izmaksas",
    ("krize-gimene"),
)


def test_risk_types_per_semester_draw_the_table_and_the_semester_reads_the_same(cast, login):
    earlier, current = (
        Semester.objects.filter(end_date__lt=Semester.objects.current().start_date).order_by(
            "-start_date"
        )[0],
        Semester.objects.current(),
    )
    for _n in range(3):
        with_risks(cast, cast.school, earlier, [ABSENCE])
    for _n in range(4):
        with_risks(cast, cast.school, current, [ABSENCE, DISTANCE])
    with_risks(cast, cast.school, current, [FAMILY])
    response = login(cast.coordinator).get(reverse("participation_report"))
    table = response.context["risks"]
    assert [str(c) for c in table.columns[1:]] == [
        "1. mācību darba un izglītības iestādes riski",
        "2. ekonomiskie riski",
        "3. ar ģimeni saistītie riski",
    ]
    rows = {row[0]: [c.value for c in row[1:]] for row in table.rows}
    label = f"{current.school_year} {'I' if current.number == 1 else 'II'}"
    assert rows[label] == [4, 4, 1]
    assert [0, 0] in [values[1:] for values in rows.values()]  # the earlier semester: type 1
    chart = response.context["charts"]["risk_semesters"]
    root, titles = svg_of(chart)
    assert titles == [str(table.title)]
    assert root.get("aria-label") == str(table.title)
    assert sorted(as_number(v) for v in drawn(chart.svg)) == sorted(visible(table))
    assert 'id="chart-risk-semesters"' in response.content.decode()
    # The chosen semester's "By risk type" is the same figures.
    by_type = next(t for t in response.context["tables"] if t.key == "risks")
    assert [c.value for _name, c in by_type.rows] == rows[label]


def test_a_hidden_risk_figure_is_not_drawn_above_the_school(cast, login):
    current = Semester.objects.current()
    for _n in range(12):
        with_risks(cast, cast.school, current, [ABSENCE])
    small = SchoolFactory(municipality=cast.school.municipality, name="Mazā skola")
    with_risks(cast, small, current, [FAMILY])
    other = cast.other_school
    for _n in range(5):
        with_risks(cast, other, current, [ABSENCE])
    response = login(cast.agency).get(reverse("participation_report"), {"scope": "all"})
    table = response.context["risks"]
    marks = [c.mark for row in table.rows for c in row[1:] if c.hidden]
    assert "<3" in marks
    chart = response.context["charts"]["risk_semesters"]
    assert chart.hidden == len(marks)
    assert sorted(as_number(v) for v in drawn(chart.svg)) == sorted(visible(table))
    assert Decimal(1) not in [as_number(v) for v in drawn(chart.svg)]


def test_consultation_hours_per_school_above_the_school(cast, login):
    semester = Semester.objects.current()
    for _n in range(4):
        plan = with_risks(cast, cast.school, semester, [ABSENCE])  # 6 hours planned each
        Consultation.objects.create(
            measure=plan.measures.get(),
            date=semester.start_date,
            minutes=90,
            topic="Saruna",
            provider=cast.specialist,
        )
    third = SchoolFactory(municipality=cast.school.municipality, name="Trešā skola")
    for _n in range(3):
        with_risks(cast, third, semester, [ABSENCE])
    small = SchoolFactory(municipality=cast.school.municipality, name="Mazā skola")
    with_risks(cast, small, semester, [ABSENCE])
    scope = f"municipality-{cast.school.municipality_id}"
    for client in (login(cast.municipality), login(cast.agency)):
        response = client.get(reverse("participation_report"), {"scope": scope})
        fidelity = next(t for t in response.context["tables"] if t.key == "fidelity")
        rows = {row[0]: row[2:] for row in fidelity.rows}
        assert set(rows) == {cast.school.name, third.name, small.name}
        pupils, planned, delivered, share = rows[cast.school.name]
        assert (pupils.value, planned.value, delivered.value, share) == (
            4,
            Decimal("24"),
            Decimal("6.0"),
            Decimal("25.00"),
        )
        # One pupil: hidden, and with it a partner, so the municipality's total gives
        # neither away.
        assert [str(c) for c in rows[small.name]] == ["<3", "<3", "<3", "x"]
        assert [str(c) for c in rows[third.name]] == ["x", "x", "x", "x"]
    # The country's scope compares municipalities (the agency opens one for its schools):
    # this one's 8 pupils, 48 hours planned, 6 delivered.
    country = login(cast.agency).get(reverse("participation_report"), {"scope": "all"})
    keys = [t.key for t in country.context["tables"]]
    assert "fidelity" not in keys
    fidelity = next(t for t in country.context["tables"] if t.key == "fidelity_municipalities")
    [row] = fidelity.rows
    assert row[0] == cast.school.municipality.name
    assert [c.value for c in row[2:5]] == [8, Decimal("48"), Decimal("6.0")]
    assert row[5] == Decimal("12.50")
    # Not in a school's own report: its measures table is the school's fidelity.
    own = login(cast.coordinator).get(reverse("participation_report"))
    assert "fidelity" not in [t.key for t in own.context["tables"]]


def pdf_text(content):
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )


def test_the_pdf_has_the_risk_chart_and_the_small_multiples(cast, login):
    pupils_at(cast, cast.school, 12)
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Vidējā"), 6)
    client = login(cast.municipality)
    scope = {"scope": f"municipality-{cast.school.municipality_id}"}
    page = client.get(reverse("participation_report"), scope)
    parts = page.context["charts"]["parts"]
    assert [str(c.title) for c in parts] == [cast.school.name, "Vidējā"]
    with mock.patch.object(views, "render_pdf", wraps=views.render_pdf) as rendering:
        pdf = client.get(reverse("participation_report"), {**scope, "format": "pdf"})
    html = render_to_string(*rendering.call_args.args[:2])
    # Each small multiple and the risk chart, drawn inside the PDF with their styles.
    assert html.count('<div class="multiple"><svg') == 2
    assert 'id="chart-risk-semesters"' in html and 'id="chart-part-1"' in html
    text = pdf_text(pdf.content)
    assert "Skolas līdzās" in text
    # The risk chart's title is drawn in the chart, written under it, and heads its table.
    assert text.count(str(page.context["risks"].title)) == 3
    # The school's name: drawn in its small multiple and written under it, then a row of
    # the schools table and of the consultation hours by school.
    assert text.count("Vidējā") == 4


def test_esf_charts_draw_the_tables_and_hide_what_they_hide(cast, login):
    year = SchoolYear.objects.current()
    birth = date(year.start_year - 13, 1, 1)
    small = SchoolFactory(municipality=cast.school.municipality)
    for _n in range(4):
        supported(cast, cast.school, grade=7, birth=birth, gender="M")
    for _n in range(3):
        supported(cast, cast.school, grade=11, birth=date(year.start_year - 16, 1, 1), gender="F")
    supported(cast, small, grade=7, birth=birth, gender="F", outcome=SupportPlan.Outcome.LEFT)
    for user, scope in (
        (cast.coordinator, f"school-{cast.school.pk}"),
        (cast.municipality, f"municipality-{cast.school.municipality_id}"),
    ):
        response = login(user).get(reverse("esf_indicators"), {"scope": scope})
        content = response.content.decode()
        assert "css/charts.css" in content
        charts_of = {table.key: (table, chart) for table, chart in response.context["table_charts"]}
        assert charts_of.pop("esf_total")[1] is None
        assert set(charts_of) == {"esf_gender", "esf_age", "esf_isced", "esf_result"}
        hidden_cells = 0
        for table, chart in charts_of.values():
            assert f'id="{chart.svg_id}"' in content
            _root, titles = svg_of(chart)
            assert titles == [str(table.title)]
            # One source: what is drawn is what the table shows, a hidden count left out.
            assert [as_number(v) for v in drawn(chart.svg)] == visible(table)
            assert chart.hidden == sum(1 for row in table.rows if row[1].hidden)
            hidden_cells += chart.hidden
        for svg in re.findall(r"<svg.*?</svg>", content, flags=re.S):
            assert "style=" not in svg and "<style" not in svg
        results = charts_of["esf_result"][0]
        left = results.rows[[key for key, _name in indicators.RESULTS].index("left")][1]
        if scope.startswith("school"):
            assert hidden_cells == 0
        else:
            # The small school's one pupil who left, and a partner: neither is drawn.
            assert left.mark == "<3" and hidden_cells >= 2
            assert "1" not in drawn(charts_of["esf_result"][1].svg)


def test_the_esf_page_above_the_school_takes_a_fixed_number_of_queries(
    cast, login, django_assert_num_queries
):
    year = SchoolYear.objects.current()
    client = login(cast.municipality)
    scope = {"scope": f"municipality-{cast.school.municipality_id}"}
    for count in (1, 6):
        for _n in range(count):
            supported(cast, cast.school, grade=3, birth=date(year.start_year - 9, 1, 1), gender="F")
        cache.clear()  # the country's counts are kept a few minutes: count them again
        # session, user, memberships, the scopes' municipalities, the school years, the
        # current one, the country's plans and grades, the next school year
        with django_assert_num_queries(9):
            response = client.get(reverse("esf_indicators"), scope)
        assert 'id="chart-esf-gender"' in response.content.decode()


def test_a_pdf_draws_the_largest_small_multiples_when_there_are_many(cast, login):
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Lielā"), 9)
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Vidējā"), 6)
    pupils_at(cast, SchoolFactory(municipality=cast.school.municipality, name="Mazākā"), 4)
    client = login(cast.municipality)
    scope = {"scope": f"municipality-{cast.school.municipality_id}"}
    assert len(client.get(reverse("participation_report"), scope).context["charts"]["parts"]) == 3
    with (
        mock.patch.object(charts, "PDF_MULTIPLES", 2),
        mock.patch.object(views, "render_pdf", wraps=views.render_pdf) as rendering,
    ):
        client.get(reverse("participation_report"), {**scope, "format": "pdf"})
    context = rendering.call_args.args[1]
    assert [str(c.title) for c in context["print_parts"]] == ["Lielā", "Vidējā"]
    assert context["parts_left_out"] == 1
    html = render_to_string(*rendering.call_args.args[:2])
    assert html.count('<div class="multiple"><svg') == 2

"""The participation report's charts: drawn on the server, under the CSP, hiding what the
tables hide, in the page and the PDF alike."""

import re
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from iap_portal import charts as toolkit
from reports import charts
from reports.participation import Cell, Table
from reports.tests.test_disclosure import pupils_at
from students.tests.factories import SchoolFactory

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
    reader = PdfReader(__import__("io").BytesIO(response.content))
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

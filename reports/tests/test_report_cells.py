"""The report table's rows as HTML (reports/templatetags/report_tags.py): written directly for
speed, escaped exactly as ``format_html`` escaped them."""

from decimal import Decimal

from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from reports.participation import HIDDEN_MARK, SMALL_MARK, Cell
from reports.templatetags.report_tags import cell, pdf_row, report_row

ROWS = [
    ["Rīgas <1.> vidusskola & co", 12, Cell(7), Cell(2, SMALL_MARK), Cell(5, HIDDEN_MARK)],
    [mark_safe("<em>Kopā</em>"), Decimal("1234.5"), Cell(Decimal("0.25")), 0, "a<b"],
]


def as_format_html(row, heading, opening):
    first, *rest = row
    return format_html(
        heading + "{}",
        first,
        format_html_join("", opening + "{}</td>", ((cell(v),) for v in rest)),
    )


def test_rows_are_escaped_as_format_html_would():
    for language in ("lv", "en"):
        with translation.override(language):
            for row in ROWS:
                assert report_row(row) == as_format_html(
                    row, '<th scope="row" class="fw-normal">{}</th>', '<td class="text-end">'
                )
                assert pdf_row(row) == as_format_html(row, "<td>{}</td>", '<td class="num">')


def test_a_hidden_figure_shows_its_mark_escaped_and_names_are_escaped():
    html = report_row(ROWS[0])
    assert "Rīgas &lt;1.&gt; vidusskola &amp; co" in html
    assert '<td class="text-end">&lt;3</td><td class="text-end">x</td>' in html
    assert "<em>Kopā</em>" in report_row(ROWS[1])

"""Charts of the participation report, drawn on the server as SVG (pygal).

The same SVG goes into the page and the PDF (WeasyPrint draws inline SVG) and works under the
strict Content-Security-Policy: pygal is asked for no JavaScript, and what it would style
inline (a ``<style>`` element, a few ``style`` attributes) is removed — the colours and fonts
come from ``static/css/charts.css``, which the page and the print stylesheet both load.

A chart draws what its table shows and nothing more: a figure the table hides ("<3", "x") is
not drawn, and the caption says how many were left out. The table stays beside the chart as
its text alternative.
"""

import html
import re
from decimal import Decimal
from functools import lru_cache

import pygal
from django.core.cache import cache
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from .participation import Cell, Table

# Okabe and Ito's palette (without its yellow, too faint on white), ordered so that neighbouring
# series differ in lightness too (they stay apart in greyscale); charts.css gives the same
# colours to the classes pygal sets.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#000000")

_STYLE = Style(
    colors=PALETTE,
    background="transparent",
    plot_background="transparent",
    font_family="DejaVu Sans, sans-serif",
)

WIDTH, HEIGHT = 640, 320
# A snapshot's charts are named by its time, so an entry outlives it only unused.
CHART_CACHE_SECONDS = 24 * 3600


def _number(value):
    if value is None:
        return ""
    places = 0 if value == int(value) else 2
    return number_format(Decimal(str(value)), places, force_grouping=True)


def _value(cell):
    """The number a cell draws, or None where the table hides it."""
    if isinstance(cell, Cell):
        return None if cell.hidden else float(cell.value)
    if isinstance(cell, int | float | Decimal):
        return float(cell)
    return None


class Chart:
    """A rendered chart: its title, the SVG and how many figures were not drawn."""

    def __init__(self, title, svg, hidden, svg_id=""):
        self.title = title
        self.svg_id = svg_id
        self.svg = mark_safe(svg)  # noqa: S308 - pygal's own escaped output, cleaned below
        self.hidden = hidden

    def __bool__(self):
        return bool(self.svg)

    @property
    def print_svg(self):
        """For a PDF: WeasyPrint styles an inline SVG from the SVG's own ``<style>`` only (no
        CSP there), so the stylesheet goes inside."""
        if not self.svg:
            return self.svg
        head, _sep, rest = str(self.svg).partition(">")
        return mark_safe(f"{head}><style>{_print_css()}</style>{rest}")  # noqa: S308


_REMOVED = (
    re.compile(r"<style\b.*?</style>", re.S),
    re.compile(r"<script\b.*?</script>", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r'\sstyle="[^"]*"'),
)
_ROOT = re.compile(r"<svg\b[^>]*>")


def _clean(svg: str, chart_id: str, title: str) -> str:
    """pygal's SVG without what the CSP forbids (its ``<style>``, ``style=`` attributes,
    comments) and with a stable id instead of a random one, and named for screen readers."""
    for pattern in _REMOVED:
        svg = pattern.sub("", svg)
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'id="{chart_id}" class="iap-chart pygal-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" focusable="false" aria-label="{escape(title)}">'
    )
    return _ROOT.sub(root, svg, count=1)


def _render(chart, chart_id, title):
    return Chart(title, _clean(chart.render(is_unicode=True), chart_id, str(title)), 0, chart_id)


def _config(title, **options):
    return {
        "title": title,
        "style": _STYLE,
        "js": [],
        "css": [],
        "no_prefix": True,
        "disable_xml_declaration": True,
        "width": WIDTH,
        "height": HEIGHT,
        "explicit_size": False,
        "value_formatter": _number,
        "legend_at_bottom": True,
        "print_values": False,
        "show_minor_y_labels": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "no_data_text": _("No data for this period."),
        **options,
    }


def bar_chart(
    table: Table, *, chart_id: str, label_column=0, value_columns=(1,), horizontal=False
) -> Chart:
    """One bar per row of the table; a series per value column."""
    labels = [str(row[label_column]) for row in table.rows]
    series = []
    hidden = 0
    for column in value_columns:
        values = [_value(row[column]) for row in table.rows]
        hidden += sum(
            1 for row in table.rows if isinstance(row[column], Cell) and row[column].hidden
        )
        series.append((str(table.columns[column]), values))
    if not any(v is not None for _name, values in series for v in values):
        return Chart(table.title, "", hidden)
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        **_config(
            str(table.title),
            show_legend=len(series) > 1,
            x_label_rotation=0 if horizontal or len(labels) <= 8 else 30,
        )
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    rendered = _render(chart, chart_id, table.title)
    rendered.hidden = hidden
    return rendered


def semester_chart(table: Table, *, chart_id: str) -> Chart:
    """Pupils per semester over all years, in order: 2017/2018 I, II, 2018/2019 I, …"""
    labels, values, hidden = [], [], 0
    for year, *semesters in table.rows:
        for number, cell in zip(("I", "II"), semesters, strict=True):
            labels.append(f"{year} {number}")
            values.append(_value(cell))
            hidden += isinstance(cell, Cell) and cell.hidden
    if not any(v is not None for v in values):
        return Chart(table.title, "", hidden)
    chart = pygal.Bar(
        **_config(
            str(table.title), show_legend=False, x_label_rotation=30 if len(labels) > 8 else 0
        )
    )
    chart.x_labels = labels
    chart.add(str(table.columns[1]).split()[0] if table.columns else "", values)
    rendered = _render(chart, chart_id, table.title)
    rendered.hidden = hidden
    return rendered


def participation_charts(main: Table, tables: list[Table]) -> dict[str, Chart]:
    """The report's charts by the key of the table each stands beside."""
    by_key = {t.key: t for t in tables}
    charts = {"semesters": semester_chart(main, chart_id="chart-semesters")}
    if "risks" in by_key:
        charts["risks"] = bar_chart(by_key["risks"], chart_id="chart-risks", horizontal=True)
    if "measures" in by_key:
        hours = Table(
            title=_("Consultation hours by specialist type"),
            columns=[_("Specialist"), _("Planned hours"), _("Delivered hours")],
            rows=[
                [row[1], row[3], row[4]]
                for row in by_key["measures"].rows
                if isinstance(row[3], Cell) and row[1]
            ],
        )
        charts["measures"] = bar_chart(hours, chart_id="chart-hours", value_columns=(1, 2))
    if "money" in by_key:
        # Category, Pupils, Planned, Claimed, Approved, Paid: planned, approved and paid.
        charts["money"] = bar_chart(
            by_key["money"], chart_id="chart-money", value_columns=(2, 4, 5)
        )
    if "outcomes" in by_key:
        charts["outcomes"] = bar_chart(
            by_key["outcomes"], chart_id="chart-outcomes", horizontal=True
        )
    return charts


def cached_charts(cache_key, main, tables):
    """The charts, kept beside the snapshot they draw (``cache_key`` names the snapshot, its
    scope and the language); None: draw them now and keep nothing."""
    if cache_key is None:
        return participation_charts(main, tables)
    charts = cache.get(cache_key)
    if charts is None:
        charts = participation_charts(main, tables)
        cache.set(cache_key, charts, CHART_CACHE_SECONDS)
    return charts


@lru_cache(maxsize=1)
def _print_css():
    return stylesheet().replace("<", "")


def stylesheet() -> str:
    """The CSS pygal would put inside each chart (its own graph and style sheets, with the
    palette), scoped to ``.iap-chart``: ``static/css/charts.css`` is this text
    (``manage.py chart_css`` writes it; a test checks that it is current)."""
    chart = pygal.Bar(style=_STYLE, js=[], disable_xml_declaration=True, no_prefix=False)
    chart.add("", [1] * len(PALETTE))
    for _number_of_series in range(len(PALETTE) - 1):
        chart.add("", [1])
    svg = chart.render(is_unicode=True)
    css = "\n".join(
        html.unescape(part) for part in re.findall(r"<style[^>]*>(.*?)</style>", svg, flags=re.S)
    )
    scoped = re.sub(r"#chart-[0-9a-f-]+", ".iap-chart", css)
    # Tooltips are pygal's JavaScript, which is off.
    return "/* Generated by `manage.py chart_css` from pygal's style sheets. */\n" + scoped + "\n"

"""Charts drawn on the server as SVG with pygal, for pages and PDFs alike.

The SVG keeps to the strict Content-Security-Policy: pygal is asked for no JavaScript, and
what it would style inline (a ``<style>`` element, a few ``style`` attributes) is removed — the
colours and fonts come from ``static/css/charts.css`` (``stylesheet()``, written by
``manage.py chart_css``). WeasyPrint styles an inline SVG only from the SVG's own
``<style>``, so a PDF takes ``Chart.print_svg``, which carries the stylesheet inside.
"""

import html
import re
from decimal import Decimal
from functools import lru_cache

import pygal
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

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


def number(value):
    if value is None:
        return ""
    places = 0 if value == int(value) else 2
    return number_format(Decimal(str(value)), places, force_grouping=True)


class Chart:
    """A rendered chart: its title, the SVG and how many figures were not drawn."""

    def __init__(self, title, svg, hidden, svg_id=""):
        self.title = title
        self.svg_id = svg_id
        self.svg = mark_safe(svg)  # noqa: S308 - pygal's own escaped output, cleaned
        self.hidden = hidden

    def __bool__(self):
        return bool(self.svg)

    @property
    def print_svg(self):
        """For a PDF: WeasyPrint styles an inline SVG from the SVG's own ``<style>`` only (no
        CSP there), so the stylesheet goes inside."""
        if not self.svg:
            return self.svg
        # The values' descriptions are for screen readers and tooltips; paper has neither,
        # and WeasyPrint's time grows with the elements of an SVG (small multiples by the
        # hundred).
        head, _sep, rest = _DESC.sub("", str(self.svg)).partition(">")
        return mark_safe(f"{head}><style>{_print_css()}</style>{rest}")  # noqa: S308


_REMOVED = (
    re.compile(r"<style\b.*?</style>", re.S),
    re.compile(r"<script\b.*?</script>", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r'\sstyle="[^"]*"'),
)
_ROOT = re.compile(r"<svg\b[^>]*>")
_DESC = re.compile(r"<desc\b[^>]*>.*?</desc>", re.S)
# pygal names each series' legend "activate-serie-N" in every chart: made unique per chart, so
# that a page (or a PDF) of several charts has no id twice.
_SERIES_ID = re.compile(r'id="activate-serie-')


def clean(svg: str, chart_id: str, title: str, width=WIDTH, height=HEIGHT) -> str:
    """pygal's SVG without what the CSP forbids (its ``<style>``, ``style=`` attributes,
    comments) and with a stable id instead of a random one, and named for screen readers."""
    for pattern in _REMOVED:
        svg = pattern.sub("", svg)
    svg = _SERIES_ID.sub(f'id="{chart_id}-serie-', svg)
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'id="{chart_id}" class="iap-chart pygal-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" '
        f'role="img" focusable="false" aria-label="{escape(title)}">'
    )
    return _ROOT.sub(root, svg, count=1)


def render(chart, chart_id, title) -> "Chart":
    """A pygal chart, drawn and cleaned (at the size its settings give)."""
    svg = clean(
        chart.render(is_unicode=True),
        chart_id,
        str(title),
        width=chart.config.width,
        height=chart.config.height,
    )
    return Chart(title, svg, 0, chart_id)


def config(title, **options):
    """pygal's settings for every chart of the app; ``options`` add to them."""
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
        "value_formatter": number,
        "legend_at_bottom": True,
        "margin_right": 36,
        "print_values": False,
        "show_minor_y_labels": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "no_data_text": _("No data for this period."),
        **options,
    }


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

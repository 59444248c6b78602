import html
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

from reports.participation import Cell

register = template.Library()


@register.filter
def cell(value):
    """A report cell as text: a hidden figure's mark ("<3", "x"), money and hours with two
    decimals (localised), counts as they are.

    One filter instead of ``{% if v.quantize %}`` in the template: the report of 600 schools
    has thousands of cells, and a failed attribute lookup per cell cost tens of milliseconds."""
    if isinstance(value, Cell):
        if value.hidden:
            return value.mark
        value = value.value
    if isinstance(value, Decimal):
        return floatformat(value, "2g")
    return value


def _cells(values, opening):
    """The cells' HTML, escaped as ``format_html`` would (safe text as it is, anything else
    escaped), without its per-argument overhead: the report of 600 schools has ~4,000 cells and
    ``format_html`` per cell was a third of the page's CPU."""
    parts = []
    for value in values:
        text = cell(value)
        if not isinstance(text, SafeData):
            text = html.escape(str(text))
        parts.append(f"{opening}{text}</td>")
    return "".join(parts)


@register.filter
def report_row(row):
    """One table row's cells as HTML (the page's table): the first cell is the row's heading."""
    first, *rest = row
    return mark_safe(  # noqa: S308 - every part escaped above and here
        f'<th scope="row" class="fw-normal">{conditional_escape(first)}</th>'
        + _cells(rest, '<td class="text-end">')
    )


@register.filter
def pdf_row(row):
    """One table row's cells as HTML for the printed report."""
    first, *rest = row
    return mark_safe(  # noqa: S308 - every part escaped above and here
        f"<td>{conditional_escape(first)}</td>" + _cells(rest, '<td class="num">')
    )

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html, format_html_join

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


@register.filter
def report_row(row):
    """One table row's cells as HTML (the page's table): the first cell is the row's heading."""
    first, *rest = row
    return format_html(
        '<th scope="row" class="fw-normal">{}</th>{}',
        first,
        format_html_join("", '<td class="text-end">{}</td>', ((cell(v),) for v in rest)),
    )


@register.filter
def pdf_row(row):
    """One table row's cells as HTML for the printed report."""
    first, *rest = row
    return format_html(
        "<td>{}</td>{}",
        first,
        format_html_join("", '<td class="num">{}</td>', ((cell(v),) for v in rest)),
    )

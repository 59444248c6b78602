from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.translation import pgettext

from iap_portal.users import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user):
    return _display_name(user)


@register.filter
def eur(value):
    """An amount as the page's language writes money: 1 234,50 € in Latvian, €1,234.50 in
    English (one filter for pages and PDFs)."""
    if value is None or value == "":
        return ""
    amount = number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    return pgettext("money", "%(amount)s €") % {"amount": amount}


@register.filter
def hours(value):
    """Hours as the page's language writes them, always with one decimal: 6,0 h in Latvian,
    6.0 h in English (one filter for pages and PDFs)."""
    if value is None or value == "":
        return ""
    return pgettext("hours", "%(hours)s h") % {"hours": floatformat(value, 1)}


@register.filter
def quoted(text):
    """Someone's words in the page's language's quotation marks: „…” in Latvian, “…” in
    English."""
    return pgettext("quotation", "“%(text)s”") % {"text": text}

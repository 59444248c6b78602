"""Names kept in both languages (the catalogues users read): which one a page shows."""

from decimal import Decimal

from django.utils import dateformat
from django.utils.formats import number_format
from django.utils.translation import get_language


def wants_english() -> bool:
    return (get_language() or "").startswith("en")


def localized(latvian: str, english: str) -> str:
    """The English name for a user who chose English, where one is kept; else the Latvian."""
    if english and wants_english():
        return english
    return latvian


def shown(name) -> str:
    """A name kept as ``(latvian, english)`` (a cached report's label) in the page's language;
    a plain string as it is."""
    if isinstance(name, tuple):
        return localized(*name)
    return name


def format_day(value) -> str:
    """A date as messages write it, like the pages: 1.09.2026 (the day without a leading
    zero)."""
    return dateformat.format(value, "j.m.Y")


class LocalDecimal(Decimal):
    """A decimal that a message writes as the page's language does (0,5 in Latvian): for the
    limits of validators, whose messages put the limit in as text. Equal to, and serialised in
    migrations as, the plain Decimal."""

    def __str__(self):
        return number_format(Decimal(self), use_l10n=True)

"""Names kept in both languages (the catalogues users read): which one a page shows."""

from django.utils import dateformat
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

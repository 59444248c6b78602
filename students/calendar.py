"""Date helpers for the national school calendar (used by the calendar form and the demo data)."""

from datetime import date, timedelta


def first_weekday_on_or_after(day):
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def last_weekday_on_or_before(day):
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def semester_dates(start_year):
    """Dates in the shape of the Cabinet's calendar: I from early September to just before
    Christmas, II from the first working week of January to the end of May."""
    first = (
        first_weekday_on_or_after(date(start_year, 9, 1)),
        last_weekday_on_or_before(date(start_year, 12, 20)),
    )
    second = (
        first_weekday_on_or_after(date(start_year + 1, 1, 6)),
        last_weekday_on_or_before(date(start_year + 1, 5, 31)),
    )
    return first, second


def current_start_year(today):
    """The first calendar year of the school year that today falls in (from 1 September)."""
    return today.year if today >= date(today.year, 9, 1) else today.year - 1

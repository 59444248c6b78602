"""Form pieces every app uses: a date widget, a number field that reads Latvian input, a
school field limited to the user's schools, and the one-comment form of a return, rejection or
suspension."""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

# Digits (ASCII only), optionally grouped by threes with a space, one decimal separator.
_NUMBER = re.compile(r"^(-?)([0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)(?:[.,]([0-9]+))?$")


_ID = re.compile(r"^[0-9]{1,19}$")
MAX_ID = 2**63 - 1  # the largest primary key a database column holds


def parse_id(value) -> int | None:
    """A primary key from a request (a hidden field, a button, a query string), or None: only
    ASCII digits (``"٣".isdigit()`` is true), at least 1 and within a 64-bit column, so that
    a tampered value is "not found" rather than an overflow in the database."""
    text = value.strip() if isinstance(value, str) else ""
    if not _ID.match(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """The valid primary keys among ``values`` (``request.POST.getlist(...)``), in order."""
    return [n for n in map(parse_id, values) if n is not None]


def parse_decimal(text) -> Decimal | None:
    """A number as people here type it — "12,50", "12.50", "1 234,50" — or None when it is not
    one beyond doubt: both separators ("1.234,50"), two decimal separators ("12,5,0"), an
    exponent ("1e3"), other digits ("٣") or letters. Decimal() alone would take the last three."""
    match = _NUMBER.match(str(text).strip())
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    return Decimal(f"{sign}{re.sub(r'[^0-9]', '', whole)}.{fraction or '0'}")


class DecimalInput(forms.TextInput):
    """A text box for amounts and hours: a browser's number box turns "12,50" into 1250 in some
    locales; ``inputmode`` still brings up the phone's number keys."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
            return formats.number_format(value, use_l10n=True)
        return super().format_value(value)


class LocalDecimalField(forms.DecimalField):
    """A decimal typed the local way (``parse_decimal``); anything unclear is refused with a
    message, never guessed, and the places are checked, never rounded."""

    widget = DecimalInput
    default_error_messages = {"invalid": _("Enter a number such as 12,50 or 1 234,50.")}

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal):
            return value
        number = parse_decimal(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SchoolChoiceMixin:
    """A school field that only offers the schools the user manages, hidden when there is one."""

    def setup_school(self, schools):
        field = self.fields["school"]
        field.queryset = schools
        first_two = list(schools[:2])
        self.only_school = first_two[0] if len(first_two) == 1 else None
        if self.only_school:
            field.initial = self.only_school
            field.required = False
            field.widget = forms.HiddenInput()

    def clean_school(self):
        return self.cleaned_data.get("school") or self.only_school


class CommentForm(forms.Form):
    """One mandatory comment; a subclass names it (``comment_label``)."""

    comment_label = _("Comment")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].label = self.comment_label


class ReasonForm(CommentForm):
    comment_label = _("Reason")

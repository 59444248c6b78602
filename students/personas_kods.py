"""Latvian personal identity codes (personas kods): validation, normalisation, masking.

python-stdnum's ``lv.pvn`` checks both formats with their check digits: the old
``DDMMYY-CNNNN`` (birth date, century digit) and the new ``32NNNN-NNNNN`` (since 1.07.2017).
It also accepts company numbers (first digit above 3), which are refused here.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.lv import pvn


def normalise_personas_kods(value: str) -> str:
    """Return the code as 11 digits, or raise a ValidationError that says what is wrong."""
    raw = (value or "").strip().replace(" ", "")
    digits = raw.replace("-", "")
    if not digits.isdigit() or len(digits) != 11:
        raise ValidationError(
            _("A personal identity code has 11 digits, e.g. 010203-12345."), code="format"
        )
    if digits[0] > "3":
        raise ValidationError(
            _("This is a company registration number, not a personal identity code."),
            code="company",
        )
    try:
        return pvn.validate(digits)
    except InvalidChecksum:
        raise ValidationError(
            _("The personal identity code's check digit is wrong: check for a typo."),
            code="checksum",
        ) from None
    except InvalidComponent:
        raise ValidationError(
            _("The first six digits of an old-format code must be a valid birth date (DDMMYY)."),
            code="date",
        ) from None
    except StdnumError:
        raise ValidationError(
            _("This is not a valid personal identity code."), code="invalid"
        ) from None


def format_personas_kods(value: str) -> str:
    """The usual written form, with the hyphen after the sixth digit."""
    return f"{value[:6]}-{value[6:]}" if value and len(value) == 11 else value


def mask_personas_kods(value: str) -> str:
    """Show only the first part: ``123456-*****``."""
    return f"{value[:6]}-*****" if value else ""


def birth_date_from_personas_kods(value: str):
    """The birth date an old-format code carries, or None for the new ``32…`` format."""
    if not value or len(value) != 11 or not value.isdigit() or value.startswith("32"):
        return None
    try:
        return pvn.get_birth_date(value)
    except (StdnumError, ValueError):
        return None

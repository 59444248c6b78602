"""Bank accounts and registration numbers: validated with python-stdnum, stored normalised,
shown masked except to whoever pays."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.lv import pvn

_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")
_WHITESPACE = re.compile(r"\s+")
# stdnum's register of the countries' IBAN structures ("4!a13!c": the BBAN's parts).
_IBANS = numdb.get("iban")


def _expected_length(country: str) -> int | None:
    info = _IBANS.info(country)
    structure = info[0][1].get("bban") if info and info[0][1] else None
    if not structure:
        return None
    return 4 + sum(int(n) for n in re.findall(r"(\d+)!?[anc]", structure))


def normalise_iban(value: str) -> str:
    """The IBAN in capitals without spaces, or a ValidationError saying what is wrong: the
    country's length (Latvian IBANs are LV and 19 more characters) and the check digits."""
    # Any whitespace (a tab, a line break, a no-break space copied from a bank's page) goes.
    compact = stdnum_iban.compact(_WHITESPACE.sub("", value or ""))
    if not compact:
        raise ValidationError(_("Enter the IBAN."), code="required")
    if not _SHAPE.match(compact) or _expected_length(compact[:2]) is None:
        raise ValidationError(
            _("This is not an IBAN: it starts with the country code, e.g. LV80BANK0000435195001."),
            code="format",
        )
    expected = _expected_length(compact[:2])
    if len(compact) != expected:
        raise ValidationError(
            _(
                "An IBAN of %(country)s has %(expected)s characters (%(country)s and "
                "%(rest)s more); this one has %(length)s."
            )
            % {
                "country": compact[:2],
                "expected": expected,
                "rest": expected - 2,
                "length": len(compact),
            },
            code="length",
        )
    try:
        return stdnum_iban.validate(compact)
    except InvalidChecksum:
        raise ValidationError(
            _("The IBAN's check digits do not match: look for a mistyped character."),
            code="checksum",
        ) from None
    except InvalidLength:
        raise ValidationError(
            _("The IBAN has the wrong length for its country (a Latvian IBAN is 21 characters)."),
            code="length",
        ) from None
    except (InvalidFormat, InvalidComponent):
        raise ValidationError(
            _("This is not an IBAN: it starts with the country code, e.g. LV80BANK0000435195001."),
            code="format",
        ) from None


def normalise_registration_number(value: str) -> str:
    """A Latvian organisation's registration number (11 digits with a check digit)."""
    try:
        number = pvn.validate(value or "")
    except InvalidChecksum:
        raise ValidationError(
            _("The registration number's check digit does not match."), code="checksum"
        ) from None
    except (InvalidFormat, InvalidLength, InvalidComponent):
        raise ValidationError(
            _("A registration number has 11 digits, e.g. 40003245752."), code="format"
        ) from None
    if number[0] <= "3":
        raise ValidationError(
            _("This is a personal code, not an organisation's registration number."),
            code="personal",
        )
    return number


def _groups(value: str) -> list[str]:
    groups = [value[i : i + 4] for i in range(0, len(value), 4)]
    return groups


def mask_iban(value: str) -> str:
    """``LV** **** **** **** *1234``: the country and the last four characters only (a short
    last group joins the one before, so the four stay together)."""
    if not value:
        return ""
    hidden = value[:2] + "*" * (len(value) - 6) + value[-4:]
    groups = _groups(hidden)
    if len(groups) > 1 and len(groups[-1]) < 4:
        groups[-2:] = [groups[-2] + groups[-1]]
    return " ".join(groups)


def format_iban(value: str) -> str:
    """The whole IBAN in groups of four, as banks print it."""
    return " ".join(_groups(value))

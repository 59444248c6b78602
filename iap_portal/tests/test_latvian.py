"""Latvian as it is written (issue 21): cases after numbers, „…” quotes, decimal commas,
dates like 1.09.2026, € in sentences, one way to write hours — also where the text comes from
Django's own catalogue."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import translation

from iap_portal.i18n import LocalDecimal, format_day
from iap_portal.templatetags.portal import eur, hours, quoted
from plans.models import SupportMeasure
from students.importer import class_problem


@pytest.mark.parametrize(
    ("size", "latvian"), [(1, "1 baits"), (21, "21 baits"), (393, "393 baiti"), (0, "0 baitu")]
)
def test_a_file_size_takes_the_case_of_its_number(size, latvian):
    with translation.override("lv"):
        assert filesizeformat(size).replace("\xa0", " ") == latvian


def test_djangos_own_messages_read_as_latvian():
    with translation.override("lv"):
        assert MinimumLengthValidator(12).get_help_text() == "Parolē jābūt vismaz 12 rakstzīmēm."
        assert MinimumLengthValidator(21).get_help_text() == "Parolē jābūt vismaz 21 rakstzīmei."
        field = SupportMeasure._meta.get_field("planned_hours")
        with pytest.raises(ValidationError) as low:
            field.run_validators(Decimal("0.2"))
        assert low.value.messages == ["Vērtībai jābūt lielākai vai vienādai ar 0,5."]
        with pytest.raises(ValidationError) as high:
            field.run_validators(Decimal("501"))
        assert "jābūt mazākai" in high.value.messages[0] and "jabūt" not in high.value.messages[0]
    with translation.override("en"):
        with pytest.raises(ValidationError) as english:
            field.run_validators(Decimal("0.2"))
        assert english.value.messages == ["Ensure this value is greater than or equal to 0.5."]
    assert LocalDecimal("0.5") == Decimal("0.5")


def test_a_wrong_password_is_refused_in_latvian(client, cast):
    response = client.post(
        reverse("login"), {"username": cast.class_teacher.username, "password": "nepareiza"}
    )
    text = response.content.decode()
    assert "pareizu lietotājvārds" not in text
    assert "Nepareizs lietotājvārds vai parole." in text


def test_amounts_hours_dates_and_quotes_are_written_one_way():
    with translation.override("lv"):
        assert eur(Decimal("1234.5")).replace("\xa0", " ") == "1 234,50 €"
        assert hours(Decimal("6")) == "6,0 h" and hours(Decimal("1.5")) == "1,5 h"
        assert quoted("Labi") == "„Labi”"
    with translation.override("en"):
        assert eur(Decimal("1234.5")) == "€1,234.50"
        assert hours(Decimal("6")) == "6.0 h"
        assert quoted("Good") == "“Good”"
    assert hours(None) == "" and format_day(datetime.date(2026, 9, 1)) == "1.09.2026"


def test_an_empty_class_is_named_as_empty():
    with translation.override("lv"):
        assert class_problem("") == "Klase nav norādīta: norādiet to formā 7.a."
        assert class_problem("13.a") == (
            "Klase „13.a” nav norādīta formā 7.a (klases līmenis 1–12)."
        )

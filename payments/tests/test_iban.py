"""Bank accounts and registration numbers: validated, stored normalised, shown masked."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from payments.iban import format_iban, mask_iban, normalise_iban, normalise_registration_number

LV = "LV80BANK0000435195001"


@pytest.fixture(autouse=True)
def english():
    """The messages are read in English here (their Latvian: the tests that say so)."""
    with translation.override("en"):
        yield


def refusal(function, value):
    with pytest.raises(ValidationError) as caught:
        function(value)
    return caught.value.code, " ".join(caught.value.messages)


@pytest.mark.parametrize(
    "value",
    [
        LV,
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "EE382200221020145685",
        "LT121000011101001000",
        "FR1420041010050500013M02606",
        "NO9386011117947",
    ],
)
def test_it_accepts_latvian_and_foreign_ibans(value):
    assert normalise_iban(value) == value


@pytest.mark.parametrize(
    "typed",
    [
        "lv80bank0000435195001",
        "LV80 BANK 0000 4351 9500 1",
        " lv80 bank 0000 4351 9500 1 ",
        "LV80-BANK-0000-4351-9500-1",
        # Copied from a bank's page or a spreadsheet cell: a no-break space, a tab, a new line.
        "LV80\u00a0BANK\u00a00000\u00a04351\u00a09500\u00a01",
        "LV80\tBANK0000\n435195001",
    ],
)
def test_it_stores_the_iban_in_capitals_without_spaces(typed):
    assert normalise_iban(typed) == LV


def test_it_refuses_a_mistyped_character_by_the_check_digits():
    code, message = refusal(normalise_iban, "LV80BANK0000435195002")
    assert code == "checksum" and "check digits" in message
    code, _message = refusal(normalise_iban, "LV81BANK0000435195001")
    assert code == "checksum"


@pytest.mark.parametrize(
    ("value", "country", "expected", "length"),
    [
        ("LV80BANK000043519500", "LV", 21, 20),
        ("LV80BANK00004351950011", "LV", 21, 22),
        ("DE8937040044053201300", "DE", 22, 21),
    ],
)
def test_a_wrong_length_names_the_countrys_length(value, country, expected, length):
    code, message = refusal(normalise_iban, value)
    assert code == "length"
    assert f"{country} has {expected} characters ({country} and {expected - 2} more)" in message
    assert f"this one has {length}" in message


def test_the_length_message_is_latvian_too():
    with translation.override("lv"):
        _code, message = refusal(normalise_iban, "LV80BANK000043519500")
    assert "21" in message and "20" in message and "characters" not in message


@pytest.mark.parametrize(
    "value",
    ["hello", "12345678901234567890", "XX80BANK0000435195001", "LV8", "LVAB BANK 0000 4351 9500 1"],
)
def test_it_says_what_is_not_an_iban(value):
    code, message = refusal(normalise_iban, value)
    assert code == "format" and "country code" in message


@pytest.mark.parametrize("value", ["", "   ", None])
def test_an_empty_iban_is_asked_for(value):
    assert refusal(normalise_iban, value)[0] == "required"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("40003245752", "40003245752"),
        ("4000 3245 752", "40003245752"),
        ("LV40003245752", "40003245752"),
        ("90000065985", "90000065985"),
    ],
)
def test_it_accepts_an_organisations_registration_number(typed, stored):
    assert normalise_registration_number(typed) == stored


def test_it_refuses_a_registration_number_with_a_wrong_check_digit():
    assert refusal(normalise_registration_number, "40003245751")[0] == "checksum"


@pytest.mark.parametrize("value", ["4000324575", "400032457520", "abc", ""])
def test_it_refuses_a_registration_number_of_the_wrong_length(value):
    code, message = refusal(normalise_registration_number, value)
    assert code == "format" and "11 digits" in message


@pytest.mark.parametrize("value", ["32867300679", "161175-19997", "16117519997"])
def test_it_refuses_a_personal_code_as_a_registration_number(value):
    code, message = refusal(normalise_registration_number, value)
    assert code == "personal" and "personal code" in message


def test_the_mask_shows_the_country_and_the_last_four_only():
    assert mask_iban(LV) == "LV** **** **** **** *5001"
    masked = mask_iban("LV80BANK0000435191234")
    assert masked == "LV** **** **** **** *1234"
    assert "BANK" not in masked and "80" not in masked
    # Another country's length: still the last four together, the rest hidden.
    assert mask_iban("DE89370400440532013000") == "DE** **** **** **** **3000"
    assert mask_iban("NO9386011117947") == "NO** **** ***7947"
    assert mask_iban("") == ""


def test_the_full_iban_is_printed_in_groups_of_four():
    assert format_iban(LV) == "LV80 BANK 0000 4351 9500 1"

"""Amounts and hours typed as people here type them; anything unclear refused, never guessed."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from compensations.forms import ClaimLineForm
from compensations.tests.factories import claimable_plan, draft_claim
from iap_portal.forms import DecimalInput
from iap_portal.templatetags.portal import eur

ACCEPTED = {
    "12,50": Decimal("12.50"),
    "12.50": Decimal("12.50"),
    "1 234,50": Decimal("1234.50"),
    "1\u00a0234,50": Decimal("1234.50"),  # a no-break space, as a spreadsheet copies it
    "1234,5": Decimal("1234.5"),
    " 7 ": Decimal("7"),
}
REFUSED = ["1.234,50", "12,5,0", "1e3", "٣", "12,555", "abc", "1 23,50", "0", "-5"]


@pytest.mark.parametrize(("typed", "amount"), ACCEPTED.items())
def test_an_amount_typed_the_local_way_is_read_as_meant(typed, amount):
    form = ClaimLineForm({"date": "2026-11-02", "description": "Biļetes", "amount": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == amount


@pytest.mark.parametrize("typed", REFUSED)
def test_an_unclear_amount_is_refused_with_a_message(typed):
    form = ClaimLineForm({"date": "2026-11-02", "description": "Biļetes", "amount": typed})
    assert not form.is_valid()
    assert form.errors["amount"]


def test_an_empty_amount_is_asked_for():
    form = ClaimLineForm({"date": "2026-11-02", "description": "Biļetes", "amount": "  "})
    assert not form.is_valid() and form.errors["amount"]


def test_the_box_is_text_with_number_keys_and_shows_the_local_format():
    widget = DecimalInput()
    with translation.override("lv"):
        html = widget.render("amount", Decimal("1234.50"))
    assert 'type="text"' in html and 'inputmode="decimal"' in html
    assert 'value="1234,50"' in html
    with translation.override("en"):
        assert 'value="1234.50"' in widget.render("amount", Decimal("1234.50"))


def test_money_reads_the_same_everywhere_in_each_language():
    with translation.override("lv"):
        assert eur(Decimal("1234.5")) == "1\u00a0234,50 €"
    with translation.override("en"):
        assert eur(Decimal("1234.5")) == "€1,234.50"
    assert eur(None) == ""


def test_the_claim_page_shows_money_with_the_filter(cast, login):
    plan = claimable_plan(cast, planned="1234.50")  # the claim page shows the planned amount
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="30.00")
    page = login(cast.class_teacher).get(reverse("claim_detail", args=[claim.pk]))
    assert "1\u00a0234,50 €" in page.content.decode()

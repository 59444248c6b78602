"""The list filter fields rendered in one pass (iap_portal/templatetags/filter_forms.py) give the
markup crispy-forms gave them: label, control, the chosen option, errors tied to the control."""

from html.parser import HTMLParser

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms

from compensations.forms import MonthInput
from iap_portal.forms import DecimalInput
from iap_portal.templatetags.filter_forms import filter_field


class Filters(forms.Form):
    q = forms.CharField(
        label="Name <or> surname",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search"}),
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All"), ("draft", "Draft & co")]
    )
    month = forms.DateField(
        label="Month", required=False, input_formats=["%Y-%m"], widget=MonthInput()
    )
    amount = forms.DecimalField(label="From, EUR", required=False, widget=DecimalInput())
    hidden = forms.MultipleChoiceField(
        label="Several", required=False, choices=[("a", "A")], widget=forms.CheckboxSelectMultiple
    )


class Tags(HTMLParser):
    """Each start tag's name and attributes, crispy's per-widget class names left out."""

    EXTRA = {"select", "textinput", "monthinput", "decimalinput", "dateinput"}

    def __init__(self, html):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "class" in attrs:
            attrs["class"] = " ".join(sorted(set(attrs["class"].split()) - self.EXTRA))
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        if data.strip():
            self.text.append(" ".join(data.split()))


def same_as_crispy(field):
    ours, theirs = Tags(str(filter_field(field))), Tags(str(as_crispy_field(field)))
    assert ours.tags == theirs.tags
    assert ours.text == theirs.text
    return ours


@pytest.mark.parametrize("name", ["q", "status", "month", "amount"])
def test_an_unbound_filter_field_is_what_crispy_gave(name):
    same_as_crispy(Filters()[name])


def test_the_chosen_option_and_the_typed_values_stay_chosen():
    form = Filters({"q": "Bērziņa", "status": "draft", "month": "2026-09", "amount": "12,50"})
    form.is_valid()
    status = same_as_crispy(form["status"])
    assert ("option", {"value": "draft", "selected": None}) in status.tags
    assert same_as_crispy(form["q"]).tags[2][1]["value"] == "Bērziņa"
    assert same_as_crispy(form["month"]).tags[2][1]["value"] == "2026-09"
    assert same_as_crispy(form["amount"]).tags[2][1]["value"] == "12,50"


def test_an_invalid_value_is_marked_and_its_message_tied_to_the_control():
    form = Filters({"month": "2026-13", "status": "nonsense"})
    assert not form.is_valid()
    for name in ("month", "status"):
        tags = same_as_crispy(form[name]).tags
        control = tags[2][1]
        assert "is-invalid" in control["class"]
        assert control["aria-describedby"] == f"id_{name}_error"
        assert ("div", {"id": f"id_{name}_error", "class": "invalid-feedback"}) in tags


def test_labels_and_options_are_escaped():
    html = str(filter_field(Filters()["q"])) + str(filter_field(Filters()["status"]))
    assert "Name &lt;or&gt; surname" in html
    assert "Draft &amp; co" in html


def test_other_widgets_are_left_to_crispy():
    field = Filters()["hidden"]
    assert str(filter_field(field)) == str(as_crispy_field(field))

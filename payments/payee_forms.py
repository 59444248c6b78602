"""The payees' forms: one per kind (a guardian, the adult pupil, an organisation) and the
claim's choice of payee. The IBAN and the registration number are validated and normalised
here (payments.iban); a bad submit shows the form again with everything typed."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iap_portal.forms import SchoolChoiceMixin

from .iban import mask_iban, normalise_iban, normalise_registration_number
from .models import Payee


class IbanField(forms.CharField):
    """An IBAN as people type it (spaces, lower case), stored in capitals without spaces."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("IBAN"))
        kwargs.setdefault("max_length", 50)  # 34 characters and the spaces between groups
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "LV80 BANK 0000 4351 9500 1",
            }
        )

    def clean(self, value):
        value = super().clean(value)
        return normalise_iban(value) if value else value


class RegistrationNumberField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Registration number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("11 digits, e.g. 40003245752."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        return normalise_registration_number(value) if value else value


class PayeeForm(forms.Form):
    """What every payee has: a name, an address and an IBAN. Changing a payee, the IBAN is
    asked for only if it changes (the page shows the current one masked)."""

    name = forms.CharField(label=pgettext_lazy("payee", "Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    iban = IbanField()

    def __init__(self, *args, payee=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.payee = payee
        if payee is not None and payee.pk:
            self.fields["name"].initial = payee.name
            self.fields["address"].initial = payee.address
            self.fields["iban"].required = False
            self.fields["iban"].help_text = _(
                "Now %(iban)s. Leave empty to keep it; type the whole IBAN to change it."
            ) % {"iban": mask_iban(payee.iban)}

    def values(self):
        """The service's values: the name, the address, and the IBAN when one was typed."""
        values = {"name": self.cleaned_data["name"], "address": self.cleaned_data["address"]}
        if self.cleaned_data.get("iban"):
            values["iban"] = self.cleaned_data["iban"]
        return values


class GuardianPayeeForm(PayeeForm):
    """A guardian of the pupil (chosen from the pupil's guardians); the name is the guardian's
    unless another is typed (the account holder's name as the bank knows it)."""

    guardian = forms.ModelChoiceField(
        label=_("Guardian"), queryset=None, empty_label=None, widget=forms.RadioSelect
    )
    field_order = ["guardian", "name", "address", "iban"]

    def __init__(self, *args, guardians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = guardians
        self.fields["guardian"].error_messages["invalid_choice"] = _(
            "Choose one of the pupil's guardians."
        )
        self.fields["name"].required = False
        self.fields["name"].help_text = _(
            "The account holder's name. Left empty, the guardian's name is used."
        )
        first = guardians.first()
        if first is not None and not self.is_bound:
            self.fields["guardian"].initial = first.pk
            self.fields["name"].initial = first.name

    def clean(self):
        data = super().clean()
        guardian = data.get("guardian")
        if guardian is not None and not (data.get("name") or "").strip():
            data["name"] = guardian.name
        return data


class PupilPayeeForm(PayeeForm):
    """The adult pupil themself (the view refuses the form below the age of 18)."""

    def __init__(self, *args, student, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.payee is None:
            self.fields["name"].initial = student.full_name


class OrganisationPayeeForm(SchoolChoiceMixin, PayeeForm):
    """A caterer, a dormitory or a carrier: name, registration number and address."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    registration_number = RegistrationNumberField()
    field_order = ["school", "name", "registration_number", "address", "iban"]

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = pgettext_lazy("organisation", "Name")
        self.fields["name"].help_text = _("E.g. the caterer, the dormitory or the carrier.")
        self.fields["address"].required = True
        if self.payee is not None and self.payee.pk:
            del self.fields["school"]
            self.fields["registration_number"].initial = self.payee.registration_number
        else:
            self.setup_school(schools)

    def values(self):
        return {**super().values(), "registration_number": self.cleaned_data["registration_number"]}


class PayeeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, payee):
        return f"{payee.name} — {payee.get_kind_display()} — {mask_iban(payee.iban)}"


class ClaimPayeeForm(forms.Form):
    payee = PayeeChoiceField(
        label=_("Pay to"),
        queryset=Payee.objects.none(),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, choices, initial_payee=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payee"].queryset = choices
        self.fields["payee"].error_messages["invalid_choice"] = _(
            "Choose one of the pupil's payees or one of the school's organisations in use."
        )
        if initial_payee is not None:
            self.fields["payee"].initial = initial_payee.pk

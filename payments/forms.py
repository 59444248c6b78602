from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compensations.forms import MonthInput
from iap_portal.forms import DateInput
from students.models import School

from .models import BatchStatus


class BatchCreateForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    month = forms.DateField(
        label=_("Month"), input_formats=["%Y-%m", "%m.%Y", "%Y-%m-%d"], widget=MonthInput()
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(pk__in=[s.pk for s in schools])
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk
            self.fields["school"].widget = forms.HiddenInput()
        self.fields["month"].initial = timezone.localdate().replace(day=1)

    def clean_month(self):
        month = self.cleaned_data["month"].replace(day=1)
        if month > timezone.localdate():
            raise ValidationError(_("A payment batch is made for a month that has begun."))
        return month


class PaidForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput())
    reference = forms.CharField(label=_("Bank reference"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()

    def clean_paid_on(self):
        day = self.cleaned_data["paid_on"]
        if day > timezone.localdate():
            raise ValidationError(_("The payment date cannot be in the future."))
        return day


class OutcomeForm(forms.Form):
    """One line's outcome: paid (date and the bank's reference) or refused (the reason)."""

    PAID, REFUSED = "paid", "refused"
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(PAID, _("Paid")), (REFUSED, _("Refused"))],
        widget=forms.RadioSelect,
    )
    paid_on = forms.DateField(label=_("Paid on"), required=False, widget=DateInput())
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)
    reason = forms.CharField(label=_("Reason for the refusal"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == self.PAID:
            if not data.get("paid_on"):
                self.add_error("paid_on", _("Enter the payment date."))
            elif data["paid_on"] > timezone.localdate():
                self.add_error("paid_on", _("The payment date cannot be in the future."))
            if not (data.get("reference") or "").strip():
                self.add_error("reference", _("Enter the bank's reference of the payment."))
        elif data.get("outcome") == self.REFUSED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason the payment was refused."))
        return data


class IncomingFilterForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School"), required=False, coerce=int)
    month = forms.DateField(
        label=_("Month"), required=False, input_formats=["%Y-%m"], widget=MonthInput()
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *[(s, s.label) for s in BatchStatus if s in BatchStatus.LOCKED]],
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", _("All schools"))] + [(s.pk, s.name) for s in schools]

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from iap_portal.forms import LocalDecimalField

from .services import AllocationValues


class AllocationForm(forms.Form):
    """One school's row of the allocation page. An empty amount means no allocation (no
    limit on the school's plans and claims); the rows the page did not show are not sent."""

    shown = forms.BooleanField(widget=forms.HiddenInput, initial=True, required=False)
    compensations = LocalDecimalField(
        label=_("Compensations, EUR"),
        required=False,
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={
            "min_value": _("The allocation cannot be negative."),
            "max_digits": _("The allocation is too large: at most €9,999,999.99."),
            "max_whole_digits": _("The allocation is too large: at most €9,999,999.99."),
            "max_decimal_places": _("Give the amount in euros and cents: at most 2 decimals."),
        },
    )
    consultation_hours = LocalDecimalField(
        label=_("Consultation hours"),
        required=False,
        max_digits=7,
        decimal_places=1,
        min_value=Decimal("0"),
        error_messages={
            "min_value": _("The hours cannot be negative."),
            "max_digits": _("Too many hours: at most 999,999.9."),
            "max_whole_digits": _("Too many hours: at most 999,999.9."),
            "max_decimal_places": _("Give the hours with at most one decimal."),
        },
    )

    def __init__(self, *args, school, allocation=None, **kwargs):
        super().__init__(*args, prefix=f"s{school.pk}", **kwargs)
        self.school = school
        for name in ("compensations", "consultation_hours"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"
        self.allocation = allocation
        if allocation is not None:
            self.initial.update(
                compensations=allocation.compensations,
                consultation_hours=allocation.consultation_hours,
            )

    @property
    def was_shown(self):
        """Whether the page that was sent showed this school's row."""
        return self.is_bound and self.add_prefix("shown") in self.data

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] += " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"

    def clean(self):
        data = super().clean()
        if data.get("compensations") is None and data.get("consultation_hours") is not None:
            self.add_error(
                "compensations",
                _("Set the compensations allocation too (0 for none): hours alone are not kept."),
            )
        return data

    def values(self):
        return AllocationValues(
            compensations=self.cleaned_data["compensations"],
            consultation_hours=self.cleaned_data["consultation_hours"],
        )

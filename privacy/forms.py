from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from iap_portal.forms import DateInput
from iap_portal.models import AuditEvent
from iap_portal.users import display_name

User = get_user_model()

# The log holds nothing older than the programme; the bounds also keep a typed year 1 or 9999
# from overflowing when it becomes a moment in time.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def _within_bounds(value):
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(_("Enter a date between 2000 and 2100."), code="out_of_range")


class AuditFilterForm(forms.Form):
    """The audit page's filters (GET). Dates are read in the user's language's formats
    (1.12.2026 in Latvian) as well as the date picker's 2026-12-01."""

    user = forms.ModelChoiceField(
        label=_("User"), queryset=User.objects.none(), required=False, empty_label=_("Everyone")
    )
    pupil = forms.CharField(
        label=_("Pupil"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or surname")}),
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(
        label=pgettext_lazy("dates", "From"),
        required=False,
        widget=DateInput(),
        validators=[_within_bounds],
    )
    date_to = forms.DateField(
        label=pgettext_lazy("dates", "To"),
        required=False,
        widget=DateInput(),
        validators=[_within_bounds],
    )

    def __init__(self, *args, school_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.filter(memberships__school_id__in=school_ids)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["user"].label_from_instance = _person
        self.fields["action"].choices = [("", _("All")), *AuditEvent.Action.choices]

    def clean(self):
        data = super().clean()
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and until < since:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def _person(user):
    name = display_name(user)
    return name if name == user.get_username() else f"{name} ({user.get_username()})"

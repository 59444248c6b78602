from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iap_portal.forms import CommentForm, DateInput, LocalDecimalField
from plans.models import CompensationCategory

from .models import ClaimStatus


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (the pattern from Django's documentation)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ClaimForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%m.%Y", "%Y-%m-%d"],
        widget=MonthInput(),
        help_text=_("The month the expenses belong to."),
    )
    receipts = MultipleFileField(label=_("Receipts"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receipts"].help_text = _(
            "PDF, JPEG or PNG, at most %(mb)d MB each and %(count)d per claim."
        ) % {
            "mb": settings.IAP_RECEIPT_MAX_BYTES // 2**20,
            "count": settings.IAP_RECEIPTS_PER_CLAIM,
        }

    def clean_month(self):
        month = self.cleaned_data["month"].replace(day=1)
        if month > timezone.localdate():
            raise ValidationError(_("A claim is filed for a month that has begun."))
        return month


class ClaimLineForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    description = forms.CharField(label=_("Description"), max_length=200)
    amount = LocalDecimalField(
        label=_("Amount, EUR"), max_digits=9, decimal_places=2, min_value=Decimal("0.01")
    )


ClaimLineFormSet = formset_factory(
    ClaimLineForm, extra=1, min_num=1, validate_min=True, max_num=50, validate_max=True
)


class CorrectionForm(CommentForm):
    comment_label = _("What must be corrected")


class ClaimFilterForm(forms.Form):
    """The queue's filters; all optional."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ClaimStatus.choices]
    )
    class_group = forms.TypedChoiceField(label=_("Class"), required=False, coerce=int)
    category = forms.ChoiceField(label=_("Category"), required=False)
    month = forms.DateField(
        label=_("Month"), required=False, input_formats=["%Y-%m"], widget=MonthInput()
    )
    min_amount = LocalDecimalField(
        label=_("From, EUR"), required=False, min_value=0, max_digits=9, decimal_places=2
    )
    max_amount = LocalDecimalField(
        label=_("To, EUR"), required=False, min_value=0, max_digits=9, decimal_places=2
    )

    def __init__(self, *args, class_groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["class_group"].choices = [("", _("All classes"))] + [
            (g.pk, g.label) for g in class_groups
        ]
        self.fields["category"].choices = [("", _("All")), *CompensationCategory.choices]

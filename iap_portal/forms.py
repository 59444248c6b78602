"""Form pieces every app uses: a date widget, a school field limited to the user's schools,
and the one-comment form of a return, rejection or suspension."""

from django import forms
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SchoolChoiceMixin:
    """A school field that only offers the schools the user manages, hidden when there is one."""

    def setup_school(self, schools):
        field = self.fields["school"]
        field.queryset = schools
        first_two = list(schools[:2])
        self.only_school = first_two[0] if len(first_two) == 1 else None
        if self.only_school:
            field.initial = self.only_school
            field.required = False
            field.widget = forms.HiddenInput()

    def clean_school(self):
        return self.cleaned_data.get("school") or self.only_school


class CommentForm(forms.Form):
    """One mandatory comment; a subclass names it (``comment_label``)."""

    comment_label = _("Comment")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].label = self.comment_label


class ReasonForm(CommentForm):
    comment_label = _("Reason")

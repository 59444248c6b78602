from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iap_portal.forms import DateInput, SchoolChoiceMixin
from students.models import School, Semester

from .models import ImportKind, Period, Thresholds


class FactImportForm(SchoolChoiceMixin, forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    kind = forms.ChoiceField(label=_("Data in the file"), choices=ImportKind.choices)
    start_date = forms.DateField(label=_("Period from"), widget=DateInput())
    end_date = forms.DateField(label=_("Period until"), widget=DateInput())
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("The first row holds the column names; see the sample files."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_school(schools)
        semester = Semester.objects.current()
        if semester is not None:
            self.fields["start_date"].initial = semester.start_date
            self.fields["end_date"].initial = min(semester.end_date, timezone.localdate())

    def clean(self):
        data = super().clean()
        start, end, school = data.get("start_date"), data.get("end_date"), data.get("school")
        if not (start and end):
            return data
        if end < start:
            self.add_error("end_date", _("The period must end on or after its first day."))
            return data
        if end > timezone.localdate():
            self.add_error("end_date", _("The period cannot end in the future."))
            return data
        semester = (
            Semester.objects.filter(start_date__lte=start, end_date__gte=end)
            .select_related("school_year")
            .first()
        )
        if semester is None:
            self.add_error(
                None,
                _(
                    "The period must lie within one semester of the school calendar "
                    "(a month, or the semester so far)."
                ),
            )
            return data
        data["semester"] = semester
        if school is not None:
            overlapping = (
                Period.objects.filter(school=school, start_date__lte=end, end_date__gte=start)
                .exclude(start_date=start, end_date=end)
                .first()
            )
            if overlapping is not None:
                self.add_error(
                    None,
                    _(
                        "The period overlaps the period %(period)s that already has data: "
                        "use the same dates or a period that does not overlap."
                    )
                    % {"period": overlapping},
                )
        return data


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = Thresholds
        fields = [
            "attendance_watch",
            "attendance_at_risk",
            "attendance_high",
            "unexcused_lessons",
            "failing_grade",
            "failing_subjects_high",
            "average_drop",
            "conduct_watch",
            "conduct_at_risk",
        ]

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iap_portal.forms import SchoolChoiceMixin
from students.models import School, Semester


class BundleForm(SchoolChoiceMixin, forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    semester = forms.ModelChoiceField(label=_("Semester"), queryset=Semester.objects.none())

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_school(schools)
        today = timezone.localdate()
        started = Semester.objects.filter(start_date__lte=today).select_related("school_year")
        self.fields["semester"].queryset = started.order_by("-start_date")
        self.fields["semester"].initial = started.order_by("-start_date").first()

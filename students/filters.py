import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ClassGroup, Student
from .search import search_students


class StudentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or surname"), method="search")
    class_group = django_filters.ModelChoiceFilter(
        label=_("Class"),
        queryset=ClassGroup.objects.none(),
        method="in_class",
        empty_label=_("All classes"),
    )
    grade = django_filters.ChoiceFilter(
        label=_("Grade"),
        choices=[(str(g), f"{g}.") for g in range(1, 13)],
        method="in_grade",
        empty_label=_("All grades"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Student.Status.choices, empty_label=_("All")
    )

    class Meta:
        model = Student
        fields = ["q", "class_group", "grade", "status"]

    def __init__(self, *args, class_groups, school_year, **kwargs):
        super().__init__(*args, **kwargs)
        self.school_year = school_year
        self.filters["class_group"].queryset = class_groups
        self.form.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("Search by name")}
        )

    def search(self, queryset, name, value):
        return search_students(queryset, value)

    def in_class(self, queryset, name, value):
        return queryset.filter(enrollments__class_group=value)

    def in_grade(self, queryset, name, value):
        return queryset.filter(
            enrollments__school_year=self.school_year, enrollments__class_group__grade=int(value)
        )

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from iap_portal.users import display_name
from students.models import ClassGroup, Semester

from .models import PlanStatus, SupportPlan

User = get_user_model()


class PlanFilter(django_filters.FilterSet):
    semester = django_filters.ModelChoiceFilter(
        label=_("Semester"), queryset=Semester.objects.none(), empty_label=_("All semesters")
    )
    class_group = django_filters.ModelChoiceFilter(
        label=_("Class"),
        queryset=ClassGroup.objects.none(),
        method="in_class",
        empty_label=_("All classes"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=PlanStatus.choices, empty_label=_("All")
    )
    preparer = django_filters.ModelChoiceFilter(
        label=_("Preparer"), queryset=User.objects.none(), empty_label=_("Everyone")
    )

    class Meta:
        model = SupportPlan
        fields = ["semester", "class_group", "status", "preparer"]

    def __init__(self, *args, class_groups, preparers_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["semester"].queryset = Semester.objects.select_related("school_year").order_by(
            "-start_date"
        )
        self.filters["class_group"].queryset = class_groups.order_by("grade", "letter")
        self.filters["preparer"].queryset = User.objects.filter(
            pk__in=preparers_of.values("preparer_id")
        ).order_by("last_name", "first_name")
        self.filters["preparer"].field.label_from_instance = display_name

    def in_class(self, queryset, name, value):
        return queryset.filter(
            student__enrollments__class_group=value,
            semester__school_year_id=value.school_year_id,
        )

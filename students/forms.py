from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import inlineformset_factory
from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _

from iap_portal.forms import DateInput, SchoolChoiceMixin
from iap_portal.i18n import format_day
from iap_portal.users import display_name

from .calendar import current_start_year, semester_dates
from .models import (
    SCHOOL_ROLES,
    ApprovalRoute,
    ClassGroup,
    Guardian,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    SpecialistType,
    StaffInvitation,
    Student,
)
from .personas_kods import birth_date_from_personas_kods, format_personas_kods
from .services import school_year_exists_error

User = get_user_model()


class StudentForm(SchoolChoiceMixin, forms.ModelForm):
    personas_kods = forms.CharField(
        label=_("Personal identity code"),
        max_length=14,
        required=False,
        help_text=Student._meta.get_field("personas_kods").help_text,
    )
    class_group = forms.ModelChoiceField(
        label=_("Class this school year"),
        queryset=ClassGroup.objects.none(),
        required=False,
        empty_label=_("— not in a class —"),
    )

    class Meta:
        model = Student
        fields = [
            "school",
            "first_name",
            "last_name",
            "personas_kods",
            "birth_date",
            "gender",
            "status",
            "left_on",
        ]
        widgets = {"birth_date": DateInput(), "left_on": DateInput()}

    def __init__(self, *args, schools, school_year, **kwargs):
        super().__init__(*args, **kwargs)
        self.school_year = school_year
        self.setup_school(schools)
        self.fields["class_group"].queryset = ClassGroup.objects.filter(
            school__in=schools, school_year=school_year
        ).select_related("school")
        if self.instance.pk:
            self.initial["personas_kods"] = format_personas_kods(self.instance.personas_kods)
            enrollment = self.instance.enrollments.filter(school_year=school_year).first()
            if enrollment:
                self.initial["class_group"] = enrollment.class_group_id

    def clean(self):
        cleaned = super().clean()
        group = cleaned.get("class_group")
        school = cleaned.get("school")
        if group and school and group.school_id != school.pk:
            self.add_error("class_group", _("The class belongs to another school."))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # The model's clean() has normalised the code; cross-check it with the birth date.
        if "personas_kods" in self.errors:
            return
        code_date = birth_date_from_personas_kods(self.instance.personas_kods)
        if code_date:
            if self.instance.birth_date is None:
                self.instance.birth_date = code_date
            elif self.instance.birth_date != code_date:
                self.add_error(
                    "birth_date",
                    _("The birth date does not match the personal identity code (%(date)s).")
                    % {"date": format_day(code_date)},
                )


GuardianFormSet = inlineformset_factory(
    Student,
    Guardian,
    fields=["name", "phone", "email"],
    extra=1,
    max_num=4,
    validate_max=True,
    can_delete=True,
)


class ClassGroupForm(SchoolChoiceMixin, forms.ModelForm):
    class Meta:
        model = ClassGroup
        fields = ["school", "school_year", "grade", "letter", "class_teachers"]
        widgets = {"class_teachers": forms.CheckboxSelectMultiple}
        help_texts = {
            "class_teachers": _(
                "Staff of the school. A teacher chosen here gets the class "
                "teacher role in the school."
            )
        }

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_school(schools)
        self.fields["grade"].widget = forms.NumberInput(attrs={"min": 1, "max": 12})
        self.fields["school_year"].queryset = SchoolYear.objects.all()
        if not self.instance.pk:
            self.fields["school_year"].initial = SchoolYear.objects.current()
        self.fields["class_teachers"].queryset = (
            User.objects.filter(memberships__school__in=schools, is_active=True)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["class_teachers"].label_from_instance = display_name

    def clean_grade(self):
        grade = self.cleaned_data["grade"]
        if not 1 <= grade <= 12:
            raise ValidationError(_("The grade is a number from 1 to 12."))
        return grade

    def clean_letter(self):
        return self.cleaned_data["letter"].strip().lower().rstrip(".")


class StaffMemberForm(SchoolChoiceMixin, forms.Form):
    """Invite a person to a role in the school (an account is created for a new address)."""

    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"), choices=[(r.value, r.label) for r in Role if r in SCHOOL_ROLES]
    )
    specialist_type = forms.ModelChoiceField(
        label=_("Specialist type"),
        queryset=SpecialistType.objects.filter(is_active=True),
        required=False,
        help_text=_("Only for specialists."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_school(schools)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role == Role.SPECIALIST and not cleaned.get("specialist_type"):
            self.add_error("specialist_type", _("Choose the specialist type."))
        if role != Role.SPECIALIST:
            cleaned["specialist_type"] = None
        email, school = cleaned.get("email"), cleaned.get("school")
        if email and school and role:
            exists = Membership.objects.filter(
                user__email__iexact=email, school=school, role=role
            ).exists()
            if exists:
                raise ValidationError(_("This person already has this role in the school."))
            if StaffInvitation.objects.pending().filter(
                email__iexact=email, school=school, role=role
            ):
                raise ValidationError(_("An invitation to this role is already waiting for them."))
        return cleaned


class ImportUploadForm(SchoolChoiceMixin, forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_(
            "Columns: name, surname, personas kods, class, birth date, gender. "
            "The first row holds the column names."
        ),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_school(schools)


class SchoolYearForm(forms.Form):
    """A school year and the dates of its two semesters.

    Without ``school_year`` the form adds a year (its first calendar year is a field);
    with it, the form edits that year's dates.
    """

    start_year = forms.IntegerField(
        label=_("First calendar year"),
        min_value=2000,
        max_value=2100,
        help_text=_("For the school year 2026/2027 enter 2026."),
    )
    first_start = forms.DateField(label=_("Semester I starts"), widget=DateInput())
    first_end = forms.DateField(label=_("Semester I ends"), widget=DateInput())
    second_start = forms.DateField(label=_("Semester II starts"), widget=DateInput())
    second_end = forms.DateField(label=_("Semester II ends"), widget=DateInput())

    def __init__(self, *args, school_year=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.school_year = school_year
        if school_year is not None:
            del self.fields["start_year"]
            first, second = school_year.first_semester, school_year.second_semester
            defaults = semester_dates(school_year.start_year)
        else:
            newest = SchoolYear.objects.order_by("-start_year").first()
            start_year = (
                newest.start_year + 1 if newest else current_start_year(timezone.localdate())
            )
            self.fields["start_year"].initial = start_year
            first = second = None
            defaults = semester_dates(start_year)
        for prefix, semester, (start, end) in zip(
            ("first", "second"), (first, second), defaults, strict=True
        ):
            self.fields[f"{prefix}_start"].initial = semester.start_date if semester else start
            self.fields[f"{prefix}_end"].initial = semester.end_date if semester else end

    @property
    def first_calendar_year(self):
        if self.school_year is not None:
            return self.school_year.start_year
        return self.cleaned_data.get("start_year")

    def clean(self):
        cleaned = super().clean()
        first_start, first_end = cleaned.get("first_start"), cleaned.get("first_end")
        second_start, second_end = cleaned.get("second_start"), cleaned.get("second_end")
        for start, end, field in (
            (first_start, first_end, "first_end"),
            (second_start, second_end, "second_end"),
        ):
            if start and end and end <= start:
                self.add_error(field, _("The semester must end after it starts."))
        if first_end and second_start and second_start <= first_end:
            self.add_error("second_start", _("Semester II must start after semester I ends."))
        start_year = self.first_calendar_year
        if start_year is None:
            return cleaned
        if self.school_year is None and SchoolYear.objects.filter(start_year=start_year).exists():
            self.add_error("start_year", school_year_exists_error(start_year))
        if first_start and not date(start_year, 8, 1) <= first_start <= date(start_year, 12, 31):
            self.add_error(
                "first_start",
                _("Semester I starts between 1 August and 31 December %(year)s.")
                % {"year": start_year},
            )
        if second_end and second_end.year != start_year + 1:
            self.add_error(
                "second_end", _("Semester II ends in %(year)s.") % {"year": start_year + 1}
            )
        if first_start and second_end and not self.errors:
            self.check_neighbours(start_year, first_start, second_end)
        return cleaned

    def check_neighbours(self, start_year, first_start, second_end):
        """Years must not overlap, or "the semester containing today" would be ambiguous."""
        neighbours = Semester.objects.filter(
            Q(school_year__start_year=start_year - 1, number=Semester.Number.SECOND)
            | Q(school_year__start_year=start_year + 1, number=Semester.Number.FIRST)
        ).select_related("school_year")
        for semester in neighbours:
            if semester.number == Semester.Number.SECOND and semester.end_date >= first_start:
                self.add_error(
                    "first_start",
                    _("Semester I must start after the school year %(name)s ends (%(date)s).")
                    % {
                        "name": semester.school_year.name,
                        "date": dateformat.format(semester.end_date, "j.m.Y"),
                    },
                )
            if semester.number == Semester.Number.FIRST and semester.start_date <= second_end:
                self.add_error(
                    "second_end",
                    _("Semester II must end before the school year %(name)s starts (%(date)s).")
                    % {
                        "name": semester.school_year.name,
                        "date": dateformat.format(semester.start_date, "j.m.Y"),
                    },
                )

    @property
    def periods(self):
        """The two semesters as (start, end) pairs, for the services."""
        data = self.cleaned_data
        return (data["first_start"], data["first_end"]), (data["second_start"], data["second_end"])


class ApprovalRoutesForm(forms.Form):
    """A municipality's approval route and its schools' own routes (empty: the municipality's)."""

    route = forms.ChoiceField(
        label=_("Route of the municipality's schools"), choices=ApprovalRoute.choices
    )
    revision_lowering_school_only = forms.BooleanField(
        label=Municipality._meta.get_field("revision_lowering_school_only").verbose_name,
        help_text=Municipality._meta.get_field("revision_lowering_school_only").help_text,
        required=False,
    )

    def __init__(self, *args, municipality, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.schools = list(schools)
        self.initial["route"] = municipality.approval_route
        self.initial["revision_lowering_school_only"] = municipality.revision_lowering_school_only
        for school in self.schools:
            name = f"school_{school.pk}"
            self.fields[name] = forms.ChoiceField(
                label=school.name,
                choices=[("", _("as the municipality"))] + list(ApprovalRoute.choices),
                required=False,
            )
            self.initial[name] = school.approval_route

    def school_routes(self):
        return {school: self.cleaned_data[f"school_{school.pk}"] for school in self.schools}

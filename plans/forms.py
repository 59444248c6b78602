from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.lv import pvn

from iap_portal.forms import DateInput, LocalDecimalField, SchoolChoiceMixin
from iap_portal.i18n import format_day
from iap_portal.templatetags.portal import eur
from iap_portal.users import display_name
from students.models import School, Semester, SpecialistType

from . import ceilings
from .access import usable_ngo_projects
from .models import (
    CompensationCategory,
    CompensationCeiling,
    Consultation,
    NgoProject,
    PlanEvaluation,
    PlanRisk,
    RiskFactor,
    SupportMeasure,
    SupportPlan,
)
from .services import NGO_PROJECT_FIELDS, consultation_problems, ngo_status_problem

User = get_user_model()


class PlanCreateForm(forms.Form):
    semester = forms.ModelChoiceField(label=_("Semester"), queryset=Semester.objects.none())
    kind = forms.ChoiceField(
        label=_("Kind"), choices=SupportPlan.Kind.choices, initial=SupportPlan.Kind.REGULAR
    )

    def __init__(self, *args, openings, chosen=None, **kwargs):
        """``openings``: the (semester, kind) pairs still free for the pupil
        (``services.plan_openings``); ``chosen``: the pair the page asked for, if free."""
        super().__init__(*args, **kwargs)
        self.openings = {(semester.pk, kind) for semester, kind in openings}
        semesters = list(dict.fromkeys(semester for semester, _kind in openings))
        self.fields["semester"].queryset = (
            Semester.objects.filter(pk__in=[s.pk for s in semesters])
            .select_related("school_year")
            .order_by("start_date")
        )
        if chosen is None and openings:
            today = timezone.localdate()
            current = [pair for pair in openings if pair[0].start_date <= today]
            chosen = (current or openings)[0]
        if chosen is not None:
            self.fields["semester"].initial, self.fields["kind"].initial = chosen
        # The kinds still free, so that the form offers only what will succeed.
        kinds = {kind for _semester, kind in openings}
        self.fields["kind"].choices = [c for c in SupportPlan.Kind.choices if c[0] in kinds]

    def clean(self):
        data = super().clean()
        semester, kind = data.get("semester"), data.get("kind")
        if semester is not None and kind and (semester.pk, kind) not in self.openings:
            raise forms.ValidationError(
                _("This pupil already has a plan of this kind for this semester.")
            )
        return data


class PlanHeaderForm(forms.ModelForm):
    class Meta:
        model = SupportPlan
        fields = ["parent_application_date", "goals", "pupil_agreement"]
        widgets = {
            "parent_application_date": DateInput(),
            "goals": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_parent_application_date(self):
        value = self.cleaned_data["parent_application_date"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class GroupedChoiceIterator(ModelChoiceIterator):
    """A model choice field's choices in groups (``field.group_of(obj)`` names each object's
    group), in the queryset's order: the select shows an <optgroup> per group. One query."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups = {}
        for obj in self.queryset:
            groups.setdefault(self.field.group_of(obj), []).append(self.choice(obj))
        yield from groups.items()


class PlanRiskForm(forms.ModelForm):
    class Meta:
        model = PlanRisk
        fields = ["risk_factor", "level", "justification"]
        widgets = {"justification": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        # The factors in use, national and the school's own; a saved risk keeps its own
        # (perhaps an earlier version, or one taken out of use since).
        factors = RiskFactor.objects.choosable(plan.school_id)
        if self.instance.pk:
            factors = factors | RiskFactor.objects.filter(pk=self.instance.risk_factor_id)
        factors = factors.select_related("risk_type")
        field = self.fields["risk_factor"]
        # The dropdown groups the factors under their risk type (an <optgroup> each).
        field.iterator = GroupedChoiceIterator
        field.group_of = lambda factor: str(factor.risk_type)
        field.queryset = factors.order_by("risk_type__number", "name")
        field.label_from_instance = lambda factor: factor.display_name
        self.fields["level"].required = False


class BaseRiskFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "plan": self.instance}

    def clean(self):
        # Before the model formset's own uniqueness check, to say it in the user's words. Two
        # versions of one factor (the same code) are the same risk too.
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form in self.deleted_forms:
                continue
            factor = form.cleaned_data.get("risk_factor")
            if factor and factor.code in seen:
                form.add_error("risk_factor", _("This risk is already in the plan."))
            if factor:
                seen.add(factor.code)
        super().clean()

    def kept_factor_ids(self):
        """The risk factors the plan will have once this formset is saved."""
        ids = set()
        for form in self.forms:
            if form in self.deleted_forms or not hasattr(form, "cleaned_data"):
                continue
            factor = form.cleaned_data.get("risk_factor")
            if factor:
                ids.add(factor.pk)
        return ids


RiskFormSet = inlineformset_factory(
    SupportPlan,
    PlanRisk,
    form=PlanRiskForm,
    formset=BaseRiskFormSet,
    extra=1,
    can_delete=True,
    max_num=30,
    validate_max=True,
)


class SupportMeasureForm(forms.ModelForm):
    risk_factors = forms.ModelMultipleChoiceField(
        label=_("Addresses the risks"),
        queryset=RiskFactor.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = SupportMeasure
        fields = [
            "measure_type",
            "specialist_type",
            "compensation_category",
            "ngo_project",
            "description",
            "responsible",
            "planned_hours",
            "planned_amount",
            "ceiling_justification",
            "start_date",
            "end_date",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "ceiling_justification": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"planned_hours": LocalDecimalField, "planned_amount": LocalDecimalField}

    def __init__(self, *args, plan=None, risk_factor_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        specialist_types = SpecialistType.objects.filter(is_active=True)
        if self.instance.specialist_type_id:
            # A saved measure keeps its type even once it is taken out of use.
            specialist_types |= SpecialistType.objects.filter(pk=self.instance.specialist_type_id)
        self.fields["specialist_type"].queryset = specialist_types
        self.fields["responsible"].queryset = (
            User.objects.filter(memberships__school_id=plan.school_id, is_active=True)
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["responsible"].label_from_instance = display_name
        # The running projects of the school's municipality; a saved measure keeps its own
        # (a project may have finished since).
        projects = usable_ngo_projects(plan.school_id)
        if self.instance.ngo_project_id:
            projects = projects | NgoProject.objects.filter(pk=self.instance.ngo_project_id)
        self.fields["ngo_project"].queryset = projects.order_by("title")
        self.fields["ngo_project"].label_from_instance = ngo_project_label
        # Of the plan's school's catalogue only: the ids may come from a re-shown page.
        self.fields["risk_factors"].queryset = (
            RiskFactor.objects.for_school(plan.school_id)
            .filter(pk__in=risk_factor_ids)
            .select_related("risk_type")
        )
        if not self.instance.pk:
            self.initial.setdefault("start_date", plan.semester.start_date)
            self.initial.setdefault("end_date", plan.semester.end_date)
        else:
            self.initial["risk_factors"] = [
                risk.risk_factor_id for risk in self.instance.risks.all()
            ]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("measure_type")
        Type = SupportMeasure.Type
        if kind == Type.CONSULTATION:
            if not cleaned.get("specialist_type"):
                self.add_error("specialist_type", _("Choose who gives the consultations."))
            if not cleaned.get("planned_hours"):
                self.add_error("planned_hours", _("Give the planned hours."))
            cleaned["compensation_category"] = ""
            cleaned["planned_amount"] = None
        elif kind == Type.COMPENSATION:
            if not cleaned.get("compensation_category"):
                self.add_error("compensation_category", _("Choose the compensation category."))
            if not cleaned.get("planned_amount"):
                self.add_error("planned_amount", _("Give the planned amount in euros."))
            cleaned["specialist_type"] = None
            cleaned["planned_hours"] = None
            self._check_ceiling(cleaned)
        elif kind == Type.NGO_PROJECT:
            cleaned["specialist_type"] = None
            cleaned["planned_hours"] = None
            cleaned["compensation_category"] = ""
            self._check_project(cleaned)
        if kind != Type.NGO_PROJECT:
            cleaned["ngo_project"] = None
        if kind != Type.COMPENSATION:
            cleaned["ceiling_justification"] = ""
        cleaned["ceiling_justification"] = cleaned.get("ceiling_justification", "").strip()
        for name in (
            "specialist_type",
            "planned_hours",
            "compensation_category",
            "planned_amount",
            "ceiling_justification",
            "ngo_project",
        ):
            if name in cleaned:
                setattr(self.instance, name, cleaned[name])
        self._check_period(cleaned)
        return cleaned

    def _check_ceiling(self, cleaned):
        """One measure above the national maximum is refused; above the school's ceiling it
        needs a justification. (A pupil's total over several measures and plans is checked
        when the plan is submitted: ``ceilings.ceiling_problems``.)"""
        amount, category = cleaned.get("planned_amount"), cleaned.get("compensation_category")
        if amount is None or not category:
            return
        if ceilings.over_hard_maximum(amount):
            self.add_error("planned_amount", ceilings.hard_maximum_message())
            return
        if not hasattr(self.plan, "_ceilings"):
            self.plan._ceilings = ceilings.ceilings_for(self.plan.school_id)
        ceiling = self.plan._ceilings.get(category)
        if (
            ceiling is not None
            and amount > ceiling
            and not cleaned.get("ceiling_justification", "").strip()
        ):
            self.add_error(
                "ceiling_justification",
                _(
                    "%(amount)s is above the school's ceiling of %(ceiling)s per pupil per "
                    "semester for this category: say why this pupil needs more."
                )
                % {"amount": eur(amount), "ceiling": eur(ceiling)},
            )

    def _check_project(self, cleaned):
        """A new NGO measure names its project, and its period lies within the project's. A
        measure saved before the register (no project) stays valid without one."""
        project = cleaned.get("ngo_project")
        old = self.instance
        predates_register = (
            old.pk
            and old.measure_type == SupportMeasure.Type.NGO_PROJECT
            and not old.ngo_project_id
        )
        if project is None:
            if not predates_register and "ngo_project" not in self.errors:
                self.add_error("ngo_project", _("Choose the running youth NGO project."))
            return
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and (start < project.start_date or end > project.end_date):
            self.add_error(
                "end_date",
                _("The period must lie within the project's (%(start)s–%(end)s).")
                % {
                    "start": format_day(project.start_date),
                    "end": format_day(project.end_date),
                },
            )

    def _check_period(self, cleaned):
        semester = self.plan.semester
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end:
            if end < start:
                self.add_error("end_date", _("The period cannot end before it starts."))
            elif start < semester.start_date or end > semester.end_date:
                self.add_error(
                    "end_date",
                    _("The period must lie within the semester (%(start)s–%(end)s).")
                    % {
                        "start": format_day(semester.start_date),
                        "end": format_day(semester.end_date),
                    },
                )


def ngo_project_label(project):
    period = f"{format_day(project.start_date)}–{format_day(project.end_date)}"
    return f"{project.title} ({project.ngo_name}, {period})"


class BaseMeasureFormSet(BaseInlineFormSet):
    def __init__(self, *args, risk_factor_ids=(), **kwargs):
        self.risk_factor_ids = set(risk_factor_ids)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["plan"] = self.instance
        kwargs["risk_factor_ids"] = self.risk_factor_ids
        return kwargs

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            plan=self.instance,
            risk_factor_ids=self.risk_factor_ids,
        )
        self.add_fields(form, None)
        return form

    def clean(self):
        super().clean()
        for form in self.forms:
            if form in self.deleted_forms or not hasattr(form, "cleaned_data"):
                continue
            if not form.has_changed() and not form.instance.pk:
                continue
            chosen = form.cleaned_data.get("risk_factors")
            if not chosen:
                form.add_error("risk_factors", _("Link the measure to at least one risk."))
            elif {f.pk for f in chosen} - self.risk_factor_ids:
                form.add_error("risk_factors", _("A linked risk is being removed from the plan."))


MeasureFormSet = inlineformset_factory(
    SupportPlan,
    SupportMeasure,
    form=SupportMeasureForm,
    formset=BaseMeasureFormSet,
    extra=1,
    can_delete=True,
    max_num=30,
    validate_max=True,
)


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = PlanEvaluation
        fields = ["overall_outcome", "narrative"]
        widgets = {"narrative": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.risks = list(plan.risks.select_related("risk_factor"))
        self.measures = list(plan.measures.select_related("specialist_type", "ngo_project"))
        for risk in self.risks:
            self.fields[f"risk_{risk.pk}"] = forms.ChoiceField(
                label=str(risk.risk_factor),
                choices=[("", "—"), *PlanRisk.Outcome.choices],
            )
        for measure in self.measures:
            self.fields[f"measure_{measure.pk}"] = forms.CharField(
                label=measure.label,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=2000,
            )

    def risk_outcomes(self):
        return {risk.pk: self.cleaned_data[f"risk_{risk.pk}"] for risk in self.risks}

    def measure_notes(self):
        return {m.pk: self.cleaned_data.get(f"measure_{m.pk}", "") for m in self.measures}


class ConsultationForm(forms.ModelForm):
    class Meta:
        model = Consultation
        fields = ["date", "minutes", "topic", "mode", "confirmation", "confirmed_on"]
        widgets = {"date": DateInput(), "confirmed_on": DateInput()}

    def __init__(self, *args, measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.fields["minutes"].widget.attrs.update({"min": 15, "max": 240, "step": 5})
        self.fields["minutes"].help_text = _("From 15 to 240 minutes.")
        self.initial.setdefault("date", timezone.localdate())
        self.initial.setdefault("minutes", 40)

    def clean_minutes(self):
        minutes = self.cleaned_data["minutes"]
        if not 15 <= minutes <= 240:
            raise forms.ValidationError(_("A consultation lasts from 15 to 240 minutes."))
        return minutes

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        if day:
            for field, message in consultation_problems(measure=self.measure, date=day).items():
                self.add_error(field, message)
        if cleaned.get("confirmation") == Consultation.Confirmation.REMOTE:
            confirmed = cleaned.get("confirmed_on")
            if not confirmed:
                self.add_error("confirmed_on", _("Give the date the pupil confirmed."))
            elif day and not day <= confirmed <= timezone.localdate():
                self.add_error(
                    "confirmed_on",
                    _("The confirmation date is on or after the consultation, not in the future."),
                )
        return cleaned


class RiskFactorForm(SchoolChoiceMixin, forms.ModelForm):
    """A factor of the national catalogue (the agency) or of a school's own (its coordinator).
    A new factor's catalogue is chosen from ``schools`` and, with ``national``, the national
    one; a saved factor stays in its catalogue."""

    school = forms.ModelChoiceField(
        label=_("Catalogue"), queryset=School.objects.none(), required=False
    )

    class Meta:
        model = RiskFactor
        fields = ["risk_type", "name", "name_en", "is_active"]

    def __init__(self, *args, schools, national, **kwargs):
        super().__init__(*args, **kwargs)
        self.only_school = None
        if self.instance.pk or (national and not schools.exists()):
            del self.fields["school"]
        elif national:
            field = self.fields["school"]
            field.queryset = schools
            field.empty_label = _("National catalogue (IKVD)")
        else:
            self.setup_school(schools)
            if not self.only_school:
                self.fields["school"].required = True
                self.fields["school"].empty_label = None

    @property
    def catalogue_school(self):
        """The school whose own factor this is, or None for the national catalogue."""
        if self.instance.pk:
            return self.instance.school
        return self.cleaned_data.get("school") if "school" in self.fields else None

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_name_en(self):
        return " ".join(self.cleaned_data["name_en"].split())

    def clean(self):
        cleaned = super().clean()
        name, risk_type = cleaned.get("name"), cleaned.get("risk_type")
        if not cleaned.get("name_en") and "school" not in self.errors and not self.catalogue_school:
            # The national catalogue is read in both languages (a school's own factor may
            # stay Latvian only: English pages then show its Latvian name).
            self.add_error("name_en", _("Give the national factor's name in English too."))
        if name and risk_type and "school" not in self.errors:
            # A school's factor may not repeat a national one either: its plans would show
            # two risks of one name.
            school = self.catalogue_school
            namesakes = RiskFactor.objects.current().filter(risk_type=risk_type, name__iexact=name)
            if school is not None:
                namesakes = namesakes.filter(Q(school__isnull=True) | Q(school=school))
            else:
                namesakes = namesakes.filter(school__isnull=True)
            if namesakes.exclude(pk=self.instance.pk).exists():
                self.add_error("name", _("This risk type already has a factor of this name."))
        return cleaned


class SpecialistTypeForm(forms.ModelForm):
    class Meta:
        model = SpecialistType
        fields = ["name", "name_en", "is_active"]

    def __init__(self, *args, named_in_plans=False, **kwargs):
        super().__init__(*args, **kwargs)
        if named_in_plans:
            name = self.fields["name"]
            name.disabled = True
            name.help_text = _(
                "Plans name this type, so it cannot be renamed: take it out of use and add a "
                "new type instead."
            )

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_name_en(self):
        return " ".join(self.cleaned_data["name_en"].split())


class CeilingsForm(forms.Form):
    """A school's compensation ceilings, one field per category; an empty field means the
    national default."""

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        national = ceilings.national_ceilings()
        own = dict(
            CompensationCeiling.objects.filter(school=school).values_list("category", "amount")
        )
        for category, label in CompensationCategory.choices:
            default = national.get(category)
            self.fields[category] = LocalDecimalField(
                label=label,
                required=False,
                max_digits=9,
                decimal_places=2,
                min_value=Decimal("0.01"),
                max_value=ceilings.hard_maximum(),
                help_text=_("National default: %(amount)s")
                % {"amount": eur(default) if default is not None else "—"},
            )
            self.initial[category] = own.get(category)


class ApprovalQueueFilterForm(forms.Form):
    """The queue above the school: by school and by the plan's planned amount."""

    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False, empty_label=_("All")
    )
    min_amount = LocalDecimalField(
        label=_("Amount from, EUR"), required=False, max_digits=9, decimal_places=2, min_value=0
    )
    max_amount = LocalDecimalField(
        label=_("Amount up to, EUR"), required=False, max_digits=9, decimal_places=2, min_value=0
    )
    budget = forms.ChoiceField(
        label=_("Status of budget"),
        required=False,
        choices=[
            ("", _("All")),
            ("within", _("Within budget")),
            ("over", _("Over budget")),
            ("none", _("No allocation set")),
        ],
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def filters(self):
        """The valid filters (an invalid one is left out, with its message on the form)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "school": data.get("school"),
            "min_amount": data.get("min_amount"),
            "max_amount": data.get("max_amount"),
            "budget": data.get("budget") or None,
        }


# --- Youth NGO projects ---------------------------------------------------------------------


def validate_ngo_registration_number(value):
    """An NGO's registration number: 11 digits with the check digit of a Latvian legal person
    (python-stdnum's ``lv.pvn``, which also takes a person's code: refused here)."""
    try:
        number = pvn.validate(value)
    except StdnumError:
        number = None
    if number is None or number[0] <= "3":
        raise forms.ValidationError(
            _("Enter the NGO's registration number: 11 digits, such as 40003032949."),
            code="invalid",
        )
    return number


class NgoProjectForm(forms.ModelForm):
    class Meta:
        model = NgoProject
        fields = list(NGO_PROJECT_FIELDS)  # what save_ngo_project writes
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "report": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {"budget": LocalDecimalField}

    def __init__(self, *args, municipalities=None, **kwargs):
        """``municipalities``: the registers a new project may go to, when there is a choice
        (IKVD keeps any municipality's)."""
        super().__init__(*args, **kwargs)
        if municipalities is not None:
            self.fields["municipality"] = forms.ModelChoiceField(
                label=_("Municipality"), queryset=municipalities
            )
            self.order_fields(["municipality"])

    def clean_ngo_registration_number(self):
        return validate_ngo_registration_number(self.cleaned_data["ngo_registration_number"])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The period cannot end before it starts."))
        cleaned["report"] = cleaned.get("report", "").strip()
        if cleaned.get("status") == NgoProject.Status.FINISHED and not cleaned["report"]:
            self.add_error("report", _("Write the short report before marking it finished."))
        status = cleaned.get("status")
        if status and start and end and end >= start:
            problem = ngo_status_problem(status=status, start_date=start, end_date=end)
            if problem:
                self.add_error("status", problem)
        budget = cleaned.get("budget")
        if budget is not None and budget >= Decimal("10000000"):
            self.add_error("budget", _("The budget is too large."))
        return cleaned

"""Individual support plans (IAP): risks, measures, consultations and the evaluation."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from iap_portal.i18n import LocalDecimal, format_day, localized
from iap_portal.models import StatusChange
from students.models import (
    ApprovalLevel,
    Municipality,
    School,
    Semester,
    SpecialistType,
    Student,
)

EUR = {"max_digits": 9, "decimal_places": 2}


class RiskType(models.Model):
    """The four official risk types of the programme (created by a data migration)."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    name = models.CharField(_("name in Latvian"), max_length=150)
    name_en = models.CharField(_("name in English"), max_length=150, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("risk type")
        verbose_name_plural = _("risk types")

    def __str__(self):
        return f"{self.number}. {self.display_name}"

    @property
    def display_name(self):
        """The name in the language of the page."""
        return localized(self.name, self.name_en)


class RiskFactorQuerySet(models.QuerySet):
    def current(self):
        """The newest version of each factor (an edited factor in use leaves its earlier version
        behind, for the plans that name it)."""
        return self.filter(replaced_by__isnull=True)

    def national(self):
        return self.filter(school__isnull=True)

    def for_school(self, school_id):
        """Every version of the national factors and of this school's own ones."""
        return self.filter(Q(school__isnull=True) | Q(school_id=school_id))

    def choosable(self, school_id):
        """What a new risk of this school's plan may name: the factors in use, national or
        the school's own (an active factor is always the newest version of its code)."""
        return self.for_school(school_id).filter(is_active=True)

    def newest_national(self, codes):
        """{code: the national factor in use with that code}; a code taken out of use is
        missing."""
        return {f.code: f for f in self.national().filter(is_active=True, code__in=list(codes))}


class RiskFactor(models.Model):
    """A concrete dropout risk under one of the four types.

    The national catalogue (``school`` empty) is kept by the agency (IKVD); a school may add
    factors of its own, which only it sees. ``code`` names a factor for good: the early-warning
    pre-fill finds factors by it. A factor that plans name is never renamed in place: editing
    its name or type makes a new row with the same code, and the old row is taken out of use
    and points to it (``replaced_by``), so the plans made with it keep what they said
    (``plans.services.save_risk_factor``)."""

    risk_type = models.ForeignKey(
        RiskType, on_delete=models.PROTECT, related_name="factors", verbose_name=_("risk type")
    )
    name = models.CharField(_("name in Latvian"), max_length=200)
    name_en = models.CharField(
        _("name in English"),
        max_length=200,
        blank=True,
        help_text=_("Shown to users who chose English (empty: they see the Latvian name)."),
    )
    code = models.SlugField(_("code"), max_length=100, editable=False)
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("school"),
        help_text=_("Empty for the national catalogue."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        editable=False,
        verbose_name=_("replaced by"),
    )

    objects = RiskFactorQuerySet.as_manager()

    class Meta:
        ordering = ["risk_type__number", "name"]
        verbose_name = _("risk factor")
        verbose_name_plural = _("risk factors")
        constraints = [
            models.UniqueConstraint(
                fields=["risk_type", "name"],
                condition=Q(school__isnull=True, replaced_by__isnull=True),
                name="riskfactor_unique_national_name",
            ),
            models.UniqueConstraint(
                fields=["school", "risk_type", "name"],
                condition=Q(school__isnull=False, replaced_by__isnull=True),
                name="riskfactor_unique_school_name",
            ),
            # The pre-fill takes "the factor of this code": there is at most one in use.
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_active=True), name="riskfactor_one_active_per_code"
            ),
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(is_active=False),
                name="riskfactor_replaced_not_in_use",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="riskfactor_has_code"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        """The name in the language of the page."""
        return localized(self.name, self.name_en)

    @property
    def is_national(self):
        return self.school_id is None

    def is_named_in_plans(self) -> bool:
        return PlanRisk.objects.filter(risk_factor=self).exists()


class CompensationCategory(models.TextChoices):
    TRANSPORT_TICKETS = "transport_tickets", _("public transport tickets")
    ACCOMMODATION = "accommodation", _("accommodation (dormitory)")
    MEALS = "meals", _("meals")
    LEARNING_MATERIALS = "learning_materials", _("individual learning materials")
    PERSONAL_ITEMS = "personal_items", _("items for individual use")
    SPECIAL_TRANSPORT = "special_transport", _("special transport")


class CompensationCeiling(models.Model):
    """A school's own ceiling for one compensation category: what one pupil's plans may plan
    in a semester before a justification is needed (the national default applies where a
    school has none: ``plans.ceilings``)."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="+", verbose_name=_("school")
    )
    category = models.CharField(
        _("compensation category"), max_length=20, choices=CompensationCategory.choices
    )
    amount = models.DecimalField(
        _("ceiling per pupil per semester, EUR"),
        validators=[MinValueValidator(Decimal("0.01"))],
        **EUR,
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "category"]
        verbose_name = _("compensation ceiling")
        verbose_name_plural = _("compensation ceilings")
        constraints = [
            models.UniqueConstraint(fields=["school", "category"], name="ceiling_unique_category")
        ]

    def __str__(self):
        return f"{self.get_category_display()}: {self.amount}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    IN_PROGRESS = "in_progress", _("In progress")
    REVISION = "revision", _("Under revision")
    SUSPENDED = "suspended", _("Suspended")
    EVALUATED = "evaluated", _("Evaluated")
    INACTIVE = "inactive", _("Inactive")


# Named sets of statuses (members of an enum cannot be sets, so they are set after it).
# The preparer may change risks and measures:
PlanStatus.EDITABLE = frozenset({PlanStatus.DRAFT, PlanStatus.REVISION})
# Approved and running (support is delivered), a revision included:
PlanStatus.RUNNING = frozenset({PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, PlanStatus.REVISION})
# Approved at least once and not deleted: claims may draw on the plan.
PlanStatus.CLAIMABLE = PlanStatus.RUNNING | {PlanStatus.SUSPENDED, PlanStatus.EVALUATED}
# Started (approved and its semester begun), evaluation or suspension possible:
PlanStatus.STARTED = frozenset({PlanStatus.IN_PROGRESS, PlanStatus.SUSPENDED})
# Approved, before or after its semester began:
PlanStatus.ACTIVE = frozenset({PlanStatus.APPROVED, PlanStatus.IN_PROGRESS})
# Nothing happens to the plan any more:
PlanStatus.CLOSED = frozenset({PlanStatus.EVALUATED, PlanStatus.INACTIVE})


# Where a submitted plan waits, as its status says it ("Saskaņošanā: pašvaldībā").
WAITS_AT = {
    ApprovalLevel.SCHOOL: pgettext_lazy("waits", "at the school"),
    ApprovalLevel.MUNICIPALITY: pgettext_lazy("waits", "at the municipality"),
    ApprovalLevel.AGENCY: pgettext_lazy("waits", "at IKVD"),
}


class SupportPlanQuerySet(models.QuerySet):
    def live(self):
        return self.exclude(status=PlanStatus.INACTIVE)

    def with_came_from(self):
        """Each plan with ``came_from``: the status its last status change left. A draft or a
        revision that came from "submitted" was returned to its preparer."""
        last = PlanStatusChange.objects.filter(plan=OuterRef("pk")).order_by("-at", "-pk")
        return self.annotate(came_from=Subquery(last.values("from_status")[:1]))


def _decided_by():
    """Who decided a step of the plan (set by the services, never in a form)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )


class SupportPlan(models.Model):
    class Kind(models.TextChoices):
        REGULAR = "regular", _("regular")
        HOLIDAY = "holiday", _("holiday (extended school year)")

    class Outcome(models.TextChoices):
        CONTINUES = "continues", _("continues learning")
        PROMOTED = "promoted", _("promoted to the next grade")
        EXTENDED = "extended", _("extended school year")
        LEFT = "left", _("left education")

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="plans", verbose_name=_("pupil")
    )
    # The pupil's school, kept on the plan so per-school lists and codes need no join.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", editable=False)
    semester = models.ForeignKey(
        Semester, on_delete=models.PROTECT, related_name="plans", verbose_name=_("semester")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    sequence = models.PositiveIntegerField(editable=False)
    code = models.CharField(_("plan code"), max_length=40, unique=True, editable=False)
    # The id in the PDF's address: random, so one plan's address says nothing of another's.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    preparer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="prepared_plans",
        verbose_name=_("preparer"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    goals = models.TextField(_("goals"), blank=True)
    parent_application_date = models.DateField(
        _("parent's application received"), null=True, blank=True
    )
    pupil_agreement = models.BooleanField(_("the pupil agrees with the plan"), default=False)
    status_comment = models.TextField(_("comment"), blank=True)
    # The status a suspended plan returns to when it is resumed.
    status_before_suspension = models.CharField(max_length=12, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, editable=False)
    # Approved at the route's last level for the first time (the participation report counts
    # plans from it, so counting follows the route).
    first_approved_at = models.DateTimeField(
        _("first approved"), null=True, blank=True, editable=False
    )
    # The level a submitted plan waits at (``School.route``), and since when; outside
    # "submitted" the route's first level, where the next submission starts.
    approval_level = models.CharField(
        _("waits at"),
        max_length=12,
        choices=ApprovalLevel.choices,
        default=ApprovalLevel.SCHOOL,
        editable=False,
    )
    level_since = models.DateTimeField(_("waits since"), null=True, blank=True, editable=False)
    # The approvals of the levels below the last one in this round (cleared when the plan is
    # returned or submitted again); the levels above the school see who approved and when.
    school_approved_by = _decided_by()
    school_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    municipality_approved_by = _decided_by()
    municipality_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = _decided_by()
    evaluated_at = models.DateTimeField(_("evaluated"), null=True, blank=True, editable=False)
    # Before the school's evaluation window opens, a coordinator may allow the evaluation
    # (``plans.services.allow_early_evaluation``); the reason is in the status history.
    early_evaluation_allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("early evaluation allowed by"),
    )
    early_evaluation_allowed_at = models.DateTimeField(
        _("early evaluation allowed"), null=True, blank=True, editable=False
    )
    early_evaluation_reason = models.TextField(
        _("reason for early evaluation"), blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = SupportPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-semester__start_date", "student__last_name", "student__first_name"]
        verbose_name = _("individual support plan")
        verbose_name_plural = _("individual support plans")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "semester", "kind"],
                condition=~Q(status="inactive"),
                name="plan_one_live_per_student_semester_kind",
            ),
            models.UniqueConstraint(
                fields=["school", "semester", "sequence"], name="plan_unique_sequence"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "semester", "status"]),
            models.Index(fields=["status"]),
            # The queues of the levels above the school: the plans waiting at a level.
            models.Index(
                fields=["approval_level", "school"],
                condition=Q(status="submitted"),
                name="plan_waiting_at_level",
            ),
            # The participation report counts distinct pupils per semester from this alone.
            models.Index(
                fields=["semester", "student"],
                condition=Q(first_approved_at__isnull=False) & ~Q(status="inactive"),
                name="plan_counted_pupils",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def waiting_since(self):
        return self.level_since or self.submitted_at

    @property
    def status_label(self):
        """The status, with the level a submitted plan waits at ("Saskaņošanā: pašvaldībā")."""
        if self.status == PlanStatus.SUBMITTED:
            return _("%(status)s: %(level)s") % {
                "status": self.get_status_display(),
                "level": WAITS_AT[self.approval_level],
            }
        return self.get_status_display()

    @property
    def is_unapproved(self):
        """Whether the plan's content is not (or no longer) approved: its PDF is a draft."""
        if self.status == PlanStatus.INACTIVE:
            return self.first_approved_at is None
        return self.status in PlanStatus.EDITABLE | {PlanStatus.SUBMITTED}

    @property
    def is_locked(self):
        return self.status not in PlanStatus.EDITABLE

    @property
    def evaluation_opens_on(self):
        """The first day the plan may be evaluated without the coordinator's permission: the
        school's window (``School.evaluation_window_days``) before the semester ends."""
        return self.semester.end_date - timedelta(days=self.school.evaluation_window_days)


class PlanRisk(models.Model):
    class Level(models.TextChoices):
        LOW = "low", _("low")
        MEDIUM = "medium", _("medium")
        HIGH = "high", _("high")

    class Outcome(models.TextChoices):
        REDUCED = "reduced", _("reduced")
        UNCHANGED = "unchanged", _("unchanged")
        INCREASED = "increased", _("increased")

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="risks")
    risk_factor = models.ForeignKey(
        RiskFactor, on_delete=models.PROTECT, related_name="+", verbose_name=_("risk")
    )
    level = models.CharField(_("level"), max_length=6, choices=Level.choices, blank=True)
    justification = models.TextField(_("justification"))
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, blank=True, editable=False
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["risk_factor__risk_type__number", "pk"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        constraints = [
            models.UniqueConstraint(fields=["plan", "risk_factor"], name="planrisk_unique_factor")
        ]

    def __str__(self):
        return str(self.risk_factor)


class NgoProject(models.Model):
    """A youth NGO's initiative project, chosen by a municipality's contest (about 4,600 EUR a
    project). The municipal coordinator keeps the register; a plan's "youth NGO project"
    measure points at a running project of its school's municipality."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="ngo_projects",
        verbose_name=_("municipality"),
        editable=False,
    )
    title = models.CharField(_("project title"), max_length=200)
    ngo_name = models.CharField(_("NGO"), max_length=200)
    ngo_registration_number = models.CharField(_("NGO's registration number"), max_length=11)
    contest_round = models.CharField(_("contest round"), max_length=100)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    budget = models.DecimalField(
        _("budget, EUR"), validators=[MinValueValidator(Decimal("0.01"))], **EUR
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PLANNED
    )
    report = models.TextField(
        _("report"), blank=True, help_text=_("A short report at the end: needed to finish.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-start_date", "title", "pk"]
        verbose_name = _("youth NGO project")
        verbose_name_plural = _("youth NGO projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="ngoproject_period_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="finished") | ~Q(report=""),
                name="ngoproject_finished_has_report",
            ),
            models.CheckConstraint(condition=Q(budget__gt=0), name="ngoproject_budget_positive"),
        ]
        indexes = [models.Index(fields=["municipality", "status"])]

    def __str__(self):
        return self.title


class SupportMeasureQuerySet(models.QuerySet):
    def with_delivery(self):
        """Each measure with the minutes of consultation delivered (``delivered_hours``)."""
        return self.annotate(delivered_minutes=Sum("consultations__minutes"))

    def approve_as_planned(self):
        """Take the planned hours and amounts as approved, in one UPDATE and without history
        (demo and generated data; an approval in the app goes through ``approve_plan``)."""
        return self.update(
            approved_hours=models.F("planned_hours"), approved_amount=models.F("planned_amount")
        )


class SupportMeasure(models.Model):
    class Type(models.TextChoices):
        CONSULTATION = "consultation", _("consultation")
        COMPENSATION = "compensation", _("compensation")
        NGO_PROJECT = "ngo_project", _("youth NGO project")

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="measures")
    measure_type = models.CharField(_("measure"), max_length=12, choices=Type.choices)
    specialist_type = models.ForeignKey(
        SpecialistType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialist type"),
    )
    compensation_category = models.CharField(
        _("compensation category"), max_length=20, choices=CompensationCategory.choices, blank=True
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Measures made before the register have none (their description names the project).
    ngo_project = models.ForeignKey(
        NgoProject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("youth NGO project"),
    )
    risks = models.ManyToManyField(PlanRisk, related_name="measures", verbose_name=_("risks"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="responsible_measures",
        verbose_name=_("responsible person"),
    )
    planned_hours = models.DecimalField(
        _("planned hours"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(LocalDecimal("0.5")), MaxValueValidator(LocalDecimal("500"))],
    )
    planned_amount = models.DecimalField(
        _("planned amount, EUR"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        **EUR,
    )
    # What the last approval of the plan approved (a revision's new figures count only once it
    # is approved again): claims are checked against these.
    approved_hours = models.DecimalField(
        _("approved hours"), max_digits=5, decimal_places=1, null=True, blank=True, editable=False
    )
    approved_amount = models.DecimalField(
        _("approved amount, EUR"), null=True, blank=True, editable=False, **EUR
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    ceiling_justification = models.TextField(
        _("why more than the ceiling"),
        blank=True,
        help_text=_(
            "Needed when the pupil's compensations of this category are above the school's ceiling."
        ),
    )
    evaluation_note = models.TextField(_("evaluation note"), blank=True, editable=False)

    objects = SupportMeasureQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[risks])

    class Meta:
        ordering = ["pk"]
        verbose_name = _("support measure")
        verbose_name_plural = _("support measures")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="measure_period_order"
            ),
            models.CheckConstraint(
                condition=Q(ngo_project__isnull=True) | Q(measure_type="ngo_project"),
                name="measure_project_only_for_ngo",
            ),
            models.CheckConstraint(
                name="measure_fields_match_type",
                condition=(
                    Q(
                        measure_type="consultation",
                        specialist_type__isnull=False,
                        planned_hours__isnull=False,
                        planned_amount__isnull=True,
                        compensation_category="",
                    )
                    | Q(
                        measure_type="compensation",
                        specialist_type__isnull=True,
                        planned_hours__isnull=True,
                        planned_amount__isnull=False,
                    )
                    & ~Q(compensation_category="")
                    | Q(
                        measure_type="ngo_project",
                        specialist_type__isnull=True,
                        planned_hours__isnull=True,
                        compensation_category="",
                    )
                ),
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        if self.measure_type == self.Type.CONSULTATION and self.specialist_type_id:
            return f"{self.get_measure_type_display()}: {self.specialist_type}"
        if self.measure_type == self.Type.COMPENSATION:
            return f"{self.get_measure_type_display()}: {self.get_compensation_category_display()}"
        if self.measure_type == self.Type.NGO_PROJECT and self.ngo_project_id:
            return f"{self.get_measure_type_display()}: {self.ngo_project}"
        return str(self.get_measure_type_display())

    @property
    def delivered_hours(self):
        """Consultation hours delivered; needs ``SupportMeasure.objects.with_delivery()``."""
        return Decimal(self.delivered_minutes or 0) / 60

    @property
    def is_over_delivered(self):
        """More consultation hours delivered than planned (the pages highlight it)."""
        return (
            self.measure_type == self.Type.CONSULTATION
            and self.planned_hours is not None
            and self.delivered_hours > self.planned_hours
        )


class Consultation(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("in person")
        REMOTE = "remote", _("remote")

    class Confirmation(models.TextChoices):
        PENDING = "pending", _("not yet confirmed")
        SIGNED = "signed", _("signed on paper")
        REMOTE = "remote", _("confirmed remotely")

    measure = models.ForeignKey(
        SupportMeasure, on_delete=models.PROTECT, related_name="consultations"
    )
    date = models.DateField(_("date"))
    minutes = models.PositiveSmallIntegerField(
        _("duration, minutes"), validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    topic = models.CharField(_("topic"), max_length=300)
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consultations_given",
        verbose_name=_("provider"),
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    confirmation = models.CharField(
        _("pupil's confirmation"),
        max_length=10,
        choices=Confirmation.choices,
        # Nobody has signed anything when the consultation is logged, unless the form says so.
        default=Confirmation.PENDING,
    )
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=15, minutes__lte=240), name="consultation_minutes_range"
            )
        ]

    def __str__(self):
        return f"{format_day(self.date)} {self.topic}"


class PlanEvaluation(models.Model):
    plan = models.OneToOneField(SupportPlan, on_delete=models.CASCADE, related_name="evaluation")
    narrative = models.TextField(_("evaluation"))
    overall_outcome = models.CharField(
        _("overall outcome"), max_length=10, choices=SupportPlan.Outcome.choices
    )
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    evaluated_at = models.DateTimeField(default=timezone.now)
    # An evaluation before the school's window opened names the coordinator who allowed it.
    early_allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("early evaluation allowed by"),
    )
    early_allowed_at = models.DateTimeField(
        _("early evaluation allowed"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("plan evaluation")
        verbose_name_plural = _("plan evaluations")

    def __str__(self):
        return f"{self.plan} — {self.get_overall_outcome_display()}"


class PlanStatusChange(StatusChange):
    subject_field = "plan"
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=PlanStatus.choices)
    to_status = models.CharField(max_length=12, choices=PlanStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta(StatusChange.Meta):
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

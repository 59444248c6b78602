"""Early warning: e-journal facts per pupil and period, the school's thresholds, and the
level computed from them (see ``indicators`` for the rules)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iap_portal.i18n import LocalDecimal, format_day
from students.models import School, Semester, Student

from .indicators import FLAGGED, Level, describe


class Thresholds(models.Model):
    """One school's thresholds; the defaults follow the early-warning practice of AIR's EWIMS
    and Panorama (attendance under 90 % = chronic absence, any course failure, behaviour)."""

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, related_name="ew_thresholds", verbose_name=_("school")
    )
    attendance_watch = models.DecimalField(
        _("attendance below, % (watch)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("95"),
        validators=[MinValueValidator(LocalDecimal("1")), MaxValueValidator(LocalDecimal("100"))],
    )
    attendance_at_risk = models.DecimalField(
        _("attendance below, % (at risk)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("90"),
        validators=[MinValueValidator(LocalDecimal("1")), MaxValueValidator(LocalDecimal("100"))],
    )
    attendance_high = models.DecimalField(
        _("attendance below, % (high risk)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("80"),
        validators=[MinValueValidator(LocalDecimal("1")), MaxValueValidator(LocalDecimal("100"))],
    )
    unexcused_lessons = models.PositiveSmallIntegerField(
        _("unexcused absences more than, lessons (at risk)"),
        default=10,
        validators=[MaxValueValidator(1000)],
    )
    failing_grade = models.PositiveSmallIntegerField(
        _("a grade below this is failing"),
        default=4,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
    )
    failing_subjects_high = models.PositiveSmallIntegerField(
        _("failing or not assessed subjects, at least (high risk)"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(30)],
    )
    average_drop = models.DecimalField(
        _("fall of the average since the last period, at least (watch)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(LocalDecimal("0.1")), MaxValueValidator(LocalDecimal("9"))],
    )
    conduct_watch = models.DecimalField(
        _("conduct notes per month, at least (watch)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("2"),
        validators=[MinValueValidator(LocalDecimal("0.1")), MaxValueValidator(LocalDecimal("100"))],
    )
    conduct_at_risk = models.DecimalField(
        _("conduct notes per month, at least (at risk)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("4"),
        validators=[MinValueValidator(LocalDecimal("0.1")), MaxValueValidator(LocalDecimal("100"))],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("early warning thresholds")
        verbose_name_plural = _("early warning thresholds")
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance_watch__gt=F("attendance_at_risk"))
                & Q(attendance_at_risk__gt=F("attendance_high")),
                name="ew_attendance_thresholds_order",
                violation_error_message=_(
                    "The attendance thresholds must fall from “watch” to “high risk”, "
                    "e.g. 95, 90 and 80."
                ),
            ),
            models.CheckConstraint(
                condition=Q(conduct_at_risk__gt=F("conduct_watch")),
                name="ew_conduct_thresholds_order",
                violation_error_message=_(
                    "The conduct notes for “at risk” must be more than those for “watch”."
                ),
            ),
        ]

    def __str__(self):
        return str(self.school)

    @classmethod
    def for_school(cls, school):
        """The school's thresholds, or unsaved defaults when the school never set them."""
        return cls.objects.filter(school=school).first() or cls(school=school)


class PeriodQuerySet(models.QuerySet):
    def latest_per_school(self, semester):
        """The latest period of each school within the semester (a subquery-backed filter)."""
        latest = (
            Period.objects.filter(school=OuterRef("school"), semester=semester)
            .order_by("-end_date", "-pk")
            .values("pk")[:1]
        )
        return self.filter(semester=semester, pk=Subquery(latest))


class Period(models.Model):
    """A stretch of one semester that the school's e-journal exports cover (a month, or the
    whole semester so far)."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="ew_periods", verbose_name=_("school")
    )
    semester = models.ForeignKey(
        Semester, on_delete=models.PROTECT, related_name="ew_periods", verbose_name=_("semester")
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-end_date", "-pk"]
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "start_date", "end_date"], name="ew_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="ew_period_order"
            ),
        ]

    def __str__(self):
        return f"{format_day(self.start_date)}–{format_day(self.end_date)}"

    @property
    def months(self):
        """The period's length in months (at least one), to count notes per month."""
        days = (self.end_date - self.start_date).days + 1
        return max(Decimal(1), (Decimal(days) / Decimal("30.4")).quantize(Decimal("0.01")))

    def previous(self):
        return (
            Period.objects.filter(school_id=self.school_id, end_date__lt=self.start_date)
            .order_by("-end_date", "-pk")
            .first()
        )


class ImportKind(models.TextChoices):
    ABSENCES = "absences", _("absences")
    GRADES = "grades", _("grades")
    CONDUCT = "conduct", _("conduct notes")


class ImportRecord(models.Model):
    """One e-journal file that was imported: who, when, which file, how many rows."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="ew_imports", verbose_name=_("school")
    )
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="imports", verbose_name=_("period")
    )
    kind = models.CharField(_("data"), max_length=10, choices=ImportKind.choices)
    file_name = models.CharField(_("file"), max_length=255)
    row_count = models.PositiveIntegerField(_("rows"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("e-journal import")
        verbose_name_plural = _("e-journal imports")

    def __str__(self):
        return f"{self.file_name} ({format_day(self.imported_at)})"


class Attendance(models.Model):
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="attendance")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    lessons_held = models.PositiveIntegerField(_("lessons held"))
    excused = models.PositiveIntegerField(_("excused absences"))
    unexcused = models.PositiveIntegerField(_("unexcused absences"))
    source = models.ForeignKey(ImportRecord, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["period", "student"], name="ew_attendance_unique"),
            models.CheckConstraint(
                condition=Q(lessons_held__gte=F("excused") + F("unexcused")),
                name="ew_absences_within_lessons",
            ),
        ]

    def __str__(self):
        return f"{self.period}: {self.unexcused}+{self.excused}/{self.lessons_held}"


class Grade(models.Model):
    """A pupil's grade in one subject for the period; no value is "nv" (not assessed)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="grades")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("subject"), max_length=100)
    value = models.PositiveSmallIntegerField(
        _("grade"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    source = models.ForeignKey(ImportRecord, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "student", "subject"], name="ew_grade_unique"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=1, value__lte=10),
                name="ew_grade_range",
            ),
        ]

    def __str__(self):
        return f"{self.period}: {self.subject} {self.value or 'nv'}"


class ConductNotes(models.Model):
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="conduct")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    notes = models.PositiveIntegerField(_("conduct notes"))
    source = models.ForeignKey(ImportRecord, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "student"], name="ew_conduct_unique"),
        ]

    def __str__(self):
        return f"{self.period}: {self.notes}"


class Indicator(models.Model):
    """The level computed for a pupil in a period, with the triggers that set it.

    Stored so that lists are one query; recomputed after every import and threshold change.
    ``triggers`` is a list of {"code", "level", "threshold", "actual", "subjects"}; the
    reason text is made from it when shown, in the reader's language."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="indicators")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="ew_indicators")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    previous_level = models.PositiveSmallIntegerField(
        _("level in the previous period"), choices=Level.choices, null=True, blank=True
    )
    triggers = models.JSONField(default=list)
    attendance_rate = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    average = models.DecimalField(max_digits=4, decimal_places=2, null=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-level", "student__last_name", "student__first_name"]
        verbose_name = _("early warning indicator")
        verbose_name_plural = _("early warning indicators")
        constraints = [
            models.UniqueConstraint(fields=["period", "student"], name="ew_indicator_unique"),
        ]
        indexes = [models.Index(fields=["period", "level"])]

    def __str__(self):
        return f"{self.period}: {self.get_level_display()}"

    @property
    def is_flagged(self):
        return self.level >= FLAGGED

    @property
    def change(self):
        """ "new", "up", "down" or "same" against the previous period."""
        if self.previous_level is None:
            return "new"
        if self.level > self.previous_level:
            return "up"
        if self.level < self.previous_level:
            return "down"
        return "same"

    @property
    def reasons(self):
        return [describe(t) for t in self.triggers]

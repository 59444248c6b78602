"""Schools, the national calendar, classes, pupils and staff roles."""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from iap_portal.i18n import localized

from .personas_kods import mask_personas_kods, normalise_personas_kods
from .search import fold


class ApprovalLevel(models.TextChoices):
    """A level that approves plans, lowest first."""

    SCHOOL = "school", _("school")
    MUNICIPALITY = "municipality", _("municipality")
    AGENCY = "agency", _("agency (IKVD)")


class ApprovalRoute(models.TextChoices):
    """The levels a school's plans pass before they are approved (set by the agency)."""

    SCHOOL = "school", _("school only")
    MUNICIPALITY = "school_municipality", _("school → municipality")
    MUNICIPALITY_AGENCY = "school_municipality_agency", _("school → municipality → IKVD")
    AGENCY = "school_agency", _("school → IKVD (state vocational schools)")


ROUTE_LEVELS = {
    ApprovalRoute.SCHOOL: (ApprovalLevel.SCHOOL,),
    ApprovalRoute.MUNICIPALITY: (ApprovalLevel.SCHOOL, ApprovalLevel.MUNICIPALITY),
    ApprovalRoute.MUNICIPALITY_AGENCY: (
        ApprovalLevel.SCHOOL,
        ApprovalLevel.MUNICIPALITY,
        ApprovalLevel.AGENCY,
    ),
    ApprovalRoute.AGENCY: (ApprovalLevel.SCHOOL, ApprovalLevel.AGENCY),
}
LEVEL_ORDER = list(ApprovalLevel)


def next_level(route, level):
    """The level after ``level`` on the route, or None when ``level`` is its last. A level
    taken off the route while a plan waited there is passed on to the route's next one."""
    later = LEVEL_ORDER[LEVEL_ORDER.index(level) + 1 :]
    return next((lvl for lvl in ROUTE_LEVELS[route] if lvl in later), None)


class Municipality(models.Model):
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=150, unique=True)
    approval_route = models.CharField(
        _("approval route"),
        max_length=30,
        choices=ApprovalRoute.choices,
        default=ApprovalRoute.SCHOOL,
        help_text=_("For the municipality's schools that have no route of their own."),
    )
    # Per municipality, not per school: it is how the levels above the school watch the
    # municipality's money, while a school's own route is a fact about the school (state
    # vocational schools skip the municipality). It holds for its schools' routes alike.
    revision_lowering_school_only = models.BooleanField(
        _("a revision that only lowers amounts needs the school's approval alone"),
        default=False,
        help_text=_(
            "A revised plan whose measures' hours and amounts are the same or lower than "
            "approved, with no measure or risk added, is approved by the school's "
            "coordinator alone; any other revision goes through the whole route."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self):
        return self.name


# A semester is about four months: a longer "window" would be no rule at all.
EVALUATION_WINDOW_MAX_DAYS = 60


class Payer(models.TextChoices):
    """Who pays a school's compensations (the payments issue)."""

    MUNICIPALITY = "municipality", _("the municipality")
    SCHOOL = "school", _("the school itself")


class School(models.Model):
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=20, unique=True)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="schools",
        verbose_name=_("municipality"),
    )
    allow_self_approval = models.BooleanField(
        _("preparer may approve own plans"),
        default=False,
        help_text=_("Only for small schools where the coordinator also prepares plans."),
    )
    claims_fall_back_to_coordinator = models.BooleanField(
        _("the coordinator decides a claim no social pedagogue may decide"),
        default=True,
        help_text=_(
            "When every social pedagogue of the school filed, submitted or changed a claim "
            "(they are often the responsible person of compensations), the coordinator decides it."
        ),
    )
    approval_route = models.CharField(
        _("approval route"),
        max_length=30,
        choices=ApprovalRoute.choices,
        blank=True,
        help_text=_("Empty: the municipality's route."),
    )
    payer = models.CharField(
        _("compensations are paid by"),
        max_length=12,
        choices=Payer.choices,
        default=Payer.MUNICIPALITY,
        help_text=_(
            "The municipality's accountant receives the school's payment batches, or the "
            "school's coordinator pays them itself."
        ),
    )
    evaluation_window_days = models.PositiveSmallIntegerField(
        _("plans are evaluated from this many days before the semester ends"),
        default=14,
        validators=[MaxValueValidator(EVALUATION_WINDOW_MAX_DAYS)],
        help_text=_(
            "Earlier, a plan is evaluated only once the coordinator has allowed it (with a "
            "reason, kept in the plan's history). 0: from the semester's last day."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.CheckConstraint(
                condition=Q(evaluation_window_days__lte=EVALUATION_WINDOW_MAX_DAYS),
                name="school_evaluation_window_range",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def route(self):
        """The school's own approval route, else its municipality's."""
        return self.approval_route or self.municipality.approval_route


class SchoolYearQuerySet(models.QuerySet):
    def current(self, today=None):
        """The latest school year that has begun (in summer: the one just ended)."""
        today = today or timezone.localdate()
        started = self.filter(
            semesters__number=Semester.Number.FIRST, semesters__start_date__lte=today
        )
        return started.order_by("-start_year").first() or self.order_by("start_year").first()


class SchoolYear(models.Model):
    """A national school year ("2025/2026"); the calendar is set by the Cabinet, so it is global."""

    start_year = models.PositiveSmallIntegerField(_("first calendar year"), unique=True)

    objects = SchoolYearQuerySet.as_manager()

    class Meta:
        ordering = ["-start_year"]
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__gte=2000, start_year__lte=2100),
                name="schoolyear_start_year_range",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return f"{self.start_year}/{self.start_year + 1}"

    def semester(self, number):
        """The semester with this number, read from ``semesters.all()`` (prefetch it for lists)."""
        return next((s for s in self.semesters.all() if s.number == number), None)

    @property
    def first_semester(self):
        return self.semester(Semester.Number.FIRST)

    @property
    def second_semester(self):
        return self.semester(Semester.Number.SECOND)


class SemesterQuerySet(models.QuerySet):
    def current(self, today=None):
        today = today or timezone.localdate()
        return (
            self.filter(start_date__lte=today, end_date__gte=today)
            .select_related("school_year")
            .first()
        )


class Semester(models.Model):
    class Number(models.IntegerChoices):
        FIRST = 1, "I"
        SECOND = 2, "II"

    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.CASCADE,
        related_name="semesters",
        verbose_name=_("school year"),
    )
    number = models.PositiveSmallIntegerField(_("semester"), choices=Number.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    objects = SemesterQuerySet.as_manager()

    class Meta:
        ordering = ["school_year__start_year", "number"]
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "number"], name="semester_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="semester_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.school_year.name} {self.get_number_display()}"

    def clean(self):
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("The semester must end after it starts.")})


class ClassGroup(models.Model):
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="class_groups", verbose_name=_("school")
    )
    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.PROTECT,
        related_name="class_groups",
        verbose_name=_("school year"),
    )
    grade = models.PositiveSmallIntegerField(_("grade"))
    letter = models.CharField(_("letter"), max_length=3, blank=True)
    class_teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="taught_class_groups",
        verbose_name=_("class teachers"),
    )

    class Meta:
        ordering = ["school_year", "grade", "letter"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "grade", "letter"], name="classgroup_unique"
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=12), name="classgroup_grade_1_12"
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return f"{self.grade}.{self.letter}" if self.letter else f"{self.grade}."


class Student(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", _("female")
        MALE = "M", _("male")

    class Status(models.TextChoices):
        ACTIVE = "active", _("learning")
        LEFT = "left", _("left the school")

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="students", verbose_name=_("school")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    personas_kods = models.CharField(
        _("personal identity code"),
        max_length=11,
        blank=True,
        help_text=_("Optional. Old format DDMMYY-CNNNN or new 32NNNN-NNNNN."),
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    left_on = models.DateField(_("date left"), null=True, blank=True)
    # "elza berzina": the names folded (students.search), for a search that ignores
    # diacritics where the database cannot fold them itself (SQLite). Kept by save().
    search_name = models.CharField(max_length=201, blank=True, editable=False)
    # The id in the address of the pupil's data archive: random, not guessable.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "search_name"])

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "personas_kods"],
                condition=~Q(personas_kods=""),
                name="student_unique_personas_kods_per_school",
            ),
            models.CheckConstraint(
                condition=Q(status="left") | Q(left_on__isnull=True),
                name="student_left_on_only_when_left",
            ),
        ]
        indexes = [models.Index(fields=["school", "last_name", "first_name"])]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def masked_personas_kods(self):
        return mask_personas_kods(self.personas_kods)

    def clean_fields(self, exclude=None):
        # People write the code with a hyphen (12 characters); store the 11 digits.
        if self.personas_kods:
            self.personas_kods = self.personas_kods.strip().replace("-", "").replace(" ", "")
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        if self.personas_kods:
            try:
                self.personas_kods = normalise_personas_kods(self.personas_kods)
            except ValidationError as exc:
                errors["personas_kods"] = exc.messages
        if self.status == self.Status.LEFT and not self.left_on:
            errors["left_on"] = _("Give the date the pupil left the school.")
        if self.status == self.Status.ACTIVE and self.left_on:
            errors["left_on"] = _("A pupil who is learning has no leaving date.")
        if self.birth_date and self.birth_date > timezone.localdate():
            errors["birth_date"] = _("The birth date cannot be in the future.")
        if errors:
            raise ValidationError(errors)


class Guardian(models.Model):
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("pupil")
    )
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")

    def __str__(self):
        return self.name


class Enrollment(models.Model):
    """A pupil's class in one school year (at most one per year)."""

    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("pupil")
    )
    class_group = models.ForeignKey(
        ClassGroup, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("class")
    )
    # Copied from the class so the database can hold "one class per pupil and year".
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "school_year"], name="enrollment_one_class_per_year"
            )
        ]

    def __str__(self):
        return f"{self.student} — {self.class_group} ({self.school_year})"

    def save(self, *args, **kwargs):
        self.school_year_id = self.class_group.school_year_id
        super().save(*args, **kwargs)

    def clean(self):
        if (
            self.student_id
            and self.class_group_id
            and self.student.school_id != self.class_group.school_id
        ):
            raise ValidationError(_("The class belongs to another school."))


class SpecialistType(models.Model):
    """Who delivers consultations: psihologs, logopēds, … (an editable list)."""

    name = models.CharField(_("name in Latvian"), max_length=100, unique=True)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("specialist type")
        verbose_name_plural = _("specialist types")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        """The name in the language of the page."""
        return localized(self.name, self.name_en)


class Role(models.TextChoices):
    CLASS_TEACHER = "class_teacher", _("class teacher")
    SPECIALIST = "specialist", _("specialist")
    SOCIAL_PEDAGOGUE = "social_pedagogue", _("social pedagogue")
    COORDINATOR = "coordinator", _("coordinator")
    MUNICIPALITY = "municipality", _("municipality coordinator")
    MUNICIPAL_ACCOUNTANT = "municipal_accountant", _("municipal accountant")
    AGENCY = "agency", _("agency (IKVD)")


SCHOOL_ROLES = {Role.CLASS_TEACHER, Role.SPECIALIST, Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR}
AGGREGATE_ROLES = {Role.MUNICIPALITY, Role.AGENCY}
# Roles held over a municipality's schools (the membership names the municipality).
MUNICIPAL_ROLES = {Role.MUNICIPALITY, Role.MUNICIPAL_ACCOUNTANT}


class Membership(models.Model):
    """A user's role: in a school, over a municipality's schools, or over all (agency)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("school"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("municipality"),
    )
    specialist_type = models.ForeignKey(
        SpecialistType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("specialist type"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "pk"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    Q(
                        role__in=sorted(r.value for r in SCHOOL_ROLES),
                        school__isnull=False,
                        municipality__isnull=True,
                    )
                    | Q(
                        role__in=sorted(r.value for r in MUNICIPAL_ROLES),
                        school__isnull=True,
                        municipality__isnull=False,
                    )
                    | Q(role=Role.AGENCY, school__isnull=True, municipality__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="membership_specialist_type_only_for_specialists",
                condition=Q(role=Role.SPECIALIST) | Q(specialist_type__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["user", "school", "role"],
                condition=Q(school__isnull=False),
                name="membership_unique_school_role",
            ),
            models.UniqueConstraint(
                fields=["user", "municipality"],
                condition=Q(role=Role.MUNICIPALITY),
                name="membership_unique_municipality",
            ),
            models.UniqueConstraint(
                fields=["user", "municipality"],
                condition=Q(role=Role.MUNICIPAL_ACCOUNTANT),
                name="membership_unique_municipal_accountant",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(role=Role.AGENCY), name="membership_unique_agency"
            ),
        ]

    def __str__(self):
        scope = self.school or self.municipality or _("all schools")
        return f"{self.user} — {self.get_role_display()} ({scope})"

    @cached_property
    def scope_label(self):
        return str(self.school or self.municipality or _("all schools"))

    def clean(self):
        errors = {}
        if self.role in SCHOOL_ROLES:
            if not self.school_id:
                errors["school"] = _("This role belongs to a school: choose the school.")
            self.municipality = None
        elif self.role in MUNICIPAL_ROLES:
            if not self.municipality_id:
                errors["municipality"] = _("Choose the municipality.")
            self.school = None
        elif self.role == Role.AGENCY:
            self.school = None
            self.municipality = None
        if self.role == Role.SPECIALIST and not self.specialist_type_id:
            errors["specialist_type"] = _("Choose the specialist type.")
        if self.role != Role.SPECIALIST:
            self.specialist_type = None
        if errors:
            raise ValidationError(errors)


def _invitation_token():
    return secrets.token_urlsafe(32)


class StaffInvitationQuerySet(models.QuerySet):
    def pending(self, now=None):
        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, declined_at__isnull=True, expires_at__gt=now)


class StaffInvitation(models.Model):
    """A role in a school offered to a person by e-mail; the role begins when they accept it,
    signed in with that address. Nothing of their account (or other roles) is shown to the
    school that invites them."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("school")
    )
    email = models.EmailField(_("e-mail"))
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    role = models.CharField(
        _("role"), max_length=20, choices=[(r.value, r.label) for r in Role if r in SCHOOL_ROLES]
    )
    specialist_type = models.ForeignKey(
        SpecialistType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialist type"),
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = StaffInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")

    def __str__(self):
        return f"{self.email} → {self.get_role_display()} ({self.school})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

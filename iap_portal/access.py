"""The access policy: which rows a user may see, and what they may do to them.

Every view fetches through here. Both kinds of answer come from the same memberships, so
"can see" and "may do" cannot disagree:

- class teacher: pupils enrolled this school year in the classes they teach;
- specialist: pupils with a support measure assigned to them (arrives with plans);
- social pedagogue, coordinator: every pupil of their school;
- municipality, agency: aggregates only, no row-level page at all;
- the national school calendar (no personal data): coordinators keep it, the agency reads it.

Outside one's scope is a 404 (the row's existence is not revealed); in scope but not
allowed is a 403.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from students.models import (
    AGGREGATE_ROLES,
    ClassGroup,
    Enrollment,
    Membership,
    Role,
    School,
    SchoolYear,
    Student,
)

STAFF_ROLES = {Role.COORDINATOR, Role.SOCIAL_PEDAGOGUE}
# The school calendar holds no personal data; IKVD reads it, coordinators keep it.
CALENDAR_VIEWERS = {Role.COORDINATOR, Role.AGENCY}


@dataclass
class Access:
    """A user's memberships, loaded once per request."""

    user: object
    memberships: list = field(default_factory=list)

    def school_ids(self, *roles):
        roles = set(roles)
        return {m.school_id for m in self.memberships if m.school_id and m.role in roles}

    def has_role(self, *roles):
        roles = set(roles)
        return any(m.role in roles for m in self.memberships)

    @property
    def roles(self):
        return {m.role for m in self.memberships}

    @property
    def is_aggregate_only(self):
        return bool(self.memberships) and self.roles <= AGGREGATE_ROLES

    @property
    def school_ids_all(self):
        return {m.school_id for m in self.memberships if m.school_id}

    @property
    def coordinated_school_ids(self):
        return self.school_ids(Role.COORDINATOR)

    @cached_property
    def current_year(self):
        """The current school year, looked up once per request."""
        return SchoolYear.objects.current()


def get_access(user) -> Access:
    if not user.is_authenticated or not user.is_active:
        return Access(user)
    cached = getattr(user, "_iap_access", None)
    if cached is None:
        memberships = list(
            Membership.objects.filter(user=user).select_related(
                "school", "municipality", "specialist_type"
            )
        )
        cached = Access(user, memberships)
        user._iap_access = cached
    return cached


# --- Querysets: which rows may this user see ------------------------------------------------


def current_school_year(user):
    return get_access(user).current_year if user.is_authenticated else SchoolYear.objects.current()


def visible_students(user):
    access = get_access(user)
    staff_schools = access.school_ids(*STAFF_ROLES)
    query = Student.objects.filter(school_id__in=staff_schools)
    if access.has_role(Role.CLASS_TEACHER):
        taught = _taught_student_ids(user)
        query = query | Student.objects.filter(pk__in=taught)
    if access.has_role(Role.SPECIALIST):
        query = query | Student.objects.filter(
            pk__in=_assigned_measures(user).values("plan__student_id")
        )
    return query


def _assigned_measures(user):
    """Measures assigned to this user as a specialist that are still running: on a plan that is
    neither deleted nor evaluated, and not ended more than the grace period ago (to log the last
    consultations). After that the specialist no longer sees the pupil."""
    from plans.models import SupportMeasure

    return running_measures(
        SupportMeasure.objects.filter(
            responsible=user,
            plan__school_id__in=get_access(user).school_ids(Role.SPECIALIST),
        )
    )


def running_measures(measures):
    """The measures that still give their specialist access (see ``_assigned_measures``)."""
    from django.conf import settings
    from django.utils import timezone

    from plans.models import PlanStatus

    since = timezone.localdate() - timedelta(days=settings.IAP_SPECIALIST_GRACE_DAYS)
    return measures.filter(end_date__gte=since).exclude(
        plan__status__in=[PlanStatus.INACTIVE, PlanStatus.EVALUATED]
    )


def _taught_student_ids(user):
    """A subquery: the pupils enrolled in the classes this user teaches this year.

    Read from the enrollments alone, without joining the pupils: PostgreSQL plans a query of at
    most 8 tables (``from_collapse_limit``) as a whole, and the class teacher's plan list with
    one table more hash-joined all 99,000 plans of the country before keeping their pupils'
    (115 ms instead of a few at national size)."""
    return Enrollment.objects.filter(class_group__in=taught_class_groups(user)).values("student_id")


def taught_class_groups(user):
    """The classes this user teaches in the current school year, in schools where they are a
    class teacher (a teacher whose class moved on at the new year no longer sees it)."""
    access = get_access(user)
    return ClassGroup.objects.filter(
        class_teachers=user,
        school_id__in=access.school_ids(Role.CLASS_TEACHER),
        school_year=access.current_year,
    )


def visible_class_groups(user):
    access = get_access(user)
    staff_schools = access.school_ids(*STAFF_ROLES)
    query = ClassGroup.objects.filter(school_id__in=staff_schools)
    if access.has_role(Role.CLASS_TEACHER):
        query = query | ClassGroup.objects.filter(pk__in=taught_class_groups(user).values("pk"))
    return query.distinct()


def managed_schools(user):
    """Schools whose pupils, classes and staff this user manages (coordinator)."""
    return School.objects.filter(pk__in=get_access(user).coordinated_school_ids)


# --- Object permissions: may this user do X to this object ----------------------------------


def can_manage_school(user, school_id) -> bool:
    return school_id in get_access(user).coordinated_school_ids


def can_edit_student(user, student) -> bool:
    return can_manage_school(user, student.school_id)


def get_student_or_404(user, pk=None, *, public_id=None, for_edit=False):
    lookup = {"pk": pk} if public_id is None else {"public_id": public_id}
    student = visible_students(user).filter(**lookup).select_related("school").first()
    if student is None:
        raise Http404
    if for_edit and not can_edit_student(user, student):
        raise PermissionDenied
    return student


def get_class_group_or_404(user, pk, *, for_edit=False):
    group = visible_class_groups(user).filter(pk=pk).select_related("school", "school_year").first()
    if group is None:
        raise Http404
    if for_edit and not can_manage_school(user, group.school_id):
        raise PermissionDenied
    return group


def can_edit_calendar(user) -> bool:
    """The calendar is national: any school's coordinator keeps it (design.md)."""
    return get_access(user).has_role(Role.COORDINATOR)


def get_school_year_or_404(user, pk, *, for_edit=False):
    """A school year with its semesters. The calendar is global, so its rows are no secret:
    the role is checked first (403), then whether the year exists (404)."""
    require_roles(user, *CALENDAR_VIEWERS)
    if for_edit and not can_edit_calendar(user):
        raise PermissionDenied
    year = SchoolYear.objects.filter(pk=pk).prefetch_related("semesters").first()
    if year is None:
        raise Http404
    return year


def get_membership_or_404(user, pk):
    membership = (
        Membership.objects.filter(pk=pk, school_id__in=get_access(user).coordinated_school_ids)
        .select_related("user", "school", "specialist_type")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def require_roles(user, *roles):
    """Raise 403 unless the user holds one of the roles (pages that are not for everyone)."""
    if not get_access(user).has_role(*roles):
        raise PermissionDenied


# --- Plans ----------------------------------------------------------------------------------


def visible_plans(user):
    """Plans of the pupils one may see; a specialist sees the plans that give them a measure."""
    from plans.models import SupportPlan

    access = get_access(user)
    staff_schools = access.school_ids(*STAFF_ROLES)
    # A plan's pupil is always of the plan's school. Saying so lets PostgreSQL join only that
    # school's pupils when a list sorts by name, rather than all 60,000 (bench/results.md).
    query = SupportPlan.objects.filter(
        school_id__in=staff_schools, student__school_id__in=staff_schools
    )
    if access.has_role(Role.CLASS_TEACHER):
        taught = _taught_student_ids(user)
        query = query | SupportPlan.objects.filter(student_id__in=taught)
    if access.has_role(Role.SPECIALIST):
        query = query | SupportPlan.objects.filter(
            pk__in=_assigned_measures(user).values("plan_id")
        )
    return query


def can_prepare_plan(user, student) -> bool:
    """The pupil's class teacher, the social pedagogue and the coordinator prepare plans."""
    access = get_access(user)
    if student.school_id in access.school_ids(*STAFF_ROLES):
        return True
    return taught_class_groups(user).filter(enrollments__student=student).exists()


def can_approve_plan(user, plan) -> bool:
    if plan.school_id not in get_access(user).coordinated_school_ids:
        return False
    return plan.preparer_id != user.pk or plan.school.allow_self_approval


def get_plan_or_404(user, pk=None, *, public_id=None):
    lookup = {"pk": pk} if public_id is None else {"public_id": public_id}
    plan = (
        visible_plans(user)
        .filter(**lookup)
        .select_related("student", "school", "semester__school_year", "preparer", "approved_by")
        .first()
    )
    if plan is None:
        raise Http404
    return plan


def assigned_measures(user):
    return _assigned_measures(user)


def can_log_consultation(user, measure) -> bool:
    return measure.responsible_id == user.pk or can_manage_school(user, measure.plan.school_id)


# --- Compensation claims --------------------------------------------------------------------


def visible_claims(user):
    """Claims of the pupils one may see, for the roles that handle money (not specialists)."""
    from compensations.models import CompensationClaim

    access = get_access(user)
    query = CompensationClaim.objects.filter(school_id__in=access.school_ids(*STAFF_ROLES))
    if access.has_role(Role.CLASS_TEACHER):
        taught = _taught_student_ids(user)
        query = query | CompensationClaim.objects.filter(plan__student_id__in=taught)
    return query


def get_claim_or_404(user, pk):
    claim = (
        visible_claims(user)
        .filter(pk=pk)
        .select_related(
            "measure", "plan__student", "plan__semester__school_year", "school", "submitted_by"
        )
        .first()
    )
    if claim is None:
        raise Http404
    return claim


def can_file_claim(user, plan) -> bool:
    return can_prepare_plan(user, plan.student)


def can_decide_claim(user, claim) -> bool:
    """The school's social pedagogue decides, and never on a claim they submitted."""
    return (
        claim.school_id in get_access(user).school_ids(Role.SOCIAL_PEDAGOGUE)
        and claim.submitted_by_id != user.pk
    )


def can_pay_claim(user, claim) -> bool:
    return can_manage_school(user, claim.school_id)


# --- Transparency ---------------------------------------------------------------------------


def who_can_see(student):
    """Everyone with access to this pupil's record, and the rule that gives it (the same rules
    as ``visible_students``, read the other way round)."""
    from django.contrib.auth import get_user_model

    from plans.models import SupportMeasure

    User = get_user_model()
    rows = []
    staff = (
        Membership.objects.filter(school_id=student.school_id, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("role", "user__last_name")
    )
    for membership in staff:
        rows.append((membership.user, membership.get_role_display(), _("the whole school")))
    year = SchoolYear.objects.current()
    teachers = User.objects.filter(
        taught_class_groups__enrollments__student=student,
        taught_class_groups__school_year=year,
        memberships__school_id=student.school_id,
        memberships__role=Role.CLASS_TEACHER,
    ).distinct()
    for teacher in teachers:
        rows.append((teacher, Role.CLASS_TEACHER.label, _("the pupil's class this school year")))
    specialists = (
        running_measures(
            SupportMeasure.objects.filter(
                plan__student=student,
                responsible__memberships__school_id=student.school_id,
                responsible__memberships__role=Role.SPECIALIST,
            )
        )
        .select_related("responsible", "plan")
        .order_by("responsible_id", "plan__code")
    )
    seen = set()
    for measure in specialists:
        if measure.responsible_id in seen:
            continue
        seen.add(measure.responsible_id)
        rows.append(
            (
                measure.responsible,
                Role.SPECIALIST.label,
                _("a support measure of plan %(code)s is assigned to them")
                % {"code": measure.plan.code},
            )
        )
    return rows

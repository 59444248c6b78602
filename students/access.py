"""The access policy's core: a user's memberships and roles, and the rows of this app (pupils,
classes, staff, the calendar). Each app above keeps the rules for its own rows in its own
``access.py`` (``plans.access``, ``compensations.access``), built on this one.

Every view fetches through these modules. Both kinds of answer come from the same memberships, so
"can see" and "may do" cannot disagree:

- class teacher: pupils enrolled this school year in the classes they teach;
- specialist: pupils with a support measure assigned to them (the plans app registers which:
  ``specialist_pupil_ids``);
- social pedagogue, coordinator: every pupil of their school;
- municipality, agency: aggregates only, no row-level page at all;
- the national school calendar (no personal data): coordinators keep it, the agency reads it.

Outside one's scope is a 404 (the row's existence is not revealed); in scope but not
allowed is a 403.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from .hooks import specialist_pupil_ids, specialists_who_see
from .models import (
    AGGREGATE_ROLES,
    SCHOOL_ROLES,
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
        taught = taught_student_ids(user)
        query = query | Student.objects.filter(pk__in=taught)
    if access.has_role(Role.SPECIALIST):
        query = query | Student.objects.filter(pk__in=specialist_pupil_ids(user))
    return query


def taught_student_ids(user):
    """A subquery: the pupils enrolled in the classes this user teaches this year.

    Read from the enrollments alone, without joining the pupils: PostgreSQL plans a query of at
    most 8 tables (``from_collapse_limit``) as a whole, and the class teacher's plan list with
    one table more hash-joined every plan of the country before keeping their pupils'
    (bench/README.md)."""
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


def chosen_school(request, schools):
    """The school a page is about: ``?school=`` when it is one of ``schools`` (the user's,
    ordered), else the first. Returns (school, schools as a list)."""
    schools = list(schools)
    wanted = request.GET.get("school")
    return next((s for s in schools if str(s.pk) == wanted), schools[0]), schools


def managed_schools(user):
    """Schools whose pupils, classes and staff this user manages (coordinator)."""
    return School.objects.filter(pk__in=get_access(user).coordinated_school_ids)


# --- Object permissions: may this user do X to this object ----------------------------------


def can_manage_school(user, school_id) -> bool:
    return school_id in get_access(user).coordinated_school_ids


def manageable_accounts(user, account_ids) -> set:
    """Of these accounts, those whose every role is in a school this user coordinates: only
    for them may a coordinator reset two-factor sign-in, end sessions or change the account.
    Never a superuser, a member of staff (the admin), a municipality or agency user, or
    anyone with a role in another school; never oneself."""
    coordinated = get_access(user).coordinated_school_ids
    ids = set(account_ids) - {user.pk}
    if not ids or not coordinated:
        return set()
    manageable, refused = set(), set()
    for account, role, school, superuser, staff in Membership.objects.filter(
        user_id__in=ids
    ).values_list("user_id", "role", "school_id", "user__is_superuser", "user__is_staff"):
        inside = role in SCHOOL_ROLES and school in coordinated and not (superuser or staff)
        (manageable if inside else refused).add(account)
    return manageable - refused


def export_schools(user, queryset) -> tuple:
    """The schools an export's rows belong to (for its audit events): the user's one school,
    or, for someone with roles in several, read from the rows (one query)."""
    ids = get_access(user).school_ids_all
    if len(ids) <= 1:
        return tuple(ids)
    return tuple(queryset.order_by().values_list("school_id", flat=True).distinct())


def can_manage_account(user, account) -> bool:
    return account.pk in manageable_accounts(user, [account.pk])


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


# --- Transparency ---------------------------------------------------------------------------


def who_can_see(student):
    """Everyone with access to this pupil's record, and the rule that gives it (the same rules
    as ``visible_students``, read the other way round)."""
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
    rows.extend(specialists_who_see(student))
    return rows


# --- Two-factor sign-in ---------------------------------------------------------------------

# Roles that see many pupils' data or decide money must sign in with a second factor where
# IAP_TWO_FACTOR_REQUIRED is on (accounts.two_factor asks through its hook).
TWO_FACTOR_ROLES = {
    Role.COORDINATOR,
    Role.SOCIAL_PEDAGOGUE,
    Role.MUNICIPALITY,
    Role.MUNICIPAL_ACCOUNTANT,
    Role.AGENCY,
}


def two_factor_required_by_role(user) -> bool:
    return bool(get_access(user).roles & TWO_FACTOR_ROLES)

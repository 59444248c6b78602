"""Who sees which plans, and who may prepare, approve or log consultations on them (built on
``students.access``). A specialist sees a pupil while a measure of theirs runs: this module tells
``students.access`` so through its hooks (PlansConfig.ready)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from iap_portal.actions import touched_by
from students.access import (
    STAFF_ROLES,
    can_manage_school,
    get_access,
    require_roles,
    taught_class_groups,
    taught_student_ids,
)
from students.models import (
    SCHOOL_ROLES,
    ApprovalLevel,
    Municipality,
    Role,
    School,
    SpecialistType,
)

from .models import NgoProject, PlanStatus, RiskFactor, SupportMeasure, SupportPlan


def assigned_measures(user):
    """Measures assigned to this user as a specialist that are still running: on a plan that is
    neither deleted nor evaluated, and not ended more than the grace period ago (to log the last
    consultations). After that the specialist no longer sees the pupil."""
    return running_measures(
        SupportMeasure.objects.filter(
            responsible=user,
            plan__school_id__in=get_access(user).school_ids(Role.SPECIALIST),
        )
    )


def running_measures(measures):
    """The measures that still give their specialist access (see ``assigned_measures``)."""
    since = timezone.localdate() - timedelta(days=settings.IAP_SPECIALIST_GRACE_DAYS)
    return measures.filter(end_date__gte=since).exclude(plan__status__in=PlanStatus.CLOSED)


def specialist_pupil_ids(user):
    """For ``students.access.visible_students``: the pupils of this specialist's measures."""
    return assigned_measures(user).values("plan__student_id")


def specialists_who_see(student):
    """For ``students.access.who_can_see``: the specialists of the pupil's running measures."""
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
    rows, seen = [], set()
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


def visible_plans(user):
    """Plans of the pupils one may see; a specialist sees the plans that give them a measure."""
    access = get_access(user)
    staff_schools = access.school_ids(*STAFF_ROLES)
    # A plan's pupil is always of the plan's school. Saying so lets PostgreSQL join only that
    # school's pupils when a list sorts by name, rather than all of the country's.
    query = SupportPlan.objects.filter(
        school_id__in=staff_schools, student__school_id__in=staff_schools
    )
    if access.has_role(Role.CLASS_TEACHER):
        query = query | SupportPlan.objects.filter(student_id__in=taught_student_ids(user))
    if access.has_role(Role.SPECIALIST):
        query = query | SupportPlan.objects.filter(pk__in=assigned_measures(user).values("plan_id"))
    return query


def can_prepare_plan(user, student) -> bool:
    """The pupil's class teacher, the social pedagogue and the coordinator prepare plans."""
    access = get_access(user)
    if student.school_id in access.school_ids(*STAFF_ROLES):
        return True
    return taught_class_groups(user).filter(enrollments__student=student).exists()


def touched_plan(user, plan) -> bool:
    """Whether the user prepared the plan, ever submitted it, or changed it since it was last
    approved or returned (then they may not decide on it: four eyes)."""
    return user.pk in touched_by(plan, creator_id=plan.preparer_id, submitted=PlanStatus.SUBMITTED)


def can_decide_for_school(user, plan) -> bool:
    """The school's coordinator decides on a plan (approves it at the school's level, allows
    its early evaluation), and never on one they touched, unless the school allows
    self-approval (a very small school; such a decision is marked)."""
    if plan.school_id not in get_access(user).coordinated_school_ids:
        return False
    return plan.school.allow_self_approval or not touched_plan(user, plan)


def municipality_ids(user):
    """The municipalities whose schools' plans this user approves (municipal coordinator)."""
    return {m.municipality_id for m in get_access(user).memberships if m.role == Role.MUNICIPALITY}


def upper_levels(user):
    """The levels above the school at which this user decides."""
    access = get_access(user)
    levels = []
    if access.has_role(Role.MUNICIPALITY):
        levels.append(ApprovalLevel.MUNICIPALITY)
    if access.has_role(Role.AGENCY):
        levels.append(ApprovalLevel.AGENCY)
    return levels


def waiting_for(user):
    """The plans waiting at a level above the school where this user decides: a municipal
    coordinator's schools' plans at the municipality, every plan at IKVD for the agency."""
    query = SupportPlan.objects.none()
    municipalities = municipality_ids(user)
    if municipalities:
        query = query | SupportPlan.objects.filter(
            status=PlanStatus.SUBMITTED,
            approval_level=ApprovalLevel.MUNICIPALITY,
            school__municipality_id__in=municipalities,
        )
    if get_access(user).has_role(Role.AGENCY):
        query = query | SupportPlan.objects.filter(
            status=PlanStatus.SUBMITTED, approval_level=ApprovalLevel.AGENCY
        )
    return query


def upper_scope(user):
    """Every plan of the schools whose plans this user approves above the school level."""
    if get_access(user).has_role(Role.AGENCY):
        return SupportPlan.objects.all()
    return SupportPlan.objects.filter(school__municipality_id__in=municipality_ids(user))


def upper_schools(user):
    """The schools whose plans this user approves above the school level."""
    if get_access(user).has_role(Role.AGENCY):
        return School.objects.order_by("name")
    return School.objects.filter(municipality_id__in=municipality_ids(user)).order_by("name")


def decides_at_level(user, plan) -> bool:
    """Whether the user decides at the level the plan waits at (four eyes aside)."""
    level = plan.approval_level
    if level == ApprovalLevel.SCHOOL:
        return plan.school_id in get_access(user).coordinated_school_ids
    if level == ApprovalLevel.MUNICIPALITY:
        return plan.school.municipality_id in municipality_ids(user)
    return get_access(user).has_role(Role.AGENCY)


def approved_earlier(user, plan) -> bool:
    """Whether the user approved the plan at a lower level in this round."""
    return user.pk in {plan.school_approved_by_id, plan.municipality_approved_by_id}


def can_approve_plan(user, plan) -> bool:
    """Who approves or returns a submitted plan at the level it waits at: the school's
    coordinator, the municipal coordinator, IKVD. Never someone who touched it or approved it
    at a lower level (four eyes at every level); the school's self-approval setting applies at
    the school's own level only."""
    if not decides_at_level(user, plan):
        return False
    if plan.approval_level == ApprovalLevel.SCHOOL and plan.school.allow_self_approval:
        return True
    return not touched_plan(user, plan) and not approved_earlier(user, plan)


def get_waiting_plan_or_404(user, pk):
    """A plan waiting at a level above the school where the user decides (need to know: the
    pages that show it show no pupil)."""
    plan = (
        waiting_for(user)
        .filter(pk=pk)
        .select_related(
            "school__municipality",
            "semester__school_year",
            "school_approved_by",
            "municipality_approved_by",
        )
        .first()
    )
    if plan is None:
        raise Http404
    return plan


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


def my_consultation_measures(user):
    """ "My consultations": the consultation measures of running plans assigned to this user
    (the list page, and the class teacher's "consultations to log")."""
    return SupportMeasure.objects.filter(
        responsible=user,
        measure_type=SupportMeasure.Type.CONSULTATION,
        plan__in=visible_plans(user),
        plan__status__in=PlanStatus.RUNNING,
    )


def can_log_consultation(user, measure) -> bool:
    return measure.responsible_id == user.pk or can_manage_school(user, measure.plan.school_id)


# --- Catalogues -----------------------------------------------------------------------------
# The national catalogues (risk factors, specialist types) are kept by the agency (IKVD). A
# school's coordinator adds factors of the school's own, which only that school sees.

CATALOGUE_KEEPERS = {Role.AGENCY, Role.COORDINATOR}


def keeps_national_catalogue(user) -> bool:
    return get_access(user).has_role(Role.AGENCY)


def visible_risk_factors(user):
    """The catalogue page's factors: the national ones for the agency and for coordinators,
    and the own factors of the schools one coordinates."""
    access = get_access(user)
    if not access.has_role(*CATALOGUE_KEEPERS):
        return RiskFactor.objects.none()
    return RiskFactor.objects.filter(
        Q(school__isnull=True) | Q(school_id__in=access.coordinated_school_ids)
    )


def can_edit_risk_factor(user, factor) -> bool:
    if factor.school_id is None:
        return keeps_national_catalogue(user)
    return can_manage_school(user, factor.school_id)


def get_risk_factor_or_404(user, pk, *, for_edit=False):
    """The newest version of a factor one sees; another school's own factor is a 404, a
    national one a coordinator may not change a 403."""
    require_roles(user, *CATALOGUE_KEEPERS)
    factor = visible_risk_factors(user).current().filter(pk=pk).select_related("risk_type").first()
    if factor is None:
        raise Http404
    if for_edit and not can_edit_risk_factor(user, factor):
        raise PermissionDenied
    return factor


def get_specialist_type_or_404(user, pk):
    """Specialist types are a national list (no secret): the role first (403), then the row."""
    require_roles(user, Role.AGENCY)
    specialist_type = SpecialistType.objects.filter(pk=pk).first()
    if specialist_type is None:
        raise Http404
    return specialist_type


# --- Youth NGO projects ---------------------------------------------------------------------
# The municipal coordinator keeps the register of their municipality's projects, IKVD may keep
# any municipality's; the staff of its schools read the running ones, which their plans'
# measures may use.


def keeps_ngo_register(user) -> bool:
    return get_access(user).has_role(Role.MUNICIPALITY, Role.AGENCY)


def ngo_register_municipalities(user):
    """The municipalities whose registers this user keeps (IKVD: every one)."""
    if get_access(user).has_role(Role.AGENCY):
        return Municipality.objects.order_by("name")
    return Municipality.objects.filter(pk__in=municipality_ids(user)).order_by("name")


def ngo_register_choice(user):
    """The registers to choose from, when this user keeps more than one (IKVD, a coordinator
    of several municipalities); None for one (asking nothing of the database)."""
    if not get_access(user).has_role(Role.AGENCY) and len(municipality_ids(user)) < 2:
        return None
    return ngo_register_municipalities(user)


def _usable():
    """Running and not over: a project still set "running" after its last day is not offered
    (its coordinator finishes it with its report)."""
    return Q(status=NgoProject.Status.RUNNING, end_date__gte=timezone.localdate())


def visible_ngo_projects(user):
    """The register's rows for the municipal coordinator (IKVD: every municipality's); for
    school staff, the usable projects of their schools' municipalities."""
    access = get_access(user)
    if access.has_role(Role.AGENCY):
        return NgoProject.objects.all()
    if access.has_role(Role.MUNICIPALITY):
        return NgoProject.objects.filter(municipality_id__in=municipality_ids(user))
    schools = access.school_ids(*SCHOOL_ROLES)
    return NgoProject.objects.filter(_usable(), municipality__schools__in=schools).distinct()


def usable_ngo_projects(school_id):
    """What a new measure of this school's plan may point at."""
    return NgoProject.objects.filter(_usable(), municipality__schools=school_id)


def get_ngo_project_or_404(user, pk):
    """A project of the register, to edit: the role first (403), then the municipality (404)."""
    require_roles(user, Role.MUNICIPALITY, Role.AGENCY)
    project = visible_ngo_projects(user).filter(pk=pk).first()
    if project is None:
        raise Http404
    return project

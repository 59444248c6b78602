"""The home page: one page per user, with a section for each role they hold."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compensations.models import ClaimStatus, CompensationClaim
from compensations.views import recent_decisions
from iap_portal import audit
from payments.access import is_payer, paid_batches
from payments.models import BatchStatus
from plans.access import assigned_measures, waiting_for
from plans.early_signals import flagged_stalled_plans, flagged_without_plan
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from students.access import STAFF_ROLES, get_access, taught_class_groups
from students.models import (
    SCHOOL_ROLES,
    ApprovalLevel,
    ClassGroup,
    Enrollment,
    Role,
    School,
    Semester,
    StaffInvitation,
    Student,
)

from . import help as help_text
from .guide import teacher_steps


@login_required
def home(request):
    """One page per user, with a section for each role they hold."""
    user = request.user
    user_access = get_access(user)
    roles = user_access.roles
    year = user_access.current_year
    semester = Semester.objects.current()
    context = {"roles": roles, "school_year": year, "Role": Role, "semester": semester}
    if not roles and user.email:
        # Someone new: the invitations they may accept (the e-mail has the link, too).
        context["invitations"] = (
            StaffInvitation.objects.pending()
            .filter(email__iexact=user.email)
            .select_related("school")
        )
    if Role.CLASS_TEACHER in roles:
        context.update(_class_teacher_section(user, semester))
    if user_access.has_role(*SCHOOL_ROLES):
        context["my_measure_count"] = (
            assigned_measures(user)
            .filter(
                measure_type=SupportMeasure.Type.CONSULTATION,
                plan__status__in=PlanStatus.RUNNING,
            )
            .count()
            if Role.SPECIALIST in roles
            else None
        )
    context.update(_queue_counts(user_access))
    if user_access.has_role(Role.CLASS_TEACHER, Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR):
        context["decisions"] = list(recent_decisions(user))
    context.update(_staff_section(user_access))
    if user_access.has_role(Role.MUNICIPALITY, Role.AGENCY):
        context["aggregate_schools"] = _aggregate_schools(user_access)
    shown = _pupils_shown(context)
    audit.record_list(request, "home", [s.pk for s in shown], schools=[s.school_id for s in shown])
    return render(request, "home.html", context)


def _pupils_shown(context):
    """The pupils the page's sections name, from what they loaded: the teacher's classes and
    calls to action, and the decisions on the user's claims (the rest are counts)."""
    shown = [e.student for group in context.get("my_classes", ()) for e in group.enrollments.all()]
    shown += context.get("without_plan", [])
    shown += [indicator.student for indicator in context.get("flagged_without_plan", ())]
    shown += [plan.student for plan in context.get("flagged_stalled", ())]
    shown += [claim.plan.student for claim in context.get("decisions", ())]
    return shown


def _class_teacher_section(user, semester):
    """The teacher's classes with each pupil's plan this semester, and the calls to action:
    pupils without a plan (flagged ones first) and stalled plans of flagged pupils."""
    semester_plans = SupportPlan.objects.live().filter(semester=semester)
    my_classes = list(
        taught_class_groups(user)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.select_related("student")
                .prefetch_related(
                    Prefetch("student__plans", queryset=semester_plans, to_attr="semester_plans")
                )
                .order_by("student__last_name", "student__first_name"),
            )
        )
        .order_by("grade", "letter")
    )
    section = {
        "my_classes": my_classes,
        "without_plan": [
            e.student
            for group in my_classes
            for e in group.enrollments.all()
            if not e.student.semester_plans and e.student.status == Student.Status.ACTIVE
        ],
    }
    taught = Student.objects.filter(enrollments__class_group__in=taught_class_groups(user))
    flagged = []
    if semester is not None:
        flagged = list(flagged_without_plan(taught, semester))
        flagged_ids = {i.student_id for i in flagged}
        section["flagged_without_plan"] = flagged
        section["without_plan"] = [s for s in section["without_plan"] if s.pk not in flagged_ids]
        section["flagged_stalled"] = list(
            flagged_stalled_plans(SupportPlan.objects.filter(student__in=taught), semester)
        )
    section["guide"] = teacher_steps(user, taught, flagged)
    return section


def _queue_counts(user_access):
    """What waits for this person: plans to approve, claims to pay, claims to decide."""
    counts = {}
    if Role.COORDINATOR in user_access.roles:
        schools = user_access.coordinated_school_ids
        counts["queue_count"] = SupportPlan.objects.filter(
            school_id__in=schools, status=PlanStatus.SUBMITTED, approval_level=ApprovalLevel.SCHOOL
        ).count()
        counts["to_pay_count"] = CompensationClaim.objects.filter(
            school_id__in=schools, status=ClaimStatus.APPROVED
        ).count()
    if user_access.has_role(Role.MUNICIPALITY, Role.AGENCY):
        counts["upper_queue_count"] = waiting_for(user_access.user).count()
    if is_payer(user_access.user):
        # Sent payment batches waiting for the payer to record their payments.
        counts["batches_to_pay"] = (
            paid_batches(user_access.user).filter(status=BatchStatus.SENT).count()
        )
    if Role.SOCIAL_PEDAGOGUE in user_access.roles:
        counts["claims_to_decide"] = CompensationClaim.objects.filter(
            school_id__in=user_access.school_ids(Role.SOCIAL_PEDAGOGUE),
            status=ClaimStatus.SUBMITTED,
        ).count()
    return counts


def _staff_section(user_access):
    """The schools a coordinator or social pedagogue works in, with their pupils and classes."""
    staff_school_ids = user_access.school_ids(*STAFF_ROLES)
    if not staff_school_ids:
        return {}
    return {
        "staff_schools": School.objects.filter(pk__in=staff_school_ids)
        .annotate(
            active_pupils=Count(
                "students", filter=Q(students__status=Student.Status.ACTIVE), distinct=True
            ),
        )
        .order_by("name"),
        "class_count": ClassGroup.objects.filter(
            school_id__in=staff_school_ids, school_year=user_access.current_year
        ).count(),
    }


def _aggregate_schools(user_access):
    """The schools of a municipality user's municipalities, or all of them for the agency."""
    if Role.AGENCY in user_access.roles:
        schools = School.objects.all()
    else:
        municipality_ids = {
            m.municipality_id for m in user_access.memberships if m.role == Role.MUNICIPALITY
        }
        schools = School.objects.filter(municipality_id__in=municipality_ids)
    return (
        schools.select_related("municipality")
        .annotate(active_pupils=Count("students", filter=Q(students__status=Student.Status.ACTIVE)))
        .order_by("municipality__name", "name")
    )


@login_required
@require_GET
def help_page(request, role=None):
    """The help for the roles one holds (``/help/``), or for one role (``/help/<role>/``)."""
    if role is None:
        user_roles = get_access(request.user).roles
        roles = [r for r in Role if r in user_roles] or [Role.CLASS_TEACHER]
    else:
        if role not in Role.values:
            raise Http404
        roles = [Role(role)]
    sections = []
    for r in roles:
        sections += [s for s in help_text.ROLE_SECTIONS[r] if s not in sections]
    return render(
        request,
        "dashboard/help.html",
        {
            "roles": [(r, help_text.ROLE_INTROS[r]) for r in roles],
            "all_roles": list(Role),
            "chosen_role": role,
            "sections": sections,
            "plan_statuses": help_text.plan_statuses(),
            "claim_statuses": help_text.claim_statuses(),
        },
    )

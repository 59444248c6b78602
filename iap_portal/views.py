from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from compensations.models import ClaimStatus, CompensationClaim
from compensations.views import recent_decisions
from early_warning import lists as early_warning
from plans.models import PlanStatus, SupportMeasure, SupportPlan
from students.models import (
    SCHOOL_ROLES,
    ClassGroup,
    Enrollment,
    Membership,
    Role,
    School,
    Semester,
    Student,
)

from . import access


@login_required
def home(request):
    """One page per user, with a section for each role they hold."""
    user_access = access.get_access(request.user)
    roles = user_access.roles
    year = user_access.current_year
    context = {"roles": roles, "school_year": year, "Role": Role}

    semester = Semester.objects.current()
    context["semester"] = semester
    if Role.CLASS_TEACHER in roles:
        semester_plans = SupportPlan.objects.live().filter(semester=semester)
        my_classes = list(
            access.taught_class_groups(request.user)
            .select_related("school")
            .prefetch_related(
                Prefetch(
                    "enrollments",
                    queryset=Enrollment.objects.select_related("student")
                    .prefetch_related(
                        Prefetch(
                            "student__plans", queryset=semester_plans, to_attr="semester_plans"
                        )
                    )
                    .order_by("student__last_name", "student__first_name"),
                )
            )
            .order_by("grade", "letter")
        )
        context["my_classes"] = my_classes
        context["without_plan"] = [
            e.student
            for group in my_classes
            for e in group.enrollments.all()
            if not e.student.semester_plans and e.student.status == Student.Status.ACTIVE
        ]
        if semester is not None:
            taught = Student.objects.filter(
                enrollments__class_group__in=access.taught_class_groups(request.user)
            )
            context["flagged_without_plan"] = list(
                early_warning.flagged_without_plan(taught, semester)
            )
            flagged_ids = {i.student_id for i in context["flagged_without_plan"]}
            context["without_plan"] = [
                s for s in context["without_plan"] if s.pk not in flagged_ids
            ]
            context["flagged_stalled"] = list(
                early_warning.flagged_stalled_plans(
                    SupportPlan.objects.filter(student__in=taught), semester
                )
            )

    if user_access.has_role(*SCHOOL_ROLES):
        context["my_measure_count"] = (
            access.assigned_measures(request.user)
            .filter(
                measure_type=SupportMeasure.Type.CONSULTATION,
                plan__status__in=[PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, PlanStatus.REVISION],
            )
            .count()
            if Role.SPECIALIST in roles
            else None
        )
    if Role.COORDINATOR in roles:
        context["queue_count"] = SupportPlan.objects.filter(
            school_id__in=user_access.coordinated_school_ids, status=PlanStatus.SUBMITTED
        ).count()
        context["to_pay_count"] = CompensationClaim.objects.filter(
            school_id__in=user_access.coordinated_school_ids, status=ClaimStatus.APPROVED
        ).count()
    if Role.SOCIAL_PEDAGOGUE in roles:
        context["claims_to_decide"] = CompensationClaim.objects.filter(
            school_id__in=user_access.school_ids(Role.SOCIAL_PEDAGOGUE),
            status=ClaimStatus.SUBMITTED,
        ).count()
    if user_access.has_role(Role.CLASS_TEACHER, Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR):
        context["decisions"] = recent_decisions(request.user)

    staff_school_ids = user_access.school_ids(*access.STAFF_ROLES)
    if staff_school_ids:
        context["staff_schools"] = (
            School.objects.filter(pk__in=staff_school_ids)
            .annotate(
                active_pupils=Count(
                    "students", filter=Q(students__status=Student.Status.ACTIVE), distinct=True
                ),
            )
            .order_by("name")
        )
        context["class_count"] = ClassGroup.objects.filter(
            school_id__in=staff_school_ids, school_year=year
        ).count()

    if user_access.has_role(Role.MUNICIPALITY, Role.AGENCY):
        if Role.AGENCY in roles:
            schools = School.objects.all()
        else:
            municipality_ids = {
                m.municipality_id for m in user_access.memberships if m.role == Role.MUNICIPALITY
            }
            schools = School.objects.filter(municipality_id__in=municipality_ids)
        context["aggregate_schools"] = (
            schools.select_related("municipality")
            .annotate(
                active_pupils=Count("students", filter=Q(students__status=Student.Status.ACTIVE))
            )
            .order_by("municipality__name", "name")
        )
    return render(request, "home.html", context)


def server_error(request):
    """A database that cannot be reached is a friendly 503 ("try again"), not a 500.

    Nothing is lost: what could not be saved was not saved, and the browser keeps the form."""
    import sys

    from django.db import InterfaceError, OperationalError
    from django.views.defaults import server_error as default_server_error

    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return unavailable_response()
    return default_server_error(request)


@login_required
def audit_log(request):
    """The school's audit log, for its coordinators (read-only; nobody can edit it)."""
    from .models import AuditEvent
    from .pagination import paginate

    access.require_roles(request.user, Role.COORDINATOR)
    schools = access.get_access(request.user).coordinated_school_ids
    members = Membership.objects.filter(school_id__in=schools).values("user_id")
    events = AuditEvent.objects.filter(
        Q(school_id__in=schools)
        | Q(school__isnull=True, user_id__in=members)
        | Q(action=AuditEvent.Action.LOGIN_FAILED, username__in=members.values("user__username"))
    ).select_related("user", "school")
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    return render(
        request,
        "audit_log.html",
        {"page": paginate(request, events), "actions": AuditEvent.Action.choices, "action": action},
    )


@login_required
@require_http_methods(["GET", "POST"])
def logout_everywhere(request):
    """End every session of this user, on every device (after a lost phone, say)."""
    from django.contrib import messages
    from django.contrib.auth import logout
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from .sessions import end_all_sessions

    if request.method == "POST":
        user = request.user
        logout(request)
        end_all_sessions(user)
        messages.success(request, _("You were logged out on every device."))
        return redirect("login")
    return render(request, "registration/logout_everywhere.html")


def unavailable_response():
    from pathlib import Path

    from django.conf import settings
    from django.http import HttpResponse

    page = Path(settings.BASE_DIR, "templates", "503.html").read_text(encoding="utf-8")
    response = HttpResponse(page, status=503)
    response["Retry-After"] = "30"
    return response

"""The school's audit log, and a pupil's data archive (a data-subject request)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from iap_portal import audit
from iap_portal.forms import parse_id
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from iap_portal.users import display_name
from students.access import get_access, get_student_or_404, require_roles
from students.models import Membership, Role, Student

from .subject_export import pupil_archive


@login_required
def audit_log(request):
    """The school's audit log, for its coordinators (read-only; nobody can edit it)."""
    require_roles(request.user, Role.COORDINATOR)
    schools = get_access(request.user).coordinated_school_ids
    # Events that name no school (sign-ins, two-factor changes) show for the school's people
    # from the time they were members of it: nothing of what they did before they joined, or
    # of their work elsewhere.
    member_then = Membership.objects.filter(
        school_id__in=schools, user_id=OuterRef("user_id"), created_at__lte=OuterRef("at")
    )
    named_then = Membership.objects.filter(
        school_id__in=schools,
        user__username=OuterRef("username"),
        created_at__lte=OuterRef("at"),
    )
    events = AuditEvent.objects.filter(
        Q(school_id__in=schools)
        | Q(school__isnull=True, user__isnull=False) & Exists(member_then)
        | Q(action=AuditEvent.Action.LOGIN_FAILED, school__isnull=True) & Exists(named_then)
    ).select_related("user", "school")
    action = request.GET.get("action", "")
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    # "Who looked at this pupil": the pupil's events in these schools (from the pupil's page).
    student = None
    student_id = parse_id(request.GET.get("student"))
    if student_id:
        student = Student.objects.filter(pk=student_id, school_id__in=schools).first()
        events = events.filter(student=student) if student else events.none()
    return render(
        request,
        "audit_log.html",
        {
            "page": paginate(request, events.select_related("student")),
            "actions": AuditEvent.Action.choices,
            "action": action,
            "student": student,
        },
    )


@login_required
@require_http_methods(["GET"])
def student_data_export(request, public_id):
    """Everything held about the pupil, as one ZIP (a data-subject request); coordinators."""
    student = get_student_or_404(request.user, public_id=public_id, for_edit=True)
    audit.record(
        request,
        AuditEvent.Action.EXPORT,
        school=student.school,
        obj=student,
        detail="pupil archive",
        student=student,
    )
    content = pupil_archive(student, generated_by=display_name(request.user))
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="izglitojamais-{student.pk}.zip"'
    return response

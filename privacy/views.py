"""The school's audit log, and a pupil's data archive (a data-subject request)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from iap_portal import audit
from iap_portal.exports import export_response
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from iap_portal.users import display_name
from students.access import get_student_or_404, require_roles
from students.models import Role

from .audit_log import audit_query, describe, summarised_months
from .subject_export import pupil_archive


@login_required
def audit_log(request):
    """The school's audit log, for its coordinators (read-only; nobody can edit it): filtered
    by person, pupil, action and dates, 50 events a page, and the export of what the filters
    show (``?format=csv``)."""
    require_roles(request.user, Role.COORDINATOR)
    query = audit_query(request.user, request.GET)
    if query.form.is_valid() or not query.form.is_bound:
        export = export_response(request, "audit")
        if export:
            return export
    page = paginate(request, query.events, per_page=settings.IAP_AUDIT_PAGE_SIZE)
    page.object_list = describe(request.user, page.object_list)
    # The page shows pupils' names: it is itself a list of pupils in the log.
    pupils = [p.pk for e in page.object_list for p in [e.student, *e.students.all()] if p]
    audit.record_list(request, "audit log", pupils, schools=query.school_ids)
    return render(
        request,
        "audit_log.html",
        {
            "page": page,
            "form": query.form,
            "student": query.student,
            "summary": summarised_months(query),
            "is_filtered": query.form.is_bound,
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
    # Named in the user's language and by the day, not by an internal number; the pupil's
    # name stays out of it (a file name travels in mail clients and download lists).
    name = f"{pgettext('file name', 'pupil-data')}-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

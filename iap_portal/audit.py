"""Recording to the audit log (sign-ins, views and exports of personal data, downloads,
status changes). Writes happen in the caller's transaction."""

from . import clientip
from .models import AuditEvent


def client_ip(request):
    if request is None:
        return None
    return clientip.client_ip(request)


def record(
    request, action, *, school=None, obj=None, detail="", user=None, student=None, students=()
):
    """One event; ``student`` names whose data the page, file or export showed, ``students``
    the pupils a list showed (their ids)."""
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        school_id=getattr(school, "pk", school),
        student_id=getattr(student, "pk", student),
        students=list(students),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=str(detail)[:300],
        ip=client_ip(request),
    )


def record_view(request, action, **fields):
    """A page that shows one pupil's data: recorded on GET only (a POST's own effect is
    logged by the service: a status change, a saved form)."""
    if request.method == "GET":
        return record(request, action, **fields)
    return None


def record_list(request, what, student_ids, *, schools=()):
    """A list that showed pupils: one row naming them all (their ids), with the school when
    they are all of one. Nothing when the list showed nobody."""
    ids = sorted(set(student_ids))
    if not ids:
        return None
    schools = set(schools)
    return record(
        request,
        AuditEvent.Action.VIEW_LIST,
        school=schools.pop() if len(schools) == 1 else None,
        students=ids,
        detail=f"{what}: {len(ids)}",
    )


def record_failed_sign_in(request, username):
    return AuditEvent.objects.create(
        username=str(username)[:150], action=AuditEvent.Action.LOGIN_FAILED, ip=client_ip(request)
    )


def record_status(subject, *, from_status, to_status, by, note=""):
    """A plan's or claim's status change (the services call it in their transaction); ``note``
    marks it (e.g. a self-approval)."""
    return AuditEvent.objects.create(
        user=by,
        username=by.get_username() if by else "",
        action=AuditEvent.Action.STATUS,
        school_id=subject.school_id,
        object_type=subject._meta.label,
        object_id=str(subject.pk),
        detail=f"{subject}: {from_status} → {to_status}" + (f" ({note})" if note else ""),
    )

"""Recording to the audit log (sign-ins, views and exports of personal data, downloads,
status changes). Writes happen in the caller's transaction.

The log is append-only (``AuditEvent``, and on PostgreSQL a trigger). Two changes are let
through, each only here and only for what it needs: forgetting pupils (``forget_students``:
their events lose the pupil and the details, the counts by action stay) and deleting the
events of a month that ``manage.py summarise_audit`` has folded into counts
(``delete_summarised``).
"""

import functools
import operator
from contextlib import contextmanager
from urllib.parse import quote_plus

from django.db import connection, models, transaction

from . import clientip
from .models import AuditEvent, AuditEventStudent
from .registry import Registry

# Model label -> function(pupil ids) -> the primary keys of those pupils' objects of that model.
# The apps whose objects belong to a pupil (plans, claims, receipts) register here, so that
# forgetting a pupil also finds the events that name only the object (a status change).
PUPIL_OBJECTS = Registry("pupil objects")
TERMS_AT_ONCE = 200


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
    # One INSERT: a list's pupils ride along in ``listed_ids``, which the database moves into
    # AuditEventStudent (migration 0013's trigger, on PostgreSQL and SQLite alike).
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        school_id=getattr(school, "pk", school),
        student_id=getattr(student, "pk", student),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=str(detail)[:300],
        ip=client_ip(request),
        listed_ids=[int(pk) for pk in students] or None,
    )


def record_view(request, action, **fields):
    """A page that shows one pupil's data. A GET is recorded at once. Any other request is
    recorded only if its answer shows the page again (a form with an error, drawn with the
    pupil's data): ``PendingAuditMiddleware`` writes it then; a redirect after a saved change
    is logged by the service that changed it (a status change, a saved form)."""
    if request.method == "GET":
        return record(request, action, **fields)
    if not hasattr(request, "audit_pending"):
        request.audit_pending = []
    request.audit_pending.append((action, fields))
    return None


def record_pending(request, response):
    """The views ``record_view`` held back, once the answer is known to show them."""
    pending = getattr(request, "audit_pending", ())
    if pending and response.status_code == 200 and "html" in response.get("Content-Type", ""):
        for action, fields in pending:
            record(request, action, **fields)


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


# --- The two changes the append-only guard lets through ----------------------------------------


@contextmanager
def _permitted(kind):
    """A transaction in which the database's guard lets through one ``kind`` of change,
    'forget' or 'summarise' (PostgreSQL: a transaction-local setting the trigger reads;
    elsewhere the application's own guard, which only this module passes)."""
    with transaction.atomic():
        _set_permitted(kind)
        yield
        _set_permitted("")


def _set_permitted(kind):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('iap.audit_maintenance', %s, true)", [kind])


def _search_terms(names):
    """How a pupil's name may stand in an export's details (its query string: a search)."""
    terms = set()
    for name in names:
        for part in str(name).replace("-", " ").split():
            if len(part) >= 3:
                terms.update({part, quote_plus(part)})
    return sorted(terms)


def forget_students(student_ids):
    """Remove these pupils from the log, keeping its counts by action: the events lose the
    pupil and their details (which may hold the pupil's name, a plan's or claim's code, a
    search for the pupil in an export's query string), and the lists no longer name them.
    Returns how many events lost them (as the pupil or as one of a list's pupils)."""
    ids = sorted({int(pk) for pk in student_ids})
    if not ids:
        return 0
    # The pupil model, without importing its app (a higher layer).
    student_model = AuditEvent._meta.get_field("student").related_model
    own = models.Q(student_id__in=ids) | models.Q(
        object_type=student_model._meta.label, object_id__in=[str(pk) for pk in ids]
    )
    for label, objects_of in PUPIL_OBJECTS.items():
        pks = [str(pk) for pk in objects_of(ids)]
        if pks:
            own |= models.Q(object_type=label, object_id__in=pks)
    names = student_model.objects.filter(pk__in=ids).values_list("first_name", "last_name")
    terms = _search_terms(name for pair in names for name in pair)
    # The append-only queryset refuses update() and delete(); the plain QuerySet's are the one
    # way past it, used here and in delete_summarised only.
    update = models.QuerySet.update
    with _permitted("forget"):
        changed = update(AuditEvent.objects.filter(own), student=None, detail="")
        # Some hundred names at a time: SQLite parses a chain of ORs as one deep expression
        # (at most 1,000 levels).
        for start in range(0, len(terms), TERMS_AT_ONCE):
            searched = functools.reduce(
                operator.or_,
                (models.Q(detail__icontains=t) for t in terms[start : start + TERMS_AT_ONCE]),
            )
            # An export of another pupil (their archive) keeps its pupil, loses the details.
            exports = AuditEvent.objects.filter(searched, action=AuditEvent.Action.EXPORT)
            changed += update(exports, detail="")
        listed = AuditEventStudent.objects.filter(student_id__in=ids)
        # The ORM's own fast delete (what a cascade uses): one DELETE, no rows loaded.
        changed += listed._raw_delete(listed.db)
    return changed


def delete_summarised(period):
    """Delete the events of a summarised month (an ``AuditSummaryPeriod``, saved in this
    transaction) and the lists' pupils of those events. Returns how many events went."""
    events = AuditEvent.objects.filter(at__gte=period.since, at__lt=period.until)
    with _permitted("summarise"):
        listed = AuditEventStudent.objects.filter(event__in=events)
        listed._raw_delete(listed.db)
        return events._raw_delete(events.db)


def forget_deleted_pupil(sender, instance, **kwargs):
    """A pupil deleted (pre_delete): the log forgets them first, as anonymising does, so that
    the deletion's own unlinking has nothing left to change in the append-only log."""
    forget_students([instance.pk])

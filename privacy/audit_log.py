"""The coordinator's audit log: which events they may read, the filters, and the names of the
pupils and objects the rows point to (looked up per page in bulk, one query per kind)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from compensations.access import visible_claims
from compensations.models import CompensationClaim, Receipt
from iap_portal.forms import parse_id
from iap_portal.models import AuditEvent, AuditSummary, AuditSummaryPeriod
from iap_portal.users import display_name
from iap_portal.wording import audit_detail
from plans.access import visible_plans
from plans.models import SupportPlan
from reports.models import ExportJob, PlanBundle
from students.access import get_access, visible_students
from students.models import Membership, Student
from students.search import search_students

from .forms import AuditFilterForm


@dataclass
class AuditQuery:
    form: AuditFilterForm
    events: object  # the queryset the filters show (none while they are invalid)
    student: object  # the pupil of "who looked at this pupil" (?student=), or None
    school_ids: set


def school_events(school_ids):
    """The events of these schools' logs."""
    # Events that name no school (sign-ins, two-factor changes) show for the school's people
    # from the time they were members of it: nothing of what they did before they joined, or
    # of their work elsewhere.
    member_then = Membership.objects.filter(
        school_id__in=school_ids, user_id=OuterRef("user_id"), created_at__lte=OuterRef("at")
    )
    named_then = Membership.objects.filter(
        school_id__in=school_ids,
        user__username=OuterRef("username"),
        created_at__lte=OuterRef("at"),
    )
    return AuditEvent.objects.filter(
        Q(school_id__in=school_ids)
        | Q(school__isnull=True, user__isnull=False) & Exists(member_then)
        | Q(action=AuditEvent.Action.LOGIN_FAILED, school__isnull=True) & Exists(named_then)
    )


def start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_query(user, params) -> AuditQuery:
    """The events of the user's coordinated schools that the request's filters show."""
    school_ids = get_access(user).coordinated_school_ids
    form = AuditFilterForm(params or None, school_ids=school_ids)
    events = school_events(school_ids)
    # "Who looked at this pupil" (from the pupil's page): a pupil of these schools; a tampered
    # or foreign id finds nothing.
    student = None
    student_id = parse_id(params.get("student"))
    if student_id:
        student = Student.objects.filter(pk=student_id, school_id__in=school_ids).first()
        events = events.naming(student) if student else events.none()
    if form.is_bound and not form.is_valid():
        events = events.none()
    elif form.is_bound:
        data = form.cleaned_data
        if data["user"]:
            person = data["user"]
            events = events.filter(
                Q(user=person) | Q(user__isnull=True, username=person.get_username())
            )
        if data["pupil"]:
            matches = search_students(
                Student.objects.filter(school_id__in=school_ids), data["pupil"]
            )
            # The ids, not a subquery: PostgreSQL then hashes them against the lists' rows.
            events = events.naming_any(list(matches.values_list("pk", flat=True)))
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["date_from"]:
            events = events.filter(at__gte=start_of(data["date_from"]))
        if data["date_to"]:
            events = events.filter(at__lt=start_of(data["date_to"] + timedelta(days=1)))
    events = events.select_related("user", "student").prefetch_related(
        Prefetch(
            "students",
            queryset=Student.objects.only("pk", "first_name", "last_name", "school_id").order_by(
                "last_name", "first_name", "pk"
            ),
        )
    )
    return AuditQuery(form=form, events=events, student=student, school_ids=school_ids)


# --- What a row names -------------------------------------------------------------------------


@dataclass
class Named:
    label: str
    url: str = ""


def pupil_names(user, events):
    """Each pupil the events name (as the pupil or in a list) -> Named, linked to the pupil's
    page where the user may open it (one query)."""
    pupils = {}
    for event in events:
        if event.student is not None:
            pupils[event.student_id] = event.student
        for pupil in event.students.all():
            pupils[pupil.pk] = pupil
    may_open = set(
        visible_students(user).filter(pk__in=pupils).order_by().values_list("pk", flat=True)
    )
    return {
        pk: Named(
            pupil.full_name,
            reverse("student_detail", args=[pk]) if pk in may_open else "",
        )
        for pk, pupil in pupils.items()
    }


def _ids(events, label):
    return {parse_id(e.object_id) for e in events if e.object_type == label} - {None}


def object_names(user, events):
    """(object type, object id) -> Named: a plan's or claim's code, a receipt's claim, a pupil,
    a file, a person; linked where the user may open it. At most one query per kind of object
    on the page."""
    names = {}

    def add(label, pk, text, url=""):
        names[(label, str(pk))] = Named(text, url)

    ids = _ids(events, SupportPlan._meta.label)
    if ids:
        for pk, code in visible_plans(user).filter(pk__in=ids).order_by().values_list("pk", "code"):
            add(
                SupportPlan._meta.label,
                pk,
                _("plan %(code)s") % {"code": code},
                reverse("plan_detail", args=[pk]),
            )
    ids = _ids(events, CompensationClaim._meta.label)
    if ids:
        for pk, code in (
            visible_claims(user).filter(pk__in=ids).order_by().values_list("pk", "code")
        ):
            add(
                CompensationClaim._meta.label,
                pk,
                _("claim %(code)s") % {"code": code},
                reverse("claim_detail", args=[pk]),
            )
    ids = _ids(events, Receipt._meta.label)
    if ids:
        receipts = Receipt.objects.filter(pk__in=ids, claim__in=visible_claims(user))
        for pk, claim, code in receipts.order_by().values_list("pk", "claim_id", "claim__code"):
            add(
                Receipt._meta.label,
                pk,
                _("receipt of claim %(code)s") % {"code": code},
                reverse("claim_detail", args=[claim]),
            )
    ids = _ids(events, Student._meta.label)
    if ids:
        for pk, first, last in (
            visible_students(user)
            .filter(pk__in=ids)
            .order_by()
            .values_list("pk", "first_name", "last_name")
        ):
            add(Student._meta.label, pk, f"{first} {last}", reverse("student_detail", args=[pk]))
    ids = _ids(events, PlanBundle._meta.label)
    if ids:
        coordinated = get_access(user).coordinated_school_ids
        bundles = PlanBundle.objects.filter(pk__in=ids, school_id__in=coordinated)
        for pk, public_id in bundles.values_list("pk", "public_id"):
            add(
                PlanBundle._meta.label,
                pk,
                _("plan bundle"),
                reverse("bundle_detail", args=[public_id]),
            )
    ids = _ids(events, ExportJob._meta.label)
    if ids:
        for pk, public_id, requester in ExportJob.objects.filter(pk__in=ids).values_list(
            "pk", "public_id", "requested_by_id"
        ):
            url = reverse("export_detail", args=[public_id]) if requester == user.pk else ""
            add(ExportJob._meta.label, pk, _("export"), url)
    return names


KIND_NAMES = {
    SupportPlan._meta.label: lambda: _("plan"),
    CompensationClaim._meta.label: lambda: _("claim"),
    Receipt._meta.label: lambda: _("receipt"),
    Student._meta.label: lambda: _("pupil"),
    PlanBundle._meta.label: lambda: _("plan bundle"),
    ExportJob._meta.label: lambda: _("export"),
}


def describe(user, events):
    """The page's events with what each names: ``event.pupils`` (Named, one or a list's) and
    ``event.named`` (the object, or None)."""
    events = list(events)
    pupils = pupil_names(user, events)
    objects = object_names(user, events)
    for event in events:
        listed = [pupils[p.pk] for p in event.students.all()]
        event.pupils = [pupils[event.student_id]] if event.student_id else listed
        event.is_list = bool(listed) and not event.student_id
        event.named = None
        event.detail_text = audit_detail(event)
        if event.object_type:
            event.named = objects.get((event.object_type, event.object_id)) or Named(
                _object_fallback(event)
            )
    return events


def _object_fallback(event):
    """An object the user may not open, or one deleted since: its kind and number only."""
    kind = KIND_NAMES.get(event.object_type)
    return f"{kind() if kind else event.object_type} #{event.object_id}"


def who(event):
    if event.user is not None:
        return display_name(event.user)
    return event.username or "—"


# --- Summarised months ------------------------------------------------------------------------


def summarised_months(query: AuditQuery):
    """The counts of the months already summarised (their events deleted), as far as the
    filters apply to counts (action and dates), or None when nothing is summarised or the
    dates ask for later months only."""
    until = AuditSummaryPeriod.objects.aggregate(until=Max("until"))["until"]
    form = query.form
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if until is None or (data.get("date_from") and start_of(data["date_from"]) >= until):
        return None
    rows = AuditSummary.objects.filter(school_id__in=query.school_ids)
    if data.get("action"):
        rows = rows.filter(action=data["action"])
    if data.get("date_from"):
        rows = rows.filter(month__gte=data["date_from"].replace(day=1))
    if data.get("date_to"):
        rows = rows.filter(month__lte=data["date_to"])
    labels = dict(AuditEvent.Action.choices)
    return {
        "until": until,
        "by_person": bool(data.get("user") or data.get("pupil") or query.student),
        "rows": [
            {
                "month": row["month"],
                "action": labels.get(row["action"], row["action"]),
                "count": row["total"],
            }
            for row in rows.values("month", "action")
            .annotate(total=Sum("count"))
            .order_by("-month", "action")
        ],
    }

"""The audit log's own retention: events older than ``IAP_AUDIT_RETENTION_DAYS`` are folded
into counts per month × school × action (``AuditSummary``), then deleted
(``manage.py summarise_audit``, from cron).

Whole months only: the cutoff is the start of the month in which the oldest day still to be
kept falls, so a month is either all events or all counts, and an event stays at most a month
beyond the period. Each month is one transaction that first takes the month's
``AuditSummaryPeriod`` row (locked on PostgreSQL; SQLite's IMMEDIATE transactions queue), then
counts, adds the counts and deletes what it counted: a second run, on this machine or another,
finds the month's events gone and adds nothing.

An event that names no school (a sign-in, a two-factor change) is counted for each school its
person was a member of at the time, as the audit page shows it; what no school's page shows is
counted without a school.
"""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from iap_portal import audit
from iap_portal.models import AuditEvent, AuditSummary, AuditSummaryPeriod
from students.models import Membership


def month_start(day: date):
    return timezone.make_aware(datetime(day.year, day.month, 1))


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def summary_cutoff(now=None):
    """Events before this moment are summarised: the start of the month in which the
    retention period's oldest kept day falls."""
    now = timezone.localtime(now or timezone.now())
    return month_start((now - timedelta(days=settings.IAP_AUDIT_RETENTION_DAYS)).date())


def months_due(now=None) -> list[date]:
    return list(AuditEvent.objects.filter(at__lt=summary_cutoff(now)).dates("at", "month"))


def school_counts(events) -> Counter:
    """(school id or None, action) -> number of events, as each school's audit page shows
    them (privacy.audit_log.school_events)."""
    counts = Counter()
    grouped = events.filter(school__isnull=False).values_list("school_id", "action")
    for school, action, n in grouped.annotate(n=Count("pk")).order_by():
        counts[(school, action)] += n
    # A person's events without a school: in each school they were a member of then.
    of_members = events.filter(
        school__isnull=True,
        user__isnull=False,
        user__memberships__school__isnull=False,
        user__memberships__created_at__lte=F("at"),
    ).values_list("user__memberships__school_id", "action")
    for school, action, n in of_members.annotate(n=Count("pk", distinct=True)).order_by():
        counts[(school, action)] += n
    member_then = Membership.objects.filter(
        user_id=OuterRef("user_id"), school__isnull=False, created_at__lte=OuterRef("at")
    )
    unshown = events.filter(
        Q(school__isnull=True, user__isnull=False) & ~Exists(member_then)
        | Q(school__isnull=True, user__isnull=True) & ~Q(action=AuditEvent.Action.LOGIN_FAILED)
    ).values_list("action")
    for action, n in unshown.annotate(n=Count("pk")).order_by():
        counts[(None, action)] += n
    # Failed sign-ins name the person only by the username typed.
    failed = list(
        events.filter(
            school__isnull=True, user__isnull=True, action=AuditEvent.Action.LOGIN_FAILED
        ).values_list("username", "at")
    )
    joined = defaultdict(list)
    for name, school, created in Membership.objects.filter(
        user__username__in={name for name, _at in failed}, school__isnull=False
    ).values_list("user__username", "school_id", "created_at"):
        joined[name].append((school, created))
    for name, at in failed:
        schools = {school for school, created in joined[name] if created <= at}
        for school in schools or {None}:
            counts[(school, AuditEvent.Action.LOGIN_FAILED)] += 1
    return counts


def summarise_month(month: date, *, now=None) -> int:
    """Fold one month's events into counts and delete them; returns how many went."""
    since, until = month_start(month), month_start(next_month(month))
    if until > summary_cutoff(now):
        raise ValueError(f"{month:%Y-%m} is still within the audit log's retention period.")
    with transaction.atomic():
        period, _created = AuditSummaryPeriod.objects.select_for_update().get_or_create(
            month=month, defaults={"since": since, "until": until}
        )
        counts = school_counts(AuditEvent.objects.filter(at__gte=since, at__lt=until))
        rows = {(r.school_id, r.action): r for r in AuditSummary.objects.filter(month=month)}
        new, added = [], []
        for (school, action), n in counts.items():
            row = rows.get((school, action))
            if row is None:
                new.append(AuditSummary(month=month, school_id=school, action=action, count=n))
            else:
                row.count += n
                added.append(row)
        AuditSummary.objects.bulk_create(new)
        AuditSummary.objects.bulk_update(added, ["count"])
        deleted = audit.delete_summarised(period)
        period.events += deleted
        period.summarised_at = timezone.now()
        period.save(update_fields=["events", "summarised_at"])
    return deleted


def summarise_audit(*, now=None) -> list[tuple[date, int]]:
    """Summarise every month past the retention period; [(month, events deleted)]."""
    return [(month, summarise_month(month, now=now)) for month in months_due(now)]

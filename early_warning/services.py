"""Writes of the early-warning app: imports, thresholds, recomputing levels; the signals a
plan starts from (the plans app pre-fills risks from them: plans.early_signals)."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from students.models import Semester

from . import indicators, notices
from .models import (
    Attendance,
    ConductNotes,
    Grade,
    ImportKind,
    ImportRecord,
    Indicator,
    Period,
    Thresholds,
)

FACT_MODELS = {
    ImportKind.ABSENCES: Attendance,
    ImportKind.GRADES: Grade,
    ImportKind.CONDUCT: ConductNotes,
}


def compute_period(period, thresholds):
    """Recompute every pupil's indicator in one period (a fixed number of queries)."""
    facts = {}

    def of(student_id):
        return facts.setdefault(student_id, indicators.Facts(months=period.months))

    for row in Attendance.objects.filter(period=period).values(
        "student_id", "lessons_held", "excused", "unexcused"
    ):
        f = of(row["student_id"])
        f.lessons_held, f.excused, f.unexcused = (
            row["lessons_held"],
            row["excused"],
            row["unexcused"],
        )
    for student_id, subject, value in Grade.objects.filter(period=period).values_list(
        "student_id", "subject", "value"
    ):
        f = of(student_id)
        if f.grades is None:
            f.grades = {}
        f.grades[subject] = value
    for student_id, notes in ConductNotes.objects.filter(period=period).values_list(
        "student_id", "notes"
    ):
        of(student_id).conduct_notes = notes

    previous = period.previous()
    before = {}
    if previous is not None:
        before = {
            row["student_id"]: row
            for row in Indicator.objects.filter(period=previous).values(
                "student_id", "level", "average"
            )
        }
    now = timezone.now()
    rows = []
    for student_id, f in facts.items():
        earlier = before.get(student_id)
        f.previous_average = earlier["average"] if earlier else None
        result = indicators.evaluate(f, thresholds)
        rows.append(
            Indicator(
                period=period,
                student_id=student_id,
                level=result.level,
                previous_level=earlier["level"] if earlier else None,
                triggers=result.triggers,
                attendance_rate=result.attendance_rate,
                average=result.average,
                computed_at=now,
            )
        )
    Indicator.objects.filter(period=period).delete()
    Indicator.objects.bulk_create(rows)
    return len(rows)


def recompute_school(school, *, since=None):
    """Recompute the school's periods in date order (each uses the one before), from ``since``."""
    thresholds = Thresholds.for_school(school)
    periods = Period.objects.filter(school=school).order_by("end_date", "pk")
    if since is not None:
        periods = periods.filter(end_date__gte=since.start_date)
    for period in periods:
        compute_period(period, thresholds)


@transaction.atomic
def import_facts(*, check, school, period_dates, semester, file_name, by) -> ImportRecord:
    """Save a fully valid check for the period; the file replaces that kind of data for the
    period (an e-journal export lists every pupil). All or nothing."""
    if not check.is_valid:
        raise ValueError("Only a valid import can be saved.")
    start, end = period_dates
    period, _created = Period.objects.get_or_create(
        school=school, start_date=start, end_date=end, defaults={"semester": semester}
    )
    record = ImportRecord.objects.create(
        school=school,
        period=period,
        kind=check.kind,
        file_name=file_name[:255],
        row_count=len(check.rows),
        imported_by=by,
    )
    model = FACT_MODELS[check.kind]
    model.objects.filter(period=period).delete()
    if check.kind == ImportKind.GRADES:
        facts = [
            Grade(period=period, student_id=row.student_id, subject=s, value=v, source=record)
            for row in check.rows
            for s, v in row.data["grades"].items()
        ]
    elif check.kind == ImportKind.ABSENCES:
        facts = [
            Attendance(period=period, student_id=row.student_id, source=record, **row.data)
            for row in check.rows
        ]
    else:
        facts = [
            ConductNotes(period=period, student_id=row.student_id, source=record, **row.data)
            for row in check.rows
        ]
    before = notices.flagged_ids(period)
    model.objects.bulk_create(facts)
    recompute_school(school, since=period)
    notices.newly_flagged(period=period, before=before, record=record, by=by)
    return record


@transaction.atomic
def save_thresholds(*, thresholds: Thresholds, by: AbstractBaseUser) -> Thresholds:
    """Save the school's thresholds (changed, not yet saved) and recompute its levels with
    them."""
    thresholds.updated_by = by
    thresholds.save()
    recompute_school(thresholds.school)
    return thresholds


def signals_around_plan(plan):
    """The pupil's indicators before the plan (the latest period over by the plan's first
    approval, or its creation) and at its end (the latest period of the plan's semester)."""
    started = plan.first_approved_at or plan.created_at
    found = list(
        Indicator.objects.filter(
            student_id=plan.student_id, period__end_date__lte=plan.semester.end_date
        )
        .select_related("period")
        .order_by("-period__end_date", "-period__pk")[:24]
    )
    day = timezone.localtime(started).date()
    # The latest period over by the plan's start; else the one it started in.
    before = next((i for i in found if i.period.end_date <= day), None) or next(
        (i for i in found if i.period.start_date <= day), None
    )
    end = next((i for i in found if i.period.semester_id == plan.semester_id), None)
    if end is not None and before is not None and end.pk == before.pk:
        end = None
    return before, end


def signals_for_plan(student, semester):
    """The pupil's latest indicator that a plan of this semester can start from: the latest
    period of this semester or the one before (so a plan for next semester sees this one's
    data, and older data suggests nothing)."""
    earlier = (
        Semester.objects.filter(end_date__lt=semester.start_date).order_by("-end_date").first()
    )
    since = earlier.start_date if earlier else semester.start_date
    return (
        Indicator.objects.filter(
            student=student,
            period__end_date__lte=semester.end_date,
            period__start_date__gte=since,
        )
        .select_related("period")
        .order_by("-period__end_date", "-period__pk")
        .first()
    )

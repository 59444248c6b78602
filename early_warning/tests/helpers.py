from django.utils import timezone

from students.models import Semester

from ..models import Attendance, ConductNotes, Grade, ImportRecord, Period
from ..services import recompute_school


def current_semester():
    return Semester.objects.current()


def earlier_semester():
    current = current_semester()
    return Semester.objects.filter(end_date__lt=current.start_date).order_by("-end_date").first()


def make_period(school, semester=None, *, start=None, end=None):
    semester = semester or current_semester()
    start = start or semester.start_date
    end = end or max(start, min(semester.end_date, timezone.localdate()))
    return Period.objects.get_or_create(
        school=school, start_date=start, end_date=end, defaults={"semester": semester}
    )[0]


def give(student, period, *, by, held=None, excused=0, unexcused=0, grades=None, notes=None):
    """Store e-journal facts for a pupil and recompute the school's levels."""
    record = ImportRecord.objects.create(
        school=period.school,
        period=period,
        kind="absences",
        file_name="t.csv",
        row_count=1,
        imported_by=by,
    )
    if held is not None:
        Attendance.objects.update_or_create(
            period=period,
            student=student,
            defaults={
                "lessons_held": held,
                "excused": excused,
                "unexcused": unexcused,
                "source": record,
            },
        )
    for subject, value in (grades or {}).items():
        Grade.objects.update_or_create(
            period=period,
            student=student,
            subject=subject,
            defaults={"value": value, "source": record},
        )
    if notes is not None:
        ConductNotes.objects.update_or_create(
            period=period, student=student, defaults={"notes": notes, "source": record}
        )
    recompute_school(period.school)
    return student.ew_indicators.get(period=period)

"""Demo e-journal data for the demo school (called by ``load_demo``).

Two monthly periods (the latest month and the one before) of absences, grades and conduct
notes for this year's pupils, imported through the real importer so that the levels, the
class teacher's call to action and the coordinator's overview have something to show. The
numbers come from a seeded generator; a school that already has imports is left alone.
"""

import random
from datetime import timedelta

from early_warning.importer import check_rows
from early_warning.models import ImportKind, ImportRecord
from early_warning.services import import_facts
from students.models import Enrollment, Semester

SUBJECTS = ["Matemātika", "Latviešu valoda", "Angļu valoda", "Vēsture", "Dabaszinības"]


def demo_periods(today):
    """[(semester, start, end)] for the month before and the latest month (in a semester)."""
    semesters = list(
        Semester.objects.filter(start_date__lte=today)
        .select_related("school_year")
        .order_by("-start_date")[:2]
    )
    if not semesters:
        return []
    current = semesters[0]
    end = min(today, current.end_date)
    start = max(current.start_date, end - timedelta(days=29))
    periods = [(current, start, end)]
    before_end = start - timedelta(days=1)
    if before_end - timedelta(days=29) >= current.start_date:
        periods.insert(0, (current, before_end - timedelta(days=29), before_end))
    elif len(semesters) > 1:
        earlier = semesters[1]
        periods.insert(0, (earlier, earlier.end_date - timedelta(days=29), earlier.end_date))
    return periods


def _identity(enrollment):
    student = enrollment.student
    if student.personas_kods:
        return {"personas_kods": student.personas_kods}
    return {
        "first_name": student.first_name,
        "last_name": student.last_name,
        "class": enrollment.class_group.label,
    }


def _rows(enrollments, profiles, kind, *, earlier):
    rows = []
    for number, enrollment in enumerate(enrollments, start=2):
        profile = profiles[enrollment.student_id]
        rng = random.Random(f"{enrollment.student_id}-{kind}-{earlier}")  # noqa: S311 demo data
        values = _identity(enrollment)
        if kind == ImportKind.ABSENCES:
            held = 110
            excused = rng.randrange(0, 5)
            unexcused = rng.randrange(0, 2)
            if profile == "absent" and not earlier:
                excused, unexcused = 9, 14
            elif profile == "absent":
                excused, unexcused = 6, 4
            values.update(lessons_held=str(held), excused=str(excused), unexcused=str(unexcused))
        elif kind == ImportKind.GRADES:
            for subject in SUBJECTS:
                grade = str(rng.randrange(5, 10))
                if profile == "failing" and subject in SUBJECTS[:2]:
                    grade = "3" if not earlier else "5"
                if profile == "failing" and subject == SUBJECTS[2] and not earlier:
                    grade = "nv"
                if profile == "falling":
                    grade = str(7 if earlier else 5)
                values[f"subject:{subject}"] = grade
        else:
            notes = rng.randrange(0, 2)
            if profile == "conduct":
                notes = 5
            values["notes"] = str(notes)
        rows.append((number, values))
    return rows


def create_demo_signals(*, school, users, today):
    if ImportRecord.objects.filter(school=school).exists():
        return
    periods = demo_periods(today)
    if not periods:
        return
    rng = random.Random(2026)  # noqa: S311 demo data
    for index, (semester, start, end) in enumerate(periods):
        enrollments = list(
            Enrollment.objects.filter(
                class_group__school=school,
                school_year=semester.school_year,
                student__status="active",
            )
            .select_related("student", "class_group")
            .order_by("class_group__grade", "class_group__letter", "student__last_name", "pk")
        )
        if index == 0:
            profiles = {}
            by_class = {}
            for enrollment in enrollments:
                by_class.setdefault(enrollment.class_group_id, []).append(enrollment.student_id)
            for pupils in by_class.values():
                picked = rng.sample(pupils, min(4, len(pupils)))
                kinds = ["absent", "failing", "falling", "conduct"]
                for student_id, profile in zip(picked, kinds, strict=False):
                    profiles[student_id] = profile
        profiles_all = {e.student_id: profiles.get(e.student_id, "") for e in enrollments}
        for kind in ImportKind.values:
            rows = _rows(enrollments, profiles_all, kind, earlier=index < len(periods) - 1)
            check = check_rows(rows, kind=kind, school=school, school_year=semester.school_year)
            if not check.is_valid:  # a demo pupil the importer cannot find: skip the file
                continue
            import_facts(
                check=check,
                school=school,
                period_dates=(start, end),
                semester=semester,
                file_name=f"e-klase-{kind}-{end:%Y-%m}.csv",
                by=users["koordinators"],
            )

"""Class teachers hear when an e-journal import flags new pupils in their classes."""

from collections import defaultdict

from django.urls import reverse

from notifications.services import notify
from students.models import ClassGroup

from .models import FLAGGED, Indicator


def flagged_ids(period) -> set[int]:
    return set(
        Indicator.objects.filter(period=period, level__gte=FLAGGED).values_list(
            "student_id", flat=True
        )
    )


def newly_flagged(*, period, before: set[int], record, by) -> None:
    """Each class teacher of the pupils flagged in the period now and not before the import
    hears how many of their pupils are new (one pupil: by first name, with a link to them)."""
    new = flagged_ids(period) - before
    if not new:
        return
    groups = ClassGroup.objects.filter(
        school_year_id=period.semester.school_year_id, enrollments__student_id__in=new
    ).prefetch_related("class_teachers")
    pupils_of = defaultdict(set)
    teachers = {}
    for group in groups.distinct():
        in_group = set(
            group.enrollments.filter(student_id__in=new).values_list("student_id", flat=True)
        )
        for teacher in group.class_teachers.all():
            teachers[teacher.pk] = teacher
            pupils_of[teacher.pk] |= in_group
    for teacher_id, pupils in pupils_of.items():
        params = {"count": len(pupils)}
        url, pupil_id = reverse("home"), None
        if len(pupils) == 1:
            (pupil_id,) = pupils
            indicator = Indicator.objects.select_related("student").get(
                period=period, student_id=pupil_id
            )
            params["pupil"] = indicator.student.first_name
            url = reverse("ew_student", args=[pupil_id])
        notify(
            recipients=[teachers[teacher_id]],
            kind="pupils_flagged",
            url=url,
            item=f"import:{record.pk}",
            params=params,
            exclude=by,
            pupil_id=pupil_id,
        )

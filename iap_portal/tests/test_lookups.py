"""Tampered ids beyond what an integer column holds find nothing instead of failing."""

import pytest

from students.models import Enrollment, Student

HUGE = 99999999999999999999


@pytest.mark.parametrize(
    "query",
    [
        lambda: Student.objects.filter(pk__in=[HUGE]),
        lambda: Student.objects.filter(pk__in=[HUGE, -HUGE]),
        lambda: Student.objects.filter(school_id__in=[HUGE]),
        lambda: Enrollment.objects.filter(student__in=[HUGE]),
        lambda: Student.objects.filter(pk=HUGE),
    ],
)
def test_an_id_out_of_range_matches_nothing(cast, query):
    assert list(query()) == []


def test_ids_in_range_beside_it_still_match(cast):
    assert list(Student.objects.filter(pk__in=[HUGE, cast.student.pk])) == [cast.student]

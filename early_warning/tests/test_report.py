"""The participation report's share of flagged pupils who received a plan."""

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import PlanStatus
from plans.tests.factories import ready_plan
from reports.participation import (
    flagged_plan_share,
    national_pupil_figures,
    school_directory,
    share_table,
)
from students.models import School
from students.tests.factories import StudentFactory, enrol

from .helpers import give, make_period

AT_RISK = {"held": 100, "excused": 4, "unexcused": 12}


def counted(cast, student):
    return ready_plan(
        student=student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )


def flagged_pupils(cast, count, *, with_plan):
    period = make_period(cast.school)
    for _ in range(count):
        student = StudentFactory(school=cast.school)
        enrol(student, cast.class_group)
        give(student, period, by=cast.coordinator, **AT_RISK)
        if with_plan:
            counted(cast, student)


def test_the_share_counts_flagged_pupils_and_those_with_a_counted_plan(cast):
    flagged_pupils(cast, 3, with_plan=True)
    flagged_pupils(cast, 1, with_plan=False)
    # A watch-only pupil is not flagged; a draft plan does not count.
    give(cast.student, make_period(cast.school), by=cast.coordinator, held=100, excused=6)
    table = flagged_plan_share(School.objects.filter(pk=cast.school.pk))
    ((_year, semester, flagged, with_plan, share),) = table.rows
    assert (flagged.value, with_plan.value, share) == (4, 3, 75)
    assert semester in {"I", "II"}


def test_small_counts_are_hidden_above_school_level(cast, login):
    flagged_pupils(cast, 4, with_plan=False)
    flagged_pupils(cast, 1, with_plan=True)
    figures = national_pupil_figures(school_directory())
    ((_y, _s, flagged, with_plan, share),) = share_table(figures).rows
    assert str(flagged) == "5" and str(with_plan) == "<3" and share == "x"
    # The agency's report shows it suppressed; the school's coordinator sees the figure.
    response = login(cast.agency).get(reverse("participation_report"), {"scope": "all"})
    assert str(response.context["share"].rows[0][3]) == "<3"
    response = login(cast.coordinator).get(
        reverse("participation_report"), {"format": "csv", "part": "early_warning"}
    )
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[1].split(";")[2:] == ["5", "1", "20,00"]  # the school sees every figure


def test_the_agency_csv_hides_the_small_count(cast, login):
    flagged_pupils(cast, 4, with_plan=False)
    flagged_pupils(cast, 1, with_plan=True)
    response = login(cast.agency).get(
        reverse("participation_report"), {"scope": "all", "format": "csv", "part": "early_warning"}
    )
    row = response.content.decode("utf-8-sig").splitlines()[1].split(";")
    assert row[2:] == ["5", "<3", "x"]


@pytest.mark.parametrize("size", [1, 12])
def test_the_report_query_count_is_fixed_with_signals(cast, login, django_assert_num_queries, size):
    flagged_pupils(cast, size, with_plan=True)
    flagged_pupils(cast, size, with_plan=False)
    client = login(cast.coordinator)
    # session, user, memberships, the user's schools, semesters, participation table, flagged
    # pupils with a plan, grade, gender, risk type, delivered minutes, measures, pupils per
    # youth NGO project, planned money, claims, outcomes — the school scope has no per-school
    # and per-municipality tables
    with django_assert_num_queries(16):
        response = client.get(reverse("participation_report"))
    ((_y, _s, flagged, with_plan, _share),) = response.context["share"].rows
    assert (flagged.value, with_plan.value) == (2 * size, size)

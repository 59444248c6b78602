"""The pupil's early-warning chart: attendance and average grade over the periods, the
periods under a plan shaded, the measures' start marked."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from plans.models import PlanStatus
from plans.tests.factories import ready_plan

from .helpers import earlier_semester, give, make_period

VALUE = re.compile(r'<desc class="value">([^<]*)</desc>')


def chart_of(response):
    found = re.search(r'<svg[^>]*id="chart-signals".*?</svg>', response.content.decode(), re.S)
    return found.group(0) if found else None


def series(svg):
    """The drawn values per series, in order (pygal groups each series as serie-N)."""
    groups = re.split(r'<g class="series serie-\d+ color-\d+">', svg)[1:]
    return [VALUE.findall(group) for group in groups if VALUE.findall(group)]


def test_it_draws_attendance_and_average_per_period_in_order(cast, login):
    before = earlier_semester()
    give(
        cast.student,
        make_period(cast.school, before),
        by=cast.coordinator,
        held=100,
        unexcused=20,
        grades={"math": 4, "latvian": 5},
    )
    give(
        cast.student,
        make_period(cast.school),
        by=cast.coordinator,
        held=100,
        unexcused=2,
        grades={"math": 7, "latvian": 8},
    )
    svg = chart_of(login(cast.class_teacher).get(reverse("ew_student", args=[cast.student.pk])))
    assert svg is not None
    attendance, average = series(svg)
    assert attendance == ["80", "98"]
    assert average == ["4,50", "7,50"]
    assert "style=" not in svg and "<style" not in svg


def test_the_periods_under_a_plan_are_shaded_and_the_start_marked(cast, login):
    before = earlier_semester()
    give(
        cast.student, make_period(cast.school, before), by=cast.coordinator, held=100, unexcused=20
    )
    now = make_period(cast.school)
    give(cast.student, now, by=cast.coordinator, held=100, unexcused=2)
    ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now() - timedelta(days=3),
    )
    svg = chart_of(login(cast.class_teacher).get(reverse("ew_student", args=[cast.student.pk])))
    shaded, started, attendance, _average = [*series(svg), []][:4]
    # One value per period drawn: only the current period is under the plan.
    assert shaded == ["100"] and started == ["100"]
    assert attendance == ["80", "98"]
    assert "Under a support plan" in svg or "Atbalsta plāna laikā" in svg


def test_a_pupil_without_figures_has_no_chart(cast, login):
    response = login(cast.class_teacher).get(reverse("ew_student", args=[cast.student.pk]))
    assert chart_of(response) is None
    assert response.status_code == 200

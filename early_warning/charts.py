"""The pupil's early-warning chart: attendance and average grade per period, with the
periods under a plan shaded and the start of the measures marked, so a teacher sees whether
things changed after support began."""

import pygal
from django.utils.translation import gettext as _

from iap_portal.charts import Chart, config, render

from . import hooks


def _covered(period, stretches):
    return any(
        start <= period.end_date and period.start_date <= end for start, end, _m in stretches
    )


def _first_after(periods, day):
    """The index of the period in which ``day`` falls, else of the first after it."""
    for index, period in enumerate(periods):
        if day <= period.end_date:
            return index
    return None


def signals_chart(student, indicators) -> Chart | None:
    """``indicators``: the pupil's, any order. None when there is nothing to draw."""
    indicators = sorted(indicators, key=lambda i: (i.period.end_date, i.period.pk))
    if not any(i.attendance_rate is not None or i.average is not None for i in indicators):
        return None
    periods = [i.period for i in indicators]
    stretches = hooks.support_periods(student)
    chart = pygal.Line(
        **config(
            _("Attendance and average grade"),
            range=(0, 100),
            secondary_range=(0, 10),
            show_legend=True,
            x_label_rotation=30 if len(periods) > 6 else 0,
            allow_interruptions=True,
        )
    )
    chart.x_labels = [str(period) for period in periods]
    covered = [100 if _covered(period, stretches) else None for period in periods]
    if any(covered):
        chart.add(_("Under a support plan"), covered, fill=True, show_dots=True, stroke=False)
    starts = [None] * len(periods)
    for _start, _end, measures_start in stretches:
        index = _first_after(periods, measures_start) if measures_start else None
        if index is not None:
            starts[index] = 100
    if any(starts):
        chart.add(_("Support measures start"), starts, stroke=False, dots_size=6)
    chart.add(
        _("Attendance, %"),
        [float(i.attendance_rate) if i.attendance_rate is not None else None for i in indicators],
    )
    chart.add(
        _("Average grade"),
        [float(i.average) if i.average is not None else None for i in indicators],
        secondary=True,
    )
    return render(chart, "chart-signals", _("Attendance and average grade"))

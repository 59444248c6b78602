"""Early-warning indicators: pure functions over one pupil's facts and the school's thresholds.

Every trigger keeps its threshold and the pupil's actual figure, so the level is always
explained, never a bare score. The rules (the thresholds are the school's, defaults shown):

- attendance (lessons attended ÷ lessons held): below 95 % → watch, below 90 % → at risk,
  below 80 % → high risk;
- unexcused absences: more than 10 lessons in the period → at risk;
- failing grades: a grade below 4 or "nv" (not assessed) in one subject or more → at risk,
  in 3 subjects or more → high risk;
- the average of the grades fell by 1.0 point or more since the previous period → watch;
- conduct notes: 2 or more a month → watch, 4 or more a month → at risk;
- signals at "at risk" or above in two or more areas together (attendance, grades,
  conduct) → high risk (the ABC rule of early-warning systems).

The pupil's level is the highest level among the triggers; "none" when nothing fired. A pupil
is flagged (a plan is called for) from "at risk" up; "watch" is for the class teacher's eye.
"""

from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


class Level(models.IntegerChoices):
    NONE = 0, gettext_lazy("none")
    WATCH = 1, gettext_lazy("watch")
    AT_RISK = 2, gettext_lazy("at risk")
    HIGH = 3, gettext_lazy("high risk")


# A pupil is "flagged" (a call to action) from this level up; "watch" is only shown.
FLAGGED = Level.AT_RISK

ATTENDANCE, UNEXCUSED, FAILING, AVERAGE_DROP, CONDUCT, COMBINED = (
    "attendance",
    "unexcused",
    "failing",
    "average_drop",
    "conduct",
    "combined",
)
# The areas of the combined rule.
AREAS = {ATTENDANCE: "attendance", UNEXCUSED: "attendance", FAILING: "grades", CONDUCT: "conduct"}


@dataclass
class Facts:
    """What the e-journal says about one pupil in one period (None: not imported)."""

    lessons_held: int | None = None
    excused: int = 0
    unexcused: int = 0
    grades: dict | None = None  # subject -> 1..10, or None for "nv"
    previous_average: Decimal | None = None
    conduct_notes: int | None = None
    months: Decimal = Decimal(1)


@dataclass
class Trigger:
    code: str
    level: int
    threshold: str
    actual: str
    subjects: list = field(default_factory=list)
    before: str = ""

    def as_dict(self):
        return asdict(self)


@dataclass
class Result:
    level: int
    triggers: list
    attendance_rate: Decimal | None
    average: Decimal | None


def _q(value, places="0.1"):
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def attendance_rate(facts):
    if not facts.lessons_held:
        return None
    attended = facts.lessons_held - facts.excused - facts.unexcused
    return Decimal(attended) * 100 / Decimal(facts.lessons_held)


def grade_average(grades):
    values = [v for v in (grades or {}).values() if v is not None]
    if not values:
        return None
    return _q(Decimal(sum(values)) / len(values), "0.01")


def evaluate(facts: Facts, thresholds) -> Result:
    """The triggers that fire for these facts, and the level they give."""
    t = thresholds
    triggers = []

    rate = attendance_rate(facts)
    if rate is not None:
        for level, limit in (
            (Level.HIGH, t.attendance_high),
            (Level.AT_RISK, t.attendance_at_risk),
            (Level.WATCH, t.attendance_watch),
        ):
            if rate < Decimal(limit):
                triggers.append(Trigger(ATTENDANCE, int(level), str(limit), str(_q(rate))))
                break
        if facts.unexcused > t.unexcused_lessons:
            triggers.append(
                Trigger(
                    UNEXCUSED, int(Level.AT_RISK), str(t.unexcused_lessons), str(facts.unexcused)
                )
            )

    average = grade_average(facts.grades)
    if facts.grades:
        failing = sorted(
            subject
            for subject, value in facts.grades.items()
            if value is None or value < t.failing_grade
        )
        if failing:
            level = Level.HIGH if len(failing) >= t.failing_subjects_high else Level.AT_RISK
            triggers.append(
                Trigger(
                    FAILING,
                    int(level),
                    str(t.failing_grade),
                    str(len(failing)),
                    subjects=[
                        f"{s} ({'nv' if facts.grades[s] is None else facts.grades[s]})"
                        for s in failing
                    ],
                )
            )
        if average is not None and facts.previous_average is not None:
            drop = Decimal(facts.previous_average) - average
            if drop >= Decimal(t.average_drop):
                triggers.append(
                    Trigger(
                        AVERAGE_DROP,
                        int(Level.WATCH),
                        str(t.average_drop),
                        str(average),
                        before=str(facts.previous_average),
                    )
                )

    if facts.conduct_notes is not None:
        months = Decimal(facts.months)
        per_month = Decimal(facts.conduct_notes) / months
        for level, limit in ((Level.AT_RISK, t.conduct_at_risk), (Level.WATCH, t.conduct_watch)):
            if per_month >= Decimal(limit):
                triggers.append(Trigger(CONDUCT, int(level), str(limit), str(_q(per_month))))
                break

    level = max((tr.level for tr in triggers), default=int(Level.NONE))
    areas = {AREAS[tr.code] for tr in triggers if tr.code in AREAS and tr.level >= Level.AT_RISK}
    if len(areas) >= 2 and level < Level.HIGH:
        triggers.append(Trigger(COMBINED, int(Level.HIGH), "2", str(len(areas))))
        level = int(Level.HIGH)
    return Result(
        level=level,
        triggers=[tr.as_dict() for tr in triggers],
        attendance_rate=_q(rate) if rate is not None else None,
        average=average,
    )


def _n(text):
    """A figure in the reader's format (90,5 in Latvian)."""
    value = Decimal(text)
    places = 0 if value == value.to_integral_value() else (1 if value == _q(value) else 2)
    return number_format(value, places)


def describe(trigger):
    """The reason a trigger fired, with its threshold and the pupil's figure."""
    code, threshold, actual = trigger["code"], trigger["threshold"], trigger["actual"]
    if code == ATTENDANCE:
        return _("Attendance %(actual)s %% is below %(threshold)s %%.") % {
            "actual": _n(actual),
            "threshold": _n(threshold),
        }
    if code == UNEXCUSED:
        return _("%(actual)s lessons missed without excuse: more than %(threshold)s.") % {
            "actual": actual,
            "threshold": threshold,
        }
    if code == FAILING:
        count = int(actual)
        return ngettext(
            "A grade below %(threshold)s or “nv” in %(count)d subject: %(subjects)s.",
            "Grades below %(threshold)s or “nv” in %(count)d subjects: %(subjects)s.",
            count,
        ) % {"threshold": threshold, "count": count, "subjects": ", ".join(trigger["subjects"])}
    if code == AVERAGE_DROP:
        return _(
            "The average grade fell from %(before)s to %(actual)s "
            "(a fall of %(threshold)s or more)."
        ) % {
            "before": _n(trigger["before"]),
            "actual": _n(actual),
            "threshold": _n(threshold),
        }
    if code == CONDUCT:
        return _("%(actual)s conduct notes a month (%(threshold)s or more).") % {
            "actual": _n(actual),
            "threshold": _n(threshold),
        }
    if code == COMBINED:
        return _(
            "Signals at “at risk” in %(actual)s areas together (attendance, grades, conduct)."
        ) % {"actual": actual}
    return code

"""Every indicator at and around its threshold, on hand-made facts (no database)."""

from decimal import Decimal

import pytest

from early_warning.indicators import Facts, describe, evaluate
from early_warning.models import Level, Thresholds

DEFAULTS = Thresholds()  # the model's defaults: 95/90/80 %, 10 lessons, 4, 3, 1.0, 2/4


def codes(result):
    return [(t["code"], t["level"]) for t in result.triggers]


@pytest.mark.parametrize(
    ("absent", "expected"),
    [
        (5, []),  # 95.0 % is not below 95
        (6, [("attendance", Level.WATCH)]),  # 94 %
        (10, [("attendance", Level.WATCH)]),  # 90.0 % is not below 90
        (11, [("attendance", Level.AT_RISK)]),  # 89 %
        (20, [("attendance", Level.AT_RISK)]),  # 80.0 %
        (21, [("attendance", Level.HIGH)]),  # 79 %
    ],
)
def test_it_grades_attendance_at_its_thresholds(absent, expected):
    result = evaluate(Facts(lessons_held=100, excused=absent), DEFAULTS)
    assert codes(result) == expected
    assert result.level == (expected[0][1] if expected else Level.NONE)
    assert result.attendance_rate == Decimal(100 - absent)


def test_it_counts_excused_and_unexcused_absences_in_attendance():
    result = evaluate(Facts(lessons_held=200, excused=7, unexcused=4), DEFAULTS)
    assert result.attendance_rate == Decimal("94.5")
    assert codes(result) == [("attendance", Level.WATCH)]


@pytest.mark.parametrize(("unexcused", "fires"), [(9, False), (10, False), (11, True)])
def test_it_flags_unexcused_absences_over_the_threshold(unexcused, fires):
    # 400 lessons keep attendance above 95 % so only the unexcused rule can fire.
    result = evaluate(Facts(lessons_held=400, unexcused=unexcused), DEFAULTS)
    assert (("unexcused", Level.AT_RISK) in codes(result)) is fires
    assert result.level == (Level.AT_RISK if fires else Level.NONE)


@pytest.mark.parametrize(
    ("grades", "expected"),
    [
        ({"Matemātika": 4, "Vēsture": 9}, Level.NONE),  # 4 is not below 4
        ({"Matemātika": 3, "Vēsture": 9}, Level.AT_RISK),
        ({"Matemātika": None, "Vēsture": 9}, Level.AT_RISK),  # "nv"
        ({"Matemātika": 3, "Vēsture": None, "Fizika": 8}, Level.AT_RISK),  # 2 < 3 subjects
        ({"Matemātika": 3, "Vēsture": None, "Fizika": 1}, Level.HIGH),  # 3 subjects
    ],
)
def test_it_flags_failing_grades_and_nv(grades, expected):
    result = evaluate(Facts(grades=grades), DEFAULTS)
    assert result.level == expected
    if expected:
        (trigger,) = result.triggers
        assert trigger["code"] == "failing"
        assert trigger["threshold"] == "4"
        assert "Matemātika (3)" in trigger["subjects"] or "Matemātika (nv)" in trigger["subjects"]


def test_nv_does_not_count_in_the_average():
    result = evaluate(Facts(grades={"A": 8, "B": None, "C": 6}), DEFAULTS)
    assert result.average == Decimal("7.00")


@pytest.mark.parametrize(
    ("before", "fires"), [(Decimal("7.90"), False), (Decimal("8.00"), True), (Decimal("9"), True)]
)
def test_it_notices_a_fall_of_the_average(before, fires):
    result = evaluate(Facts(grades={"A": 7, "B": 7}, previous_average=before), DEFAULTS)
    assert (("average_drop", Level.WATCH) in codes(result)) is fires
    if fires:
        assert result.triggers[0]["before"] == str(before)
        assert result.triggers[0]["actual"] == "7.00"


def test_a_rise_of_the_average_or_no_earlier_average_is_no_signal():
    assert evaluate(Facts(grades={"A": 9}, previous_average=Decimal(5)), DEFAULTS).triggers == []
    assert evaluate(Facts(grades={"A": 5}), DEFAULTS).triggers == []


@pytest.mark.parametrize(
    ("notes", "months", "expected"),
    [
        (1, Decimal(1), Level.NONE),
        (2, Decimal(1), Level.WATCH),  # 2 a month is "2 or more"
        (3, Decimal(1), Level.WATCH),
        (4, Decimal(1), Level.AT_RISK),
        (7, Decimal(2), Level.WATCH),  # 3.5 a month
        (8, Decimal(2), Level.AT_RISK),  # 4 a month
        (3, Decimal(2), Level.NONE),  # 1.5 a month
    ],
)
def test_it_counts_conduct_notes_per_month(notes, months, expected):
    result = evaluate(Facts(conduct_notes=notes, months=months), DEFAULTS)
    assert result.level == expected


def test_at_risk_in_two_areas_together_is_high():
    result = evaluate(Facts(lessons_held=100, excused=11, grades={"Matemātika": 3}), DEFAULTS)
    assert codes(result) == [
        ("attendance", Level.AT_RISK),
        ("failing", Level.AT_RISK),
        ("combined", Level.HIGH),
    ]
    assert result.level == Level.HIGH


def test_two_signals_in_one_area_are_not_combined():
    # Low attendance and unexcused absences are both the attendance area.
    result = evaluate(Facts(lessons_held=100, unexcused=11), DEFAULTS)
    assert result.level == Level.AT_RISK
    assert "combined" not in [t["code"] for t in result.triggers]


def test_watch_signals_do_not_combine_into_high():
    result = evaluate(
        Facts(lessons_held=100, excused=6, conduct_notes=2, months=Decimal(1)), DEFAULTS
    )
    assert result.level == Level.WATCH


def test_no_facts_no_level():
    result = evaluate(Facts(), DEFAULTS)
    assert (result.level, result.triggers, result.attendance_rate) == (Level.NONE, [], None)


def test_the_school_thresholds_are_used():
    strict = Thresholds(attendance_watch=Decimal(98), unexcused_lessons=2, failing_grade=5)
    result = evaluate(Facts(lessons_held=100, unexcused=3, grades={"A": 4}), strict)
    assert [t["code"] for t in result.triggers] == [
        "attendance",
        "unexcused",
        "failing",
        "combined",
    ]


def test_every_reason_names_its_threshold_and_figure(settings):
    from django.utils import translation

    result = evaluate(
        Facts(
            lessons_held=100,
            excused=9,
            unexcused=12,
            grades={"Matemātika": 3},
            previous_average=Decimal(5),
            conduct_notes=5,
        ),
        DEFAULTS,
    )
    with translation.override("en"):
        reasons = [describe(t) for t in result.triggers]
    assert reasons == [
        "Attendance 79 % is below 80 %.",
        "12 lessons missed without excuse: more than 10.",
        "A grade below 4 or “nv” in 1 subject: Matemātika (3).",
        "The average grade fell from 5 to 3 (a fall of 1 or more).",
        "5 conduct notes a month (4 or more).",
    ]
    with translation.override("lv"):
        assert "79" in describe(result.triggers[0]) and "80" in describe(result.triggers[0])

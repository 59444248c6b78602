from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from early_warning.models import Indicator, Level, Thresholds
from plans.early_signals import flagged_stalled_plans, flagged_without_plan
from plans.models import Consultation, PlanRisk, PlanStatus, SupportPlan
from plans.tests.factories import make_plan, ready_plan, semester_ends_in
from students.models import Student
from students.tests.factories import StudentFactory, enrol

from .helpers import current_semester, earlier_semester, give, make_period

# 84 % attendance and 12 unexcused lessons: at risk.
AT_RISK = {"held": 100, "excused": 4, "unexcused": 12}


def flag(cast, student, **facts):
    period = make_period(cast.school)
    return give(student, period, by=cast.coordinator, **(facts or AT_RISK))


def running_plan(cast, student, **fields):
    return ready_plan(
        student=student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now() - timedelta(days=40),
        **fields,
    )


# --- The class teacher's home ---------------------------------------------------------------


def test_the_class_teacher_sees_flagged_pupils_of_own_classes_without_a_plan(cast, login):
    flag(cast, cast.student)
    flag(cast, cast.other_student)  # bob's class 8.b
    content = login(cast.class_teacher).get(reverse("home")).content.decode()
    assert "flagged-heading" in content
    assert "Bērziņa Elza" in content
    assert reverse("plan_create", args=[cast.student.pk]) in content
    assert "Ozols" not in content  # not alice's pupil
    # Bob sees his own pupil, not alice's.
    response = login(cast.other_teacher).get(reverse("home"))
    assert [i.student for i in response.context["flagged_without_plan"]] == [cast.other_student]


def test_a_pupil_with_a_plan_or_only_on_watch_is_no_call_to_action(cast, login):
    flag(cast, cast.student)
    flag(cast, cast.other_student, held=100, excused=6)  # 94 %: watch only
    students = Student.objects.all()
    semester = current_semester()
    assert [i.student for i in flagged_without_plan(students, semester)] == [cast.student]
    running_plan(cast, cast.student)
    assert list(flagged_without_plan(students, semester)) == []
    # A deleted (inactive) plan is no plan.
    SupportPlan.objects.update(status=PlanStatus.INACTIVE)
    assert [i.student for i in flagged_without_plan(students, semester)] == [cast.student]


def test_an_empty_draft_does_not_clear_the_flag_only_a_submitted_plan_does(cast, login):
    flag(cast, cast.student)
    students = Student.objects.all()
    semester = current_semester()
    draft = make_plan(student=cast.student, preparer=cast.class_teacher, ready=False)
    # The home page's call to action keeps the pupil, pointing at the draft.
    [indicator] = flagged_without_plan(students, semester)
    assert indicator.student == cast.student and indicator.draft_plan_id == draft.pk
    content = login(cast.class_teacher).get(reverse("home")).content.decode()
    assert "flagged-heading" in content
    assert reverse("plan_detail", args=[draft.pk]) in content
    # The overview says the plan is a draft, and offers no new plan (it would be refused).
    response = login(cast.coordinator).get(reverse("ew_overview"))
    [row] = response.context["page"].object_list
    assert not row.has_plan and row.draft_plan_id == draft.pk
    assert reverse("plan_create", args=[cast.student.pk]) not in response.content.decode()
    SupportPlan.objects.filter(pk=draft.pk).update(status=PlanStatus.SUBMITTED)
    assert list(flagged_without_plan(students, semester)) == []
    response = login(cast.coordinator).get(reverse("ew_overview"))
    assert response.context["page"].object_list[0].has_plan


def test_only_the_latest_period_of_the_semester_counts(cast, login):
    semester = current_semester()
    if (semester.end_date - semester.start_date).days < 2:
        pytest.skip("needs a semester of three days or more")
    first = make_period(cast.school, start=semester.start_date, end=semester.start_date)
    give(cast.student, first, by=cast.coordinator, **AT_RISK)
    assert flagged_without_plan(Student.objects.all(), semester).count() == 1
    later = make_period(
        cast.school, start=semester.start_date + timedelta(days=1), end=semester.end_date
    )
    indicator = give(cast.student, later, by=cast.coordinator, held=100)
    assert indicator.level == Level.NONE and indicator.change == "down"
    assert indicator.previous_level == Level.AT_RISK
    assert flagged_without_plan(Student.objects.all(), semester).count() == 0


def test_a_left_pupil_is_not_listed(cast):
    flag(cast, cast.student)
    Student.objects.filter(pk=cast.student.pk).update(status=Student.Status.LEFT)
    assert not flagged_without_plan(Student.objects.all(), current_semester()).exists()


def test_flagged_pupils_whose_plan_had_no_consultation_for_30_days(cast, login):
    flag(cast, cast.student)
    plan = running_plan(cast, cast.student)
    plans = SupportPlan.objects.all()
    semester = current_semester()
    assert list(flagged_stalled_plans(plans, semester)) == [plan]  # approved 40 days ago
    measure = plan.measures.get()
    today = timezone.localdate()
    consultation = Consultation.objects.create(
        measure=measure,
        date=today - timedelta(days=31),
        minutes=45,
        topic="T",
        provider=cast.specialist,
    )
    assert list(flagged_stalled_plans(plans, semester, today=today)) == [plan]
    consultation.date = today - timedelta(days=30)
    consultation.save()
    assert list(flagged_stalled_plans(plans, semester, today=today)) == []
    content = login(cast.class_teacher).get(reverse("home")).content.decode()
    assert "stalled-heading" not in content


def test_the_home_shows_the_stalled_plan(cast, login):
    flag(cast, cast.student)
    plan = running_plan(cast, cast.student)
    content = login(cast.class_teacher).get(reverse("home")).content.decode()
    assert "stalled-heading" in content and plan.code in content
    assert "flagged-heading" not in content  # the pupil has a plan


def _crowd(cast, count):
    """``count`` more flagged pupils in alice's class, half with a stalled plan."""
    period = make_period(cast.school)
    for i in range(count):
        student = StudentFactory(school=cast.school, last_name=f"Riskā{i:02d}")
        enrol(student, cast.class_group)
        if i % 2:
            running_plan(cast, student)
        give(student, period, by=cast.coordinator, **AT_RISK)


@pytest.mark.parametrize("extra", [0, 12])
def test_teacher_home_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    _crowd(cast, extra)
    client = login(cast.class_teacher)
    # session, user, memberships, current school year, current semester, classes, their
    # enrollments with pupils, the pupils' plans of the semester, flagged pupils without a
    # plan, flagged pupils' plans without a consultation for 30 days, the guide's plans being
    # prepared, its consultation measures to log, its claims to file and its plans due for
    # evaluation, decisions on my claims, the audit row naming the pupils shown
    with django_assert_num_queries(16):
        response = client.get(reverse("home"))
    assert len(response.context["flagged_without_plan"]) == extra - extra // 2
    assert len(response.context["flagged_stalled"]) == extra // 2


# --- The coordinator's overview -------------------------------------------------------------


def test_the_overview_counts_per_class_and_level_with_the_trend(cast, login):
    earlier = make_period(cast.school, earlier_semester())
    give(cast.student, earlier, by=cast.coordinator, held=100)
    give(cast.other_student, earlier, by=cast.coordinator, held=100)
    now = make_period(cast.school)
    give(cast.student, now, by=cast.coordinator, **AT_RISK)
    give(cast.other_student, now, by=cast.coordinator, held=100)
    response = login(cast.coordinator).get(reverse("ew_overview"))
    assert response.context["period"] == now
    assert response.context["previous"] == earlier
    rows = {
        r["label"]: [(c["count"], c["delta"]) for c in r["cells"]] for r in response.context["rows"]
    }
    # Levels: none, watch, at risk, high. Last period the earlier semester's classes were
    # of last year, so the pupils were in no class then.
    assert rows["7.a"] == [(0, 0), (0, 0), (1, 1), (0, 0)]
    assert rows["8.b"] == [(1, 1), (0, 0), (0, 0), (0, 0)]
    totals = [(c["count"], c["delta"]) for c in response.context["totals"]]
    assert totals == [(1, -1), (0, 0), (1, 1), (0, 0)]
    page = response.context["page"]
    assert [i.student for i in page.object_list] == [cast.student]
    assert page.object_list[0].class_grade == 7 and not page.object_list[0].has_plan
    content = response.content.decode()
    assert "84" in content  # the reason's figure


def test_the_overview_without_data_says_what_to_do(cast, login):
    response = login(cast.coordinator).get(reverse("ew_overview"))
    assert response.context["period"] is None
    assert reverse("ew_import") in response.content.decode()


def test_the_other_school_sees_nothing_of_school_a(cast, login):
    flag(cast, cast.student)
    response = login(cast.other_coordinator).get(reverse("ew_overview"))
    assert response.context["period"] is None
    assert "Bērziņa" not in response.content.decode()
    response = login(cast.other_coordinator).get(reverse("ew_overview"), {"school": cast.school.pk})
    assert response.context["school"] == cast.other_school


@pytest.mark.parametrize("extra", [0, 30])
def test_overview_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    make_period(cast.school, earlier_semester())
    flag(cast, cast.student)
    _crowd(cast, extra)
    client = login(cast.social_pedagogue)
    # session, user, memberships, schools, periods, counts by class and level now, and in
    # the previous period, count of pupils with signals, their page (with class and plan),
    # the audit row naming the page's pupils, the school's thresholds
    with django_assert_num_queries(11):
        response = client.get(reverse("ew_overview"))
    assert response.context["page"].paginator.count == extra + 1


# --- One pupil ------------------------------------------------------------------------------


def test_the_pupil_page_explains_each_period(cast, login):
    flag(cast, cast.student)
    content = login(cast.class_teacher).get(reverse("ew_student", args=[cast.student.pk]))
    text = content.content.decode()
    assert "84" in text and "12" in text
    assert (
        login(cast.other_teacher).get(reverse("ew_student", args=[cast.student.pk])).status_code
        == 404
    )


# --- Thresholds -----------------------------------------------------------------------------


def threshold_data(**overrides):
    data = {
        "attendance_watch": "95",
        "attendance_at_risk": "90",
        "attendance_high": "80",
        "unexcused_lessons": "10",
        "failing_grade": "4",
        "failing_subjects_high": "3",
        "average_drop": "1",
        "conduct_watch": "2",
        "conduct_at_risk": "4",
    }
    return {**data, **overrides}


def test_changing_thresholds_recomputes_the_levels(cast, login):
    indicator = flag(cast, cast.student, held=100, excused=6)  # 94 %
    assert indicator.level == Level.WATCH
    client = login(cast.coordinator)
    response = client.post(reverse("ew_thresholds"), threshold_data(attendance_watch="93"))
    assert response.status_code == 302
    assert Thresholds.objects.get(school=cast.school).attendance_watch == Decimal(93)
    assert Indicator.objects.get(student=cast.student).level == Level.NONE
    client.post(reverse("ew_thresholds"), threshold_data(attendance_at_risk="94.5"))
    assert Indicator.objects.get(student=cast.student).level == Level.AT_RISK


@pytest.mark.parametrize(
    "bad",
    [
        {"attendance_watch": "85"},  # watch below at risk
        {"conduct_at_risk": "1"},
        {"failing_grade": "11"},
        {"attendance_high": "abc"},
    ],
)
def test_thresholds_out_of_order_are_refused(cast, login, bad):
    response = login(cast.coordinator).post(reverse("ew_thresholds"), threshold_data(**bad))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Thresholds.objects.exists()


# --- Plan pre-fill --------------------------------------------------------------------------


def test_creating_a_plan_for_a_flagged_pupil_prefills_the_risks(cast, login):
    flag(cast, cast.student, held=100, excused=4, unexcused=12, grades={"Matemātika": 3})
    client = login(cast.class_teacher)
    page = client.get(reverse("plan_create", args=[cast.student.pk]))
    names = [s[0].name for s in page.context["suggestions"]]
    assert names == ["bieži kavējumi", "neattaisnoti kavējumi", "zemi mācību sasniegumi"]
    response = client.post(
        reverse("plan_create", args=[cast.student.pk]),
        {"semester": current_semester().pk, "kind": "regular"},
    )
    plan = SupportPlan.objects.get(student=cast.student)
    assert response["Location"] == reverse("plan_update", args=[plan.pk])
    risks = {r.risk_factor.name: r for r in plan.risks.select_related("risk_factor")}
    assert set(risks) == set(names)
    assert "12" in risks["neattaisnoti kavējumi"].justification
    assert "84" in risks["bieži kavējumi"].justification
    assert "Matemātika (3)" in risks["zemi mācību sasniegumi"].justification
    # Each risk takes its own trigger's level (the pupil's level is high by the combined rule).
    assert risks["zemi mācību sasniegumi"].level == PlanRisk.Level.MEDIUM
    assert risks["bieži kavējumi"].level == PlanRisk.Level.MEDIUM
    # The edit page (no JavaScript needed) shows them as ordinary rows.
    edit = client.get(response["Location"]).content.decode()
    assert "Matemātika (3)" in edit


def test_a_pupil_without_signals_gets_an_empty_draft(cast, login):
    client = login(cast.class_teacher)
    client.post(
        reverse("plan_create", args=[cast.student.pk]),
        {"semester": current_semester().pk, "kind": "regular"},
    )
    assert not SupportPlan.objects.get(student=cast.student).risks.exists()


def test_a_copied_plan_is_not_prefilled_twice(cast, login):
    earlier = earlier_semester()
    source = running_plan(cast, cast.student, semester=earlier)
    flag(cast, cast.student)
    client = login(cast.class_teacher)
    client.post(
        reverse("plan_create", args=[cast.student.pk]),
        {"semester": current_semester().pk, "kind": "regular", "copy_from": source.pk},
    )
    plan = SupportPlan.objects.get(student=cast.student, semester=current_semester())
    assert plan.risks.count() == source.risks.count()


# --- Evaluation -----------------------------------------------------------------------------


def test_the_evaluation_shows_the_signals_before_the_plan_and_at_its_end(cast, login):
    semester = semester_ends_in(7)  # within the evaluation window
    if (semester.end_date - semester.start_date).days < 2:
        pytest.skip("needs a semester of three days or more")
    before = make_period(cast.school, start=semester.start_date, end=semester.start_date)
    give(cast.student, before, by=cast.coordinator, **AT_RISK)
    plan = running_plan(cast, cast.student)
    plan.first_approved_at = timezone.make_aware(
        datetime.combine(semester.start_date + timedelta(days=1), time.min)
    )
    plan.save()
    end = make_period(
        cast.school, start=semester.start_date + timedelta(days=1), end=semester.end_date
    )
    give(cast.student, end, by=cast.coordinator, held=100, excused=2)
    response = login(cast.class_teacher).get(reverse("plan_evaluate", args=[plan.pk]))
    first, last = response.context["signals"]
    assert (first.period, first.level) == (before, Level.AT_RISK)
    assert (last.period, last.level) == (end, Level.NONE)
    assert "signals-heading" in response.content.decode()


def test_the_evaluation_without_data_says_so(cast, login):
    semester_ends_in(7)  # within the evaluation window
    plan = running_plan(cast, cast.student)
    response = login(cast.class_teacher).get(reverse("plan_evaluate", args=[plan.pk]))
    assert response.context["signals"] == (None, None)


# --- Personal data --------------------------------------------------------------------------


def test_the_pupils_data_archive_holds_the_e_journal_data(cast):
    import json
    import zipfile
    from io import BytesIO

    from privacy.subject_export import pupil_archive

    flag(cast, cast.student, held=100, excused=4, unexcused=12, grades={"Matemātika": 3})
    archive = zipfile.ZipFile(BytesIO(pupil_archive(cast.student, generated_by="test")))
    data = json.loads(archive.read("pupil.json"))["early_warning"]
    assert data["attendance"][0]["unexcused"] == 12
    assert data["grades"][0]["subject"] == "Matemātika"
    assert data["indicators"][0]["level"] == Level.HIGH


def test_anonymising_removes_the_details_and_keeps_the_level(cast):
    from privacy.retention import anonymise

    flag(cast, cast.student, held=100, excused=4, unexcused=12, grades={"Matemātika": 3})
    anonymise(Student.objects.filter(pk=cast.student.pk))
    from early_warning.models import Attendance, Grade

    assert not Attendance.objects.filter(student=cast.student).exists()
    assert not Grade.objects.filter(student=cast.student).exists()
    indicator = Indicator.objects.get(student=cast.student)
    assert indicator.level == Level.HIGH and indicator.triggers == []


@pytest.mark.parametrize("periods", [1, 6])
def test_pupil_page_query_count_is_fixed(cast, login, django_assert_num_queries, periods):
    semester = current_semester()
    for day in range(periods):
        start = semester.start_date + timedelta(days=day)
        period = make_period(cast.school, start=start, end=start)
        give(cast.student, period, by=cast.coordinator, **AT_RISK)
    client = login(cast.class_teacher)
    # session, user, memberships, current year, the pupil (through the access policy), the
    # audit record, the pupil's indicators with their periods, the school's thresholds, the
    # pupil's counted plans for the chart's shading
    with django_assert_num_queries(9):
        response = client.get(reverse("ew_student", args=[cast.student.pk]))
    assert len(response.context["signals"]) == periods


@pytest.mark.parametrize("imports", [1, 30])
def test_import_list_query_count_is_fixed(cast, login, django_assert_num_queries, imports):
    period = make_period(cast.school)
    for _ in range(imports):
        give(cast.student, period, by=cast.coordinator, held=100)
    client = login(cast.coordinator)
    # session, user, memberships, count, page of imports with school, period and user
    with django_assert_num_queries(5):
        response = client.get(reverse("ew_import_list"))
    assert response.context["page"].paginator.count == imports


def test_signals_older_than_the_semester_before_suggest_nothing(cast, login):
    from early_warning.services import signals_for_plan
    from students.models import Semester

    semester = current_semester()
    before = earlier_semester()
    older = Semester.objects.filter(end_date__lt=before.start_date).order_by("-end_date").first()
    assert older is not None  # the cast has last year's two semesters
    give(cast.student, make_period(cast.school, older), by=cast.coordinator, **AT_RISK)
    assert signals_for_plan(cast.student, semester) is None
    give(cast.student, make_period(cast.school, before), by=cast.coordinator, **AT_RISK)
    assert signals_for_plan(cast.student, semester).period.semester == before

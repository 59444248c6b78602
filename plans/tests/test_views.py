import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import Consultation, PlanRisk, PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import (
    add_consultation_measure,
    add_risk,
    make_plan,
    national_factor,
    ready_plan,
)
from students.models import SpecialistType
from students.tests.factories import StudentFactory, enrol


def english(client):
    client.cookies["django_language"] = "en"
    return client


def edit_data(plan, risks=(), measures=(), **header):
    """POST data for the edit page: header fields, then risk and measure rows."""
    data = {
        "plan-parent_application_date": header.get("parent_application_date", ""),
        "plan-goals": header.get("goals", ""),
        "risks-TOTAL_FORMS": str(len(risks)),
        "risks-INITIAL_FORMS": str(sum(1 for r in risks if r.get("id"))),
        "risks-MIN_NUM_FORMS": "0",
        "risks-MAX_NUM_FORMS": "30",
        "measures-TOTAL_FORMS": str(len(measures)),
        "measures-INITIAL_FORMS": str(sum(1 for m in measures if m.get("id"))),
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "30",
    }
    if header.get("pupil_agreement"):
        data["plan-pupil_agreement"] = "on"
    for i, risk in enumerate(risks):
        for key, value in risk.items():
            data[f"risks-{i}-{key}"] = value
    for i, measure in enumerate(measures):
        for key, value in measure.items():
            data[f"measures-{i}-{key}"] = value
    return data


def factor(code):
    return national_factor(code).pk


def test_teacher_creates_fills_and_submits_a_plan(cast, login):
    client = login(cast.class_teacher)
    # The home page lists the pupil as having no plan yet.
    home = client.get(reverse("home"))
    assert cast.student in home.context["without_plan"]

    response = client.post(
        reverse("plan_create", args=[cast.student.pk]),
        {"semester": home.context["semester"].pk, "kind": "regular"},
    )
    plan = SupportPlan.objects.get(student=cast.student)
    assert response["Location"] == reverse("plan_update", args=[plan.pk])

    semester = plan.semester
    # Step 1: two risks, saved so measures can link to them.
    data = edit_data(
        plan,
        risks=[
            {
                "risk_factor": factor("neattaisnoti-kavejumi"),
                "level": "high",
                "justification": "18 neattaisnotas stundas",
            },
            {
                "risk_factor": factor("attalums-lidz-skolai-un-transporta-izmaksas"),
                "level": "",
                "justification": "Dzīvo 25 km no skolas",
            },
        ],
        parent_application_date=timezone.localdate().isoformat(),
        goals="Apmeklēt skolu",
    )
    data["continue"] = "1"
    response = client.post(reverse("plan_update", args=[plan.pk]), data)
    assert response.status_code == 302, response.context and response.context["risks"].errors
    assert plan.risks.count() == 2

    # Step 2: a consultation and a transport compensation; first with a mistake.
    risks = list(plan.risks.order_by("pk"))
    risk_rows = [
        {
            "id": r.pk,
            "risk_factor": r.risk_factor_id,
            "level": r.level,
            "justification": r.justification,
        }
        for r in risks
    ]
    consultation = {
        "measure_type": "consultation",
        "specialist_type": SpecialistType.objects.get(name="psihologs").pk,
        "responsible": cast.specialist.pk,
        "planned_hours": "",  # the mistake: hours missing
        "start_date": semester.start_date.isoformat(),
        "end_date": semester.end_date.isoformat(),
        "risk_factors": [risks[0].risk_factor_id],
    }
    transport = {
        "measure_type": "compensation",
        "compensation_category": "transport_tickets",
        "responsible": cast.social_pedagogue.pk,
        "planned_amount": "120.50",
        "start_date": semester.start_date.isoformat(),
        "end_date": semester.end_date.isoformat(),
        "risk_factors": [risks[1].risk_factor_id],
    }
    data = edit_data(
        plan,
        risks=risk_rows,
        measures=[consultation, transport],
        parent_application_date=timezone.localdate().isoformat(),
    )
    response = english(client).post(reverse("plan_update", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Give the planned hours." in response.content.decode()
    assert plan.measures.count() == 0  # nothing half-saved

    consultation["planned_hours"] = "6"
    data = edit_data(
        plan,
        risks=risk_rows,
        measures=[consultation, transport],
        parent_application_date=timezone.localdate().isoformat(),
    )
    response = client.post(reverse("plan_update", args=[plan.pk]), data)
    assert response.status_code == 302
    assert plan.measures.count() == 2
    transport_measure = plan.measures.get(measure_type="compensation")
    assert str(transport_measure.planned_amount) == "120.50"
    assert list(transport_measure.risks.all()) == [risks[1]]

    client.cookies["django_language"] = "lv"
    response = client.post(reverse("plan_submit", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "Saskaņošanā" in page


def test_a_measure_period_outside_the_semester_is_refused(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    risk = add_risk(plan)
    data = edit_data(
        plan,
        risks=[{"id": risk.pk, "risk_factor": risk.risk_factor_id, "justification": "x"}],
        measures=[
            {
                "measure_type": "ngo_project",
                "responsible": cast.class_teacher.pk,
                "start_date": plan.semester.start_date.isoformat(),
                "end_date": (
                    plan.semester.end_date.replace(year=plan.semester.end_date.year + 1)
                ).isoformat(),
                "risk_factors": [risk.risk_factor_id],
            }
        ],
    )
    response = english(login(cast.class_teacher)).post(reverse("plan_update", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "within the semester" in response.content.decode()
    assert not plan.measures.exists()


def test_the_same_risk_twice_is_refused(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    row = {"risk_factor": factor("neattaisnoti-kavejumi"), "justification": "x"}
    response = english(login(cast.class_teacher)).post(
        reverse("plan_update", args=[plan.pk]), edit_data(plan, risks=[row, row])
    )
    assert "already in the plan" in response.content.decode()
    assert not PlanRisk.objects.filter(plan=plan).exists()


def test_justification_is_required(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    row = {"risk_factor": factor("neattaisnoti-kavejumi"), "justification": ""}
    response = login(cast.class_teacher).post(
        reverse("plan_update", args=[plan.pk]), edit_data(plan, risks=[row])
    )
    assert response.status_code == 200
    assert response.context["risks"].forms[0].errors["justification"]


def test_htmx_adds_a_numbered_row_and_bumps_the_form_count(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    response = login(cast.class_teacher).get(
        reverse("plan_measure_row", args=[plan.pk]), {"measures-TOTAL_FORMS": "2"}
    )
    content = response.content.decode()
    assert 'name="measures-2-measure_type"' in content
    assert 'id="id_measures-TOTAL_FORMS" value="3" hx-swap-oob="true"' in content


def test_the_plan_page_shows_planned_and_delivered_hours_and_history(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()
    Consultation.objects.create(
        measure=measure,
        date=timezone.localdate(),
        minutes=90,
        topic="Kavējumi",
        provider=cast.specialist,
    )
    response = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    measures = response.context["measures"]
    assert measures[0].delivered_hours == 1.5
    content = response.content.decode()
    assert "6,0 h" in content or "6.0 h" in content
    assert "1,5 h" in content or "1.5 h" in content


def test_the_specialist_logs_a_consultation_in_their_list(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()
    client = login(cast.specialist)
    listing = client.get(reverse("consultation_list"))
    assert [m.pk for m in listing.context["page"].object_list] == [measure.pk]
    # The specialist now sees the pupil, and only them.
    assert client.get(reverse("student_detail", args=[cast.student.pk])).status_code == 200
    assert client.get(reverse("student_detail", args=[cast.other_student.pk])).status_code == 404
    today = timezone.localdate()
    data = {
        "date": today.isoformat(),
        "minutes": 45,
        "topic": "Motivācija",
        "mode": "remote",
        "confirmation": "remote",
        "confirmed_on": today.isoformat(),
    }
    response = client.post(reverse("consultation_create", args=[measure.pk]), data)
    assert response.status_code == 302
    assert measure.consultations.get().provider == cast.specialist


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"minutes": 10}, "15 to 240"),
        ({"minutes": 300}, "15 to 240"),
        ({"date": "2999-01-01"}, "future"),
        ({"date": "2001-01-01"}, "outside the plan"),
        ({"confirmation": "remote", "confirmed_on": ""}, "Give the date the pupil confirmed"),
    ],
)
def test_consultation_validation(cast, login, change, message):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()
    data = {
        "date": timezone.localdate().isoformat(),
        "minutes": 45,
        "topic": "T",
        "mode": "in_person",
        "confirmation": "signed",
        "confirmed_on": "",
    }
    data.update(change)
    response = english(login(cast.specialist)).post(
        reverse("consultation_create", args=[measure.pk]), data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not measure.consultations.exists()


def test_coordinator_queue_and_approval(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    client = login(cast.coordinator)
    queue = client.get(reverse("plan_queue"))
    assert [p.pk for p in queue.context["page"].object_list] == [plan.pk]
    client.post(reverse("plan_approve", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS
    assert list(client.get(reverse("plan_queue")).context["page"].object_list) == []


def test_return_asks_for_a_comment(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
    )
    client = login(cast.coordinator)
    assert client.get(reverse("plan_return", args=[plan.pk])).status_code == 200
    response = client.post(reverse("plan_return", args=[plan.pk]), {"comment": ""})
    assert response.status_code == 200
    client.post(reverse("plan_return", args=[plan.pk]), {"comment": "Papildiniet mērķus"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.status_comment == "Papildiniet mērķus"


def test_plan_list_filters(cast, login):
    first = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.SUBMITTED,
    )
    second = make_plan(student=cast.other_student, preparer=cast.other_teacher)
    client = login(cast.coordinator)
    pks = lambda r: [p.pk for p in r.context["page"].object_list]  # noqa: E731
    assert set(pks(client.get(reverse("plan_list")))) == {first.pk, second.pk}
    assert pks(client.get(reverse("plan_list"), {"status": "submitted"})) == [first.pk]
    assert pks(client.get(reverse("plan_list"), {"class_group": cast.other_class.pk})) == [
        second.pk
    ]
    assert pks(client.get(reverse("plan_list"), {"preparer": cast.class_teacher.pk})) == [first.pk]
    # A teacher sees the plans of their own class only.
    assert pks(login(cast.class_teacher).get(reverse("plan_list"))) == [first.pk]


def _more_plans(cast, count):
    for i in range(count):
        student = StudentFactory(school=cast.school, last_name=f"Papild{i:02d}")
        enrol(student, cast.class_group)
        plan = ready_plan(
            student=student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.SUBMITTED,
            submitted_at=timezone.now(),
        )
        add_consultation_measure(plan, responsible=cast.class_teacher, risks=list(plan.risks.all()))


@pytest.mark.parametrize("extra", [0, 12])
def test_teacher_home_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    _more_plans(cast, extra)
    client = login(cast.class_teacher)
    # session, user, memberships, current school year, current semester, classes, their
    # enrollments with pupils, the pupils' plans of the semester, flagged pupils without a
    # plan, flagged pupils' plans without a consultation for 30 days, the guide's plans being
    # prepared, its consultation measures to log, its claims to file and its plans due for
    # evaluation, decisions on my claims, the audit row naming the pupils shown
    with django_assert_num_queries(16):
        client.get(reverse("home"))


@pytest.mark.parametrize("extra", [1, 12])
def test_queue_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    _more_plans(cast, extra)
    client = login(cast.coordinator)
    # session, user, memberships, count, page of plans with counts, the audit row and its
    # pupils (one INSERT); the home-independent nav: nothing else
    with django_assert_num_queries(6):
        client.get(reverse("plan_queue"))


@pytest.mark.parametrize("extra", [1, 12])
def test_plan_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    _more_plans(cast, extra)
    client = login(cast.coordinator)
    # session, user, memberships, current year, count, semesters, classes, preparers,
    # page of plans, the audit row naming its pupils (one INSERT)
    with django_assert_num_queries(10):
        client.get(reverse("plan_list"))


@pytest.mark.parametrize("extra", [1, 12])
def test_class_teachers_plan_list_query_count_is_fixed(
    cast, login, django_assert_num_queries, extra
):
    _more_plans(cast, extra)
    client = login(cast.class_teacher)
    # as the coordinator's: the class's pupils are a subquery of the page's query
    with django_assert_num_queries(10):
        response = client.get(reverse("plan_list"))
    assert len(response.context["page"]) == extra  # the class's pupils' plans, no other


@pytest.mark.parametrize("measures", [1, 8])
def test_plan_page_query_count_is_fixed(cast, login, django_assert_num_queries, measures):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    risks = list(plan.risks.all())
    for _ in range(measures - 1):
        measure = add_consultation_measure(plan, responsible=cast.specialist, risks=risks)
        Consultation.objects.create(
            measure=measure,
            date=timezone.localdate(),
            minutes=45,
            topic="T",
            provider=cast.specialist,
        )
    client = login(cast.class_teacher)
    client.get(reverse("plan_detail", args=[plan.pk]))  # warm caches (content types)
    with django_assert_num_queries(QUERIES_PLAN_PAGE):
        client.get(reverse("plan_detail", args=[plan.pk]))


# session, user, memberships, current year, the plan, measures with delivered minutes, their
# risks, the risk factors, risks with types, history of the plan, of its risks, of its measures,
# two "may prepare" checks (page and buttons), consultations, status changes, the audit event
# naming the pupil — whatever the number of measures
QUERIES_PLAN_PAGE = 16


def test_measures_keep_their_types_consistent(cast):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SupportMeasure.objects.create(
            plan=plan,
            measure_type="compensation",
            responsible=cast.class_teacher,
            start_date=plan.semester.start_date,
            end_date=plan.semester.end_date,
        )

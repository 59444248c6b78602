"""The register of youth NGO projects, and the plan measures that use them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import NgoProject, PlanStatus, SupportMeasure
from plans.services import NgoProjectError, PlanActionError, save_ngo_project, save_plan_content
from plans.tests.factories import add_risk, make_plan, ngo_project
from plans.tests.test_views import QUERIES_PLAN_PAGE, edit_data, english
from students.tests.factories import StudentFactory


def days(n):
    """Today and ``n`` days on (or back), as a form posts it."""
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def project_data(**changes):
    """A project that runs from a month ago to a month from now."""
    data = {
        "title": "Jauniešu iniciatīvu centrs",
        "ngo_name": "Biedrība “Jaunatne”",
        "ngo_registration_number": "40003032949",
        "contest_round": "2026/1",
        "start_date": days(-30),
        "end_date": days(30),
        "budget": "4 600,50",
        "status": "running",
        "report": "",
    }
    data.update(changes)
    return data


def test_it_adds_a_project_with_a_local_amount(cast, login):
    client = login(cast.municipality)
    response = client.post(reverse("ngo_project_create"), project_data())
    assert response.status_code == 302
    project = NgoProject.objects.get()
    assert project.municipality == cast.school.municipality
    assert project.budget == Decimal("4600.50")
    assert project.ngo_registration_number == "40003032949"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ngo_registration_number": "40003032948"}, "registration number"),
        ({"ngo_registration_number": "4000303294"}, "registration number"),
        ({"ngo_registration_number": "abc"}, "registration number"),
        # A person's code is no NGO's number.
        ({"ngo_registration_number": "161175-19997"}, "registration number"),
        ({"budget": "4.600,5.0"}, "such as 12,50"),
        ({"budget": "0"}, "greater than or equal to 0.01"),
        ({"budget": "99999999999"}, ""),
        ({"start_date": "2026-02-31"}, "valid date"),
        ({"end_date": days(-31)}, "cannot end before it starts"),
        ({"status": "finished", "end_date": days(0)}, "report before marking it finished"),
        ({"status": "closed"}, "valid choice"),
        ({"title": ""}, "required"),
    ],
)
def test_bad_input_is_refused_with_a_message(cast, login, changes, message):
    client = english(login(cast.municipality))
    response = client.post(reverse("ngo_project_create"), project_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NgoProject.objects.exists()


def test_a_finished_project_keeps_its_report(cast, login):
    project = ngo_project(municipality=cast.school.municipality)
    client = login(cast.municipality)
    response = client.post(
        reverse("ngo_project_update", args=[project.pk]),
        project_data(status="finished", report="12 jaunieši piedalījās.", end_date=days(-1)),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.status, project.report) == ("finished", "12 jaunieši piedalījās.")


def test_the_service_refuses_another_municipality_and_a_finish_without_report(cast):
    values = {
        "title": "x",
        "ngo_name": "y",
        "ngo_registration_number": "40003032949",
        "contest_round": "1",
        "start_date": timezone.localdate(),
        "end_date": timezone.localdate(),
        "budget": Decimal("1"),
        "status": "planned",
        "report": "",
    }
    with pytest.raises(NgoProjectError):
        save_ngo_project(
            project=NgoProject(),
            by=cast.municipality,
            municipality_id=cast.other_school.municipality_id,
            values=values,
        )
    with pytest.raises(NgoProjectError):
        save_ngo_project(
            project=NgoProject(),
            by=cast.municipality,
            municipality_id=cast.school.municipality_id,
            values={**values, "status": "finished"},
        )


def test_another_municipalitys_project_is_not_found(cast, login):
    project = ngo_project(municipality=cast.other_school.municipality)
    client = login(cast.municipality)
    assert client.get(reverse("ngo_project_update", args=[project.pk])).status_code == 404
    assert project.title not in client.get(reverse("ngo_project_list")).content.decode()


def test_the_list_is_empty_then_paginated(cast, login, settings):
    client = english(login(cast.municipality))
    assert "No projects yet" in client.get(reverse("ngo_project_list")).content.decode()
    settings.IAP_PAGE_SIZE = 2
    for number in range(3):
        ngo_project(municipality=cast.school.municipality, title=f"Projekts {number}")
    page = client.get(reverse("ngo_project_list")).content.decode()
    assert page.count("ngo-projects/") >= 2 and "Showing 1–2 of 3" in page


def test_school_staff_see_only_the_running_projects_of_their_municipality(cast, login):
    running = ngo_project(municipality=cast.school.municipality, title="Darbojas")
    ngo_project(municipality=cast.school.municipality, title="Iecerēts", status="planned")
    ngo_project(municipality=cast.other_school.municipality, title="Citur")
    page = login(cast.class_teacher).get(reverse("ngo_project_list")).content.decode()
    assert running.title in page
    assert "Iecerēts" not in page and "Citur" not in page
    assert reverse("ngo_project_update", args=[running.pk]) not in page
    # The staff see no participation figures.
    assert "40003032949" in page


def ngo_measure(plan, project, **changes):
    risk = plan.risks.first() or add_risk(plan)
    start = project.start_date if project else plan.semester.start_date
    end = project.end_date if project else plan.semester.end_date
    row = {
        "measure_type": "ngo_project",
        "ngo_project": project.pk if project else "",
        "responsible": plan.preparer_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "risk_factors": [risk.risk_factor_id],
        **changes,
    }
    return edit_data(
        plan,
        risks=[{"id": risk.pk, "risk_factor": risk.risk_factor_id, "justification": "x"}],
        measures=[row],
    )


def post_plan(client, plan, data):
    return english(client).post(reverse("plan_update", args=[plan.pk]), data)


def test_a_measure_names_a_running_project_of_its_municipality(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    project = ngo_project(municipality=cast.school.municipality)
    response = post_plan(login(cast.class_teacher), plan, ngo_measure(plan, project))
    assert response.status_code == 302
    measure = plan.measures.get()
    assert measure.ngo_project == project
    assert str(measure) == f"youth NGO project: {project.title}"


@pytest.mark.parametrize("which", ["planned", "finished", "other municipality", "none"])
def test_a_measure_refuses_a_project_it_may_not_use(cast, login, which):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    if which == "other municipality":
        project = ngo_project(municipality=cast.other_school.municipality)
    elif which == "none":
        project = None
    else:
        project = ngo_project(municipality=cast.school.municipality, status=which)
    response = post_plan(login(cast.class_teacher), plan, ngo_measure(plan, project))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page or "Choose the running youth NGO project" in page
    assert not plan.measures.exists()


def test_a_measure_period_must_lie_within_the_projects(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    semester = plan.semester
    project = ngo_project(
        municipality=cast.school.municipality,
        start_date=semester.start_date + timedelta(days=10),
        end_date=semester.end_date - timedelta(days=10),
    )
    data = ngo_measure(plan, project, start_date=semester.start_date.isoformat())
    response = post_plan(login(cast.class_teacher), plan, data)
    assert response.status_code == 200
    assert "within the project" in response.content.decode()
    assert not plan.measures.exists()


def test_a_measure_from_before_the_register_stays_valid(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    risk = add_risk(plan)
    old = SupportMeasure.objects.create(
        plan=plan,
        measure_type="ngo_project",
        description="Biedrības nometne",
        responsible=cast.class_teacher,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    )
    old.risks.set([risk])
    data = ngo_measure(plan, None, id=old.pk, description="Biedrības nometne, 2. daļa")
    response = post_plan(login(cast.class_teacher), plan, data)
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.ngo_project is None and old.description == "Biedrības nometne, 2. daļa"


def test_a_saved_measure_keeps_its_project_once_it_finished(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    project = ngo_project(municipality=cast.school.municipality)
    client = login(cast.class_teacher)
    assert post_plan(client, plan, ngo_measure(plan, project)).status_code == 302
    project.status, project.report = "finished", "Paveikts."
    project.save()
    measure = plan.measures.get()
    data = ngo_measure(plan, project, id=measure.pk, description="vēl")
    assert post_plan(client, plan, data).status_code == 302


def counted_ngo_pupil(cast, school, project, *, name):
    student = StudentFactory(school=school, first_name=name)
    plan = make_plan(student=student, preparer=cast.class_teacher, status=PlanStatus.APPROVED)
    plan.first_approved_at = timezone.now()
    plan.save(update_fields=["first_approved_at"])
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type="ngo_project",
        ngo_project=project,
        responsible=cast.class_teacher,
        start_date=project.start_date,
        end_date=project.end_date,
    )
    measure.risks.set([add_risk(plan)])
    return plan


def test_the_municipality_sees_pupils_per_project_and_school_with_small_counts_hidden(cast, login):
    project = ngo_project(municipality=cast.school.municipality)
    second = cast.other_school
    second.municipality = cast.school.municipality
    second.save(update_fields=["municipality"])
    for number in range(3):
        counted_ngo_pupil(cast, cast.school, project, name=f"A{number}")
    counted_ngo_pupil(cast, second, project, name="B")
    # A draft plan does not count.
    draft = counted_ngo_pupil(cast, second, project, name="C")
    draft.first_approved_at = None
    draft.save(update_fields=["first_approved_at"])
    response = login(cast.municipality).get(reverse("ngo_project_list"))
    project_row = response.context["page"].object_list[0]
    assert project_row.pupils == 4
    # 4 − 3 would give the second school's 1 away: the first school's 3 is hidden too.
    assert project_row.schools == [(cast.school.name, "x"), (second.name, "<3")]
    page = response.content.decode()
    assert f"{second.name}: &lt;3" in page and "4 600,00" in page.replace("\xa0", " ")
    # The pupils' names are not on the page.
    assert "A0" not in page and cast.student.last_name not in page


def test_a_project_of_one_or_two_pupils_shows_less_than_three(cast, login):
    project = ngo_project(municipality=cast.school.municipality)
    counted_ngo_pupil(cast, cast.school, project, name="A")
    response = login(cast.municipality).get(reverse("ngo_project_list"))
    assert response.context["page"].object_list[0].pupils == "<3"


@pytest.mark.parametrize("extra", [1, 12])
def test_register_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for number in range(extra):
        project = ngo_project(municipality=cast.school.municipality, title=f"P{number}")
        counted_ngo_pupil(cast, cast.school, project, name=f"S{number}")
    client = login(cast.municipality)
    # session, user, memberships, count, page of projects, pupils per project, pupils per
    # project and school
    with django_assert_num_queries(7):
        client.get(reverse("ngo_project_list"))


@pytest.mark.parametrize("size", [1, 4])
def test_the_plan_page_names_its_projects_in_a_fixed_number_of_queries(
    cast, login, django_assert_num_queries, size
):
    plan = make_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    risk = add_risk(plan)
    for number in range(size):
        project = ngo_project(municipality=cast.school.municipality, title=f"N{number}")
        SupportMeasure.objects.create(
            plan=plan,
            measure_type="ngo_project",
            ngo_project=project,
            responsible=cast.class_teacher,
            start_date=project.start_date,
            end_date=project.end_date,
        ).risks.set([risk])
    client = english(login(cast.class_teacher))
    client.get(reverse("plan_detail", args=[plan.pk]))  # warm caches (content types)
    # As many as without NGO measures: the measures come with their projects in one query.
    with django_assert_num_queries(QUERIES_PLAN_PAGE):
        page = client.get(reverse("plan_detail", args=[plan.pk]))
    assert "youth NGO project: N0" in page.content.decode()


# --- The status follows the dates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "start", "end", "message"),
    [
        ("planned", -1, 30, "it is no longer planned"),
        ("running", 1, 30, "until then it is planned"),
        ("running", -30, -1, "mark it finished with its report"),
        ("finished", -30, 1, "it finishes on its last day"),
    ],
    ids=["planned after its start", "running before", "running after", "finished before"],
)
def test_a_status_that_does_not_fit_the_dates_is_refused(cast, login, status, start, end, message):
    data = project_data(status=status, start_date=days(start), end_date=days(end), report="Labi.")
    response = english(login(cast.municipality)).post(reverse("ngo_project_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NgoProject.objects.exists()
    # The service refuses it too, whoever calls it.
    values = {
        **{k: data[k] for k in ("title", "ngo_name", "ngo_registration_number", "report")},
        "contest_round": "1",
        "start_date": timezone.localdate() + timedelta(days=start),
        "end_date": timezone.localdate() + timedelta(days=end),
        "budget": Decimal("100"),
        "status": status,
    }
    with pytest.raises(NgoProjectError):
        save_ngo_project(
            project=NgoProject(),
            by=cast.municipality,
            municipality_id=cast.school.municipality_id,
            values=values,
        )


@pytest.mark.parametrize(
    ("status", "start", "end"),
    [
        ("planned", 1, 30),
        ("running", 0, 0),  # its only day
        ("finished", -30, 0),  # on its last day
        ("finished", -30, -1),
    ],
)
def test_a_status_that_fits_the_dates_is_saved(cast, login, status, start, end):
    data = project_data(status=status, start_date=days(start), end_date=days(end), report="Labi.")
    response = login(cast.municipality).post(reverse("ngo_project_create"), data)
    assert response.status_code == 302
    assert NgoProject.objects.get().status == status


def test_the_register_says_when_a_status_is_out_of_date(cast, login):
    """A project still "running" after its last day is marked in the register, and no
    longer offered to plans."""
    project = ngo_project(
        municipality=cast.school.municipality,
        start_date=timezone.localdate() - timedelta(days=30),
        end_date=timezone.localdate() - timedelta(days=1),
    )
    page = english(login(cast.municipality)).get(reverse("ngo_project_list")).content.decode()
    assert "mark it finished with its report" in page
    staff = login(cast.class_teacher).get(reverse("ngo_project_list")).content.decode()
    assert project.title not in staff


# --- IKVD keeps any municipality's register ---------------------------------------------------


def test_ikvd_adds_a_project_to_the_municipality_it_picks_and_sees_every_register(cast, login):
    elsewhere = cast.other_school.municipality
    ngo_project(municipality=cast.school.municipality, title="Šeit")
    client = login(cast.agency)
    form = client.get(reverse("ngo_project_create")).content.decode()
    assert 'name="municipality"' in form and elsewhere.name in form
    # The municipality is required of IKVD.
    assert client.post(reverse("ngo_project_create"), project_data()).status_code == 200
    response = client.post(
        reverse("ngo_project_create"), project_data(title="Tur", municipality=elsewhere.pk)
    )
    assert response.status_code == 302
    added = NgoProject.objects.get(title="Tur")
    assert added.municipality == elsewhere
    listing = client.get(reverse("ngo_project_list")).content.decode()
    assert "Šeit" in listing and "Tur" in listing
    only = client.get(reverse("ngo_project_list"), {"municipality": elsewhere.pk})
    assert [p.title for p in only.context["page"].object_list] == ["Tur"]
    # IKVD edits any municipality's project; the project stays in its register.
    response = client.post(
        reverse("ngo_project_update", args=[added.pk]),
        project_data(title="Tur, labots", municipality=cast.school.municipality_id),
    )
    assert response.status_code == 302
    added.refresh_from_db()
    assert (added.title, added.municipality) == ("Tur, labots", elsewhere)


def test_a_municipal_coordinator_cannot_pick_another_municipality(cast, login):
    client = login(cast.municipality)
    assert 'name="municipality"' not in client.get(reverse("ngo_project_create")).content.decode()
    response = client.post(
        reverse("ngo_project_create"),
        project_data(municipality=cast.other_school.municipality_id),
    )
    assert response.status_code == 302
    assert NgoProject.objects.get().municipality == cast.school.municipality
    page = client.get(reverse("ngo_project_list")).content.decode()
    assert 'name="municipality"' not in page  # one register: nothing to choose


@pytest.mark.parametrize("extra", [1, 12])
def test_ikvd_register_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for number in range(extra):
        project = ngo_project(municipality=cast.other_school.municipality, title=f"P{number}")
        counted_ngo_pupil(cast, cast.other_school, project, name=f"S{number}")
    client = login(cast.agency)
    # session, user, memberships, the municipalities to choose from, count, page of projects
    # with their municipality, pupils per project, pupils per project and school
    with django_assert_num_queries(8):
        client.get(reverse("ngo_project_list"))


# --- The service holds the measure's rules, whatever posts to it -------------------------------


def save_measure(cast, plan, project, **fields):
    """What a request that skips the form would hand the service: a new NGO measure."""
    risk = plan.risks.first() or add_risk(plan)
    measure = SupportMeasure(
        plan=plan,
        measure_type="ngo_project",
        ngo_project=project,
        responsible=cast.class_teacher,
        start_date=fields.pop(
            "start_date", project.start_date if project else plan.semester.start_date
        ),
        end_date=fields.pop("end_date", project.end_date if project else plan.semester.end_date),
        **fields,
    )
    return save_plan_content(
        plan=plan,
        by=cast.class_teacher,
        risks=[],
        removed_risks=[],
        measures=[(measure, [risk.risk_factor])],
        removed_measures=[],
    )


@pytest.mark.parametrize(
    "which", ["planned", "finished", "over", "other municipality", "none", "outside its dates"]
)
def test_the_service_refuses_a_measure_with_a_project_it_may_not_use(cast, which):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    semester = plan.semester
    municipality = cast.school.municipality
    fields = {}
    if which in ("planned", "finished"):
        project = ngo_project(municipality=municipality, status=which)
    elif which == "over":  # still "running", past its last day
        project = ngo_project(
            municipality=municipality,
            start_date=timezone.localdate() - timedelta(days=20),
            end_date=timezone.localdate() - timedelta(days=1),
        )
    elif which == "other municipality":
        project = ngo_project(municipality=cast.other_school.municipality)
    elif which == "none":
        project = None
    else:
        project = ngo_project(
            municipality=municipality,
            start_date=semester.start_date + timedelta(days=10),
            end_date=semester.end_date,
        )
        fields["start_date"] = semester.start_date
    with pytest.raises(PlanActionError):
        save_measure(cast, plan, project, **fields)
    assert not plan.measures.exists()


def test_the_service_saves_a_measure_with_a_running_project_and_keeps_a_finished_one(cast):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    project = ngo_project(municipality=cast.school.municipality)
    save_measure(cast, plan, project)
    measure = plan.measures.get()
    project.status, project.report = "finished", "Paveikts."
    project.save()
    measure.description = "vēl"
    save_plan_content(
        plan=plan,
        by=cast.class_teacher,
        risks=[],
        removed_risks=[],
        measures=[(measure, [r.risk_factor for r in measure.risks.all()])],
        removed_measures=[],
    )
    assert SupportMeasure.objects.get(pk=measure.pk).description == "vēl"
    # Moving it to another finished project is no keeping.
    other = ngo_project(municipality=cast.school.municipality, status="finished", title="Cits")
    measure.ngo_project = other
    with pytest.raises(PlanActionError):
        save_plan_content(
            plan=plan,
            by=cast.class_teacher,
            risks=[],
            removed_risks=[],
            measures=[(measure, [r.risk_factor for r in measure.risks.all()])],
            removed_measures=[],
        )

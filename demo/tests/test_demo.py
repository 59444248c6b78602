"""The demo data, loaded twice in all (it takes seconds): once to check it, once more for
idempotency."""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from compensations.models import ClaimStatus, CompensationClaim
from plans.models import Consultation, PlanStatus, SupportPlan
from students.models import (
    ClassGroup,
    Enrollment,
    Membership,
    Role,
    School,
    SchoolYear,
    Semester,
    Student,
)
from students.personas_kods import normalise_personas_kods

User = get_user_model()

PUBLISHED = [
    ["2017/2018", "I", "10"],
    ["2017/2018", "II", "11"],
    ["2018/2019", "I", "13"],
    ["2018/2019", "II", "19"],
    ["2019/2020", "I", "17"],
    ["2019/2020", "II", "23"],
    ["2020/2021", "I", "20"],
    ["2020/2021", "II", "16"],
]


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def counts():
    models = (School, ClassGroup, Student, Enrollment, Membership, User, SupportPlan)
    return tuple(model.objects.count() for model in models) + (CompensationClaim.objects.count(),)


def test_the_demo_school_is_complete(demo, client):
    school = School.objects.get(name="Preiļu 1.pamatskola")
    assert school.municipality.name == "Preiļu novads"
    active = Student.objects.filter(school=school, status=Student.Status.ACTIVE).count()
    assert 100 <= active <= 140
    grades = set(ClassGroup.objects.filter(school=school).values_list("grade", flat=True))
    assert grades == {5, 6, 7, 8, 9}
    demo_users = ["koordinators", "audzinataja", "socpedagogs", "psihologs", "pasvaldiba", "ikvd"]
    roles = dict(
        Membership.objects.filter(user__username__in=demo_users).values_list(
            "user__username", "role"
        )
    )
    assert roles == {
        "koordinators": Role.COORDINATOR,
        "audzinataja": Role.CLASS_TEACHER,
        "socpedagogs": Role.SOCIAL_PEDAGOGUE,
        "psihologs": Role.SPECIALIST,
        "pasvaldiba": Role.MUNICIPALITY,
        "ikvd": Role.AGENCY,
    }
    for code in Student.objects.exclude(personas_kods="").values_list("personas_kods", flat=True):
        assert normalise_personas_kods(code) == code

    years = list(SchoolYear.objects.order_by("start_year").values_list("start_year", flat=True))
    assert years[0] == 2017 and years[-1] == SchoolYear.objects.current().start_year
    assert all(y.semesters.count() == 2 for y in SchoolYear.objects.all())

    # The current semester has plans in every status but "evaluated"; claims in every status.
    current = Semester.objects.current()
    statuses = set(SupportPlan.objects.filter(semester=current).values_list("status", flat=True))
    assert statuses >= {
        PlanStatus.DRAFT,
        PlanStatus.SUBMITTED,
        PlanStatus.IN_PROGRESS,
        PlanStatus.REVISION,
        PlanStatus.SUSPENDED,
        PlanStatus.INACTIVE,
    }
    assert set(CompensationClaim.objects.values_list("status", flat=True)) == set(ClaimStatus)

    # audzinataja logs in with the demo password and sees her class.
    response = client.post(reverse("login"), {"username": "audzinataja", "password": "demo"})
    assert response.status_code == 302
    my_classes = list(client.get(reverse("home")).context["my_classes"])
    assert [g.label for g in my_classes] == ["7.a"]
    assert len(my_classes[0].enrollments.all()) >= 20

    # The participation report gives the school's published figures, computed from the plans.
    client.force_login(User.objects.get(username="koordinators"))
    response = client.get(reverse("participation_report"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    # Its first section: the pupils per semester, a school year a row, as the school publishes.
    assert rows[:2] == [["Izglītojamie projektā"], ["Mācību gads", "I semestris", "II semestris"]]
    by_semester = [
        [year, n, count]
        for year, *counts in rows[2:6]
        for n, count in zip(("I", "II"), counts, strict=True)
    ]
    assert by_semester == PUBLISHED


def test_running_it_twice_changes_nothing(demo):
    before = counts()
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    assert counts() == before
    # `make run` shows these lines: each demo login once, and the Makefile adds no second list.
    assert output.getvalue().count("audzinataja") == 1
    recipe = run_recipe()
    assert "audzinataja" not in recipe and "load_demo" in recipe


def run_recipe():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    return makefile.split("\nrun: ")[1].split("\n\n")[0]


def test_make_run_starts_one_worker_outside_an_auto_reloader():
    recipe = run_recipe()
    (worker,) = [line for line in recipe.splitlines() if "db_worker" in line and "$(PY)" in line]
    assert "--no-reload" in worker and worker.rstrip().endswith("\\")
    assert "trap 'kill $$worker" in recipe  # and it stops with the server


def test_the_demos_past_consultations_are_signed(demo):
    assert Consultation.objects.exists()
    assert not Consultation.objects.exclude(confirmation=Consultation.Confirmation.SIGNED).exists()


def test_it_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("load_demo")
    assert not School.objects.exists()


def test_the_second_municipality_has_plans_waiting_at_every_level(demo, client):
    from students.models import ApprovalLevel, ApprovalRoute

    schools = {s.name: s for s in School.objects.filter(municipality__name="Līvānu novads")}
    assert {s.route for s in schools.values()} == {ApprovalRoute.MUNICIPALITY, ApprovalRoute.AGENCY}
    waiting = set(
        SupportPlan.objects.filter(
            school__in=schools.values(), status=PlanStatus.SUBMITTED
        ).values_list("approval_level", flat=True)
    )
    assert waiting == set(ApprovalLevel)
    # Plans approved through the whole route count; Preiļu's route stays "school only".
    assert SupportPlan.objects.filter(
        school__in=schools.values(), first_approved_at__isnull=False
    ).exists()
    assert School.objects.get(name="Preiļu 1.pamatskola").route == ApprovalRoute.SCHOOL
    response = client.post(reverse("login"), {"username": "pasvaldiba2", "password": "demo"})
    assert response.status_code == 302
    queue = client.get(reverse("approval_queue"))
    assert len(queue.context["page"].object_list) == 3
    assert any(plan.is_late for plan in queue.context["page"].object_list)


def test_the_second_municipality_has_two_ngo_projects_with_participants(demo, client):
    from plans.models import NgoProject

    projects = NgoProject.objects.filter(municipality__name="Līvānu novads")
    assert projects.count() == 2
    assert set(projects.values_list("status", flat=True)) == {NgoProject.Status.RUNNING}
    assert not NgoProject.objects.exclude(municipality__name="Līvānu novads").exists()
    client.post(reverse("login"), {"username": "pasvaldiba2", "password": "demo"})
    page = client.get(reverse("ngo_project_list"))
    pupils = {p.title: p.pupils for p in page.context["page"].object_list}
    # The approved plans count (the pupils 6 and 7 of both schools).
    assert pupils == {"Līvānu jauniešu iniciatīvu centrs": 4, "Dubnas krasta brīvprātīgie": "<3"}


def test_each_demo_school_has_an_allocation_and_one_is_near_its_limit(demo, client):
    from decimal import Decimal

    from budgets import figures
    from budgets.models import Allocation

    year = SchoolYear.objects.current()
    allocated = {a.school.name: a for a in Allocation.objects.filter(school_year=year)}
    assert set(allocated) == set(School.objects.values_list("name", flat=True))
    assert allocated["Līvānu 1. vidusskola"].set_by.username == "pasvaldiba2"
    near = figures.school_budget(School.objects.get(name="Līvānu 1. vidusskola"), year)
    assert Decimal("0") < near.figures.unplanned <= Decimal("200")
    # In the municipal coordinator's queue, some waiting plans fit and some go over.
    client.post(reverse("login"), {"username": "pasvaldiba2", "password": "demo"})
    states = {p.budget_state for p in client.get(reverse("approval_queue")).context["page"]}
    assert states == {"within", "over"}
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "koordinators", "password": "demo"})
    assert client.get(reverse("school_budget")).status_code == 200


def test_the_demo_has_payees_batches_and_the_accountant(demo, client):
    from payments.iban import normalise_iban, normalise_registration_number
    from payments.models import BatchStatus, LineOutcome, Payee, PaymentBatch
    from payments.sepa import bank_file

    school = School.objects.get(name="Preiļu 1.pamatskola")
    for iban in Payee.objects.values_list("iban", flat=True):
        assert normalise_iban(iban) == iban
    caterer = Payee.objects.get(kind=Payee.Kind.ORGANISATION)
    assert normalise_registration_number(caterer.registration_number)
    batches = {b.status: b for b in PaymentBatch.objects.filter(school=school)}
    assert set(batches) == {BatchStatus.CLOSED, BatchStatus.SENT}
    outcomes = set(batches[BatchStatus.CLOSED].lines.values_list("outcome", flat=True))
    assert outcomes == {LineOutcome.PAID, LineOutcome.REFUSED}
    assert batches[BatchStatus.SENT].lines.filter(outcome=LineOutcome.PENDING).exists()
    # Paid lines are claims paid already, refused and waiting ones approved claims.
    for line in PaymentBatch.objects.get(status=BatchStatus.CLOSED).lines.select_related("claim"):
        expected = ClaimStatus.PAID if line.outcome == LineOutcome.PAID else ClaimStatus.APPROVED
        assert line.claim.status == expected
    assert bank_file(batches[BatchStatus.SENT]).startswith(b"<?xml")
    response = client.post(reverse("login"), {"username": "gramatvede", "password": "demo"})
    assert response.status_code == 302
    page = client.get(reverse("batch_incoming"))
    assert page.status_code == 200 and len(page.context["page"].object_list) == 2


def test_each_demo_person_of_the_school_finds_notifications_under_the_bell(demo, client):
    from notifications.models import Notification

    before = Notification.objects.count()
    for username in ("audzinataja", "koordinators", "socpedagogs", "psihologs"):
        user = User.objects.get(username=username)
        client.force_login(user)
        bell = client.get(reverse("notification_bell")).content.decode()
        assert "badge" in bell, username
        page = client.get(reverse("notification_list"))
        assert page.status_code == 200
        for notification in Notification.objects.filter(recipient=user):
            assert client.get(notification.url).status_code == 200, notification.url
    call_command("load_demo", stdout=io.StringIO())
    assert Notification.objects.count() == before

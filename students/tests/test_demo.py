import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from students.models import ClassGroup, Enrollment, Membership, Role, School, Student

User = get_user_model()


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=None)


def counts():
    return tuple(
        model.objects.count()
        for model in (School, ClassGroup, Student, Enrollment, Membership, User)
    )


def test_it_creates_the_demo_school_and_users(demo):
    school = School.objects.get(name="Preiļu 1.pamatskola")
    assert school.municipality.name == "Preiļu novads"
    active = Student.objects.filter(school=school, status=Student.Status.ACTIVE).count()
    assert 100 <= active <= 140
    grades = set(ClassGroup.objects.filter(school=school).values_list("grade", flat=True))
    assert grades == {5, 6, 7, 8, 9}
    roles = dict(
        Membership.objects.filter(
            user__username__in=[
                "koordinators",
                "audzinataja",
                "socpedagogs",
                "psihologs",
                "pasvaldiba",
                "ikvd",
            ]
        ).values_list("user__username", "role")
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
        from students.personas_kods import normalise_personas_kods

        assert normalise_personas_kods(code) == code


def test_it_covers_every_school_year_since_2017(demo):
    from students.models import SchoolYear

    years = list(SchoolYear.objects.order_by("start_year").values_list("start_year", flat=True))
    assert years[0] == 2017
    assert years[-1] == SchoolYear.objects.current().start_year
    assert all(y.semesters.count() == 2 for y in SchoolYear.objects.all())


def test_running_it_twice_changes_nothing(demo):
    before = counts()
    call_command("load_demo", stdout=None)
    assert counts() == before


def test_audzinataja_logs_in_with_the_demo_password_and_sees_her_class(demo, client):
    response = client.post(reverse("login"), {"username": "audzinataja", "password": "demo"})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    my_classes = list(home.context["my_classes"])
    assert [g.label for g in my_classes] == ["7.a"]
    assert len(my_classes[0].enrollments.all()) >= 20


def test_it_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("load_demo")
    assert not School.objects.exists()

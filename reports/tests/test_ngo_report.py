"""The participation report's table of youth NGO projects, at every level."""

from decimal import Decimal

from django.urls import reverse

from plans.models import SupportMeasure
from plans.tests.factories import ngo_project
from reports import participation
from reports.tests.test_reports import counted, pupils
from students.models import School, Semester
from students.tests.factories import ClassGroupFactory


def takes_part(plan, project):
    measure = SupportMeasure.objects.create(
        plan=plan,
        measure_type="ngo_project",
        ngo_project=project,
        responsible=plan.preparer,
        start_date=project.start_date,
        end_date=project.end_date,
    )
    measure.risks.set(plan.risks.all())


def projects_table(tables):
    """{project title: pupils}; each row names the project's municipality too, and shows the
    project's budget."""
    (table,) = [t for t in tables if str(t.title) == "Jauniešu NVO projekti"]
    assert [str(c) for c in table.columns] == ["Projekts", "Budžets, EUR", "Izglītojamie"]
    names = {}
    for label, budget, count in table.rows:
        title, municipality = label.rstrip(")").split(" (")
        assert budget == BUDGETS[title], (title, budget)
        names[title] = (municipality, str(count))
    return names


BUDGETS = {"Lielais": Decimal("4600.00"), "Mazais": Decimal("3150.50"), "Citur": Decimal("4600.00")}


def setup(cast):
    big = ngo_project(municipality=cast.school.municipality, title="Lielais")
    small = ngo_project(
        municipality=cast.school.municipality, title="Mazais", budget=BUDGETS["Mazais"]
    )
    elsewhere = ngo_project(municipality=cast.other_school.municipality, title="Citur")
    for student in pupils(cast, 3):
        takes_part(counted(cast, student), big)
    takes_part(counted(cast, cast.student), small)
    other_class = ClassGroupFactory(school=cast.other_school, school_year=cast.year)
    for student in pupils(cast, 4, school=cast.other_school, class_group=other_class):
        takes_part(counted(cast, student), elsewhere)
    # A measure from before the register names no project, and is not in the table.
    takes_part_without = counted(cast, cast.other_student)
    SupportMeasure.objects.create(
        plan=takes_part_without,
        measure_type="ngo_project",
        responsible=cast.class_teacher,
        start_date=big.start_date,
        end_date=big.end_date,
    )


def test_the_school_sees_its_pupils_per_project_exactly(cast):
    setup(cast)
    tables = participation.semester_breakdowns(
        School.objects.filter(pk=cast.school.pk), Semester.objects.current()
    )
    here = cast.school.municipality.name
    assert projects_table(tables) == {"Lielais": (here, "3"), "Mazais": (here, "1")}
    assert str(tables[-1].title) == "Jauniešu NVO projekti"


def test_the_municipality_and_the_country_see_the_projects_with_small_counts_hidden(cast, login):
    setup(cast)
    here, there = cast.school.municipality.name, cast.other_school.municipality.name
    own = login(cast.municipality).get(reverse("participation_report"))
    assert projects_table(own.context["tables"]) == {"Lielais": (here, "3"), "Mazais": (here, "<3")}
    assert "Jauniešu NVO projekti" in own.content.decode()
    country = login(cast.agency).get(reverse("participation_report"))
    assert projects_table(country.context["tables"]) == {
        "Citur": (there, "4"),
        "Lielais": (here, "3"),
        "Mazais": (here, "<3"),
    }


def test_the_coordinators_report_page_shows_the_table(cast, login):
    setup(cast)
    page = login(cast.coordinator).get(reverse("participation_report"))
    here = cast.school.municipality.name
    assert projects_table(page.context["tables"]) == {"Lielais": (here, "3"), "Mazais": (here, "1")}


def test_the_report_page_shows_each_projects_budget(cast, login):
    """The budget stands beside a project of "<3" pupils too: it is the project's."""
    setup(cast)
    page = login(cast.municipality).get(reverse("participation_report")).content.decode()
    assert "Budžets, EUR" in page
    assert "3 150,50" in page or "3\xa0150,50" in page

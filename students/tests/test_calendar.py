import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from students.calendar import current_start_year, semester_dates
from students.forms import SchoolYearForm
from students.models import Role, SchoolYear, Semester
from students.services import create_school_year
from students.tests.factories import MembershipFactory, SchoolYearFactory


def english(client):
    client.cookies["django_language"] = "en"
    return client


def year_data(start_year, **overrides):
    """A valid form for the year, with the suggested dates."""
    (first_start, first_end), (second_start, second_end) = semester_dates(start_year)
    data = {
        "start_year": start_year,
        "first_start": first_start.isoformat(),
        "first_end": first_end.isoformat(),
        "second_start": second_start.isoformat(),
        "second_end": second_end.isoformat(),
    }
    data.update(overrides)
    return data


def dates_of(year):
    return [(s.start_date, s.end_date) for s in year.semesters.order_by("number")]


# --- The list -------------------------------------------------------------------------------


def test_it_lists_the_years_newest_first_with_latvian_dates(cast, login):
    y = cast.year.start_year
    response = login(cast.coordinator).get(reverse("calendar"))
    assert [year.start_year for year in response.context["years"]] == [y, y - 1]
    content = response.content.decode()
    # The factory's calendar: I 1.09.–31.12., II 1.01.–31.08.
    assert f"1.09.{y}&nbsp;–&nbsp;31.12.{y}" in content
    assert f"1.01.{y + 1}&nbsp;–&nbsp;31.08.{y + 1}" in content
    assert content.index(cast.year.name) < content.index(cast.last_year.name)


def test_it_marks_the_current_year(cast, login):
    content = login(cast.coordinator).get(reverse("calendar")).content.decode()
    current_rows = re.findall(r'<tr class="table-primary"[^>]*>\s*<th[^>]*>([^<]*)', content)
    assert [row.strip() for row in current_rows] == [cast.year.name]


def test_agency_reads_the_calendar_but_has_no_way_to_change_it(cast, login):
    response = login(cast.agency).get(reverse("calendar"))
    assert response.status_code == 200
    content = response.content.decode()
    assert cast.year.name in content
    assert reverse("calendar_create") not in content
    assert reverse("calendar_update", args=[cast.year.pk]) not in content


def test_coordinators_find_the_calendar_from_the_menu_and_the_class_list(cast, login):
    client = login(cast.coordinator)
    assert f'href="{reverse("calendar")}"' in client.get(reverse("home")).content.decode()
    assert f'href="{reverse("calendar")}"' in client.get(reverse("class_list")).content.decode()
    client.force_login(cast.class_teacher)
    assert f'href="{reverse("calendar")}"' not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("extra", [0, 10])
def test_calendar_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for start_year in range(2000, 2000 + extra):
        SchoolYearFactory(start_year=start_year)
    client = login(cast.coordinator)
    # session, user, memberships, school years, their semesters, current year
    with django_assert_num_queries(6):
        response = client.get(reverse("calendar"))
    assert len(response.context["years"]) == 2 + extra


# --- Adding a year --------------------------------------------------------------------------


def test_semester_dates_follow_the_shape_of_the_cabinets_calendar():
    assert semester_dates(2025) == (
        (date(2025, 9, 1), date(2025, 12, 19)),  # 20.12.2025 is a Saturday
        (date(2026, 1, 6), date(2026, 5, 29)),  # 31.05.2026 is a Sunday
    )
    assert semester_dates(2024)[0][0] == date(2024, 9, 2)  # 1.09.2024 is a Sunday


def test_the_form_suggests_the_year_after_the_newest_and_its_dates(cast, login):
    next_year = cast.year.start_year + 1
    response = login(cast.coordinator).get(reverse("calendar_create"))
    form = response.context["form"]
    assert form["start_year"].value() == next_year
    (first_start, first_end), (second_start, second_end) = semester_dates(next_year)
    assert form["first_start"].value() == first_start
    assert form["second_end"].value() == second_end
    content = response.content.decode()
    for day in (first_start, first_end, second_start, second_end):
        assert f'value="{day.isoformat()}"' in content


def test_without_any_year_the_form_suggests_the_current_one(db, client):
    coordinator = MembershipFactory(role=Role.COORDINATOR).user
    client.force_login(coordinator)
    form = client.get(reverse("calendar_create")).context["form"]
    assert form["start_year"].value() == current_start_year(timezone.localdate())


def test_coordinator_adds_a_school_year_with_both_semesters(cast, login):
    next_year = cast.year.start_year + 1
    client = english(login(cast.coordinator))
    response = client.post(reverse("calendar_create"), year_data(next_year))
    assert response.status_code == 302
    assert response["Location"] == reverse("calendar")
    year = SchoolYear.objects.get(start_year=next_year)
    assert dates_of(year) == list(semester_dates(next_year))
    content = client.get(reverse("calendar")).content.decode()
    assert f"The school year {year.name} was added." in content


def test_a_coordinator_of_any_school_may_add_a_year(cast, login):
    response = login(cast.other_coordinator).post(
        reverse("calendar_create"), year_data(cast.year.start_year + 1)
    )
    assert response.status_code == 302


def test_a_year_that_exists_is_refused(cast, login):
    response = english(login(cast.coordinator)).post(
        reverse("calendar_create"), year_data(cast.year.start_year)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["start_year"] == [
        f"The school year {cast.year.name} already exists."
    ]
    assert SchoolYear.objects.count() == 2


def test_a_year_that_exists_still_gets_its_dates_checked(cast, login):
    y = cast.year.start_year
    errors = (
        english(login(cast.coordinator))
        .post(reverse("calendar_create"), year_data(y, second_end=f"{y + 3}-05-31"))
        .context["form"]
        .errors
    )
    assert "already exists" in errors["start_year"][0]
    assert errors["second_end"] == [f"Semester II ends in {y + 1}."]


def test_a_year_added_by_someone_else_meanwhile_is_refused_too(cast, login, monkeypatch):
    next_year = cast.year.start_year + 1

    def someone_else_saves_it(form):
        # Another coordinator saves the same year after this form checked it.
        SchoolYearFactory(start_year=next_year)

    monkeypatch.setattr(SchoolYearForm, "_post_clean", someone_else_saves_it)
    response = english(login(cast.coordinator)).post(
        reverse("calendar_create"), year_data(next_year, first_start=f"{next_year}-09-07")
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    theirs = SchoolYear.objects.get(start_year=next_year)
    assert dates_of(theirs)[0] == (date(next_year, 9, 1), date(next_year, 12, 31))
    assert Semester.objects.count() == 6


def test_the_service_adds_nothing_when_the_year_exists(cast):
    with pytest.raises(ValidationError):
        create_school_year(
            start_year=cast.year.start_year,
            first_semester=(date(2030, 9, 2), date(2030, 12, 20)),
            second_semester=(date(2031, 1, 6), date(2031, 5, 30)),
        )
    assert Semester.objects.count() == 4


# One case per rule: (what is wrong, the field it is reported on, the message).
RULES = [
    (
        lambda y: {"first_end": f"{y}-09-01", "first_start": f"{y}-09-01"},
        "first_end",
        lambda y: "The semester must end after it starts.",
    ),
    (
        lambda y: {"second_start": f"{y + 1}-05-29", "second_end": f"{y + 1}-01-06"},
        "second_end",
        lambda y: "The semester must end after it starts.",
    ),
    (
        lambda y: {"second_start": f"{y}-12-10"},
        "second_start",
        lambda y: "Semester II must start after semester I ends.",
    ),
    (
        lambda y: {"first_start": f"{y}-07-31"},
        "first_start",
        lambda y: f"Semester I starts between 1 August and 31 December {y}.",
    ),
    (
        lambda y: {"first_start": f"{y + 1}-01-02", "first_end": f"{y + 1}-01-03"},
        "first_start",
        lambda y: f"Semester I starts between 1 August and 31 December {y}.",
    ),
    (
        lambda y: {"second_end": f"{y + 2}-01-15"},
        "second_end",
        lambda y: f"Semester II ends in {y + 1}.",
    ),
    (
        # The year before (the cast's current year) ends on 31.08.
        lambda y: {"first_start": f"{y}-08-15"},
        "first_start",
        lambda y: f"Semester I must start after the school year {y - 1}/{y} ends (31.08.{y}).",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), RULES)
def test_each_calendar_rule_is_explained_and_nothing_is_saved(cast, login, change, field, message):
    y = cast.year.start_year + 1
    response = english(login(cast.coordinator)).post(
        reverse("calendar_create"), year_data(y, **change(y))
    )
    assert response.status_code == 200
    assert message(y) in response.context["form"].errors[field]
    assert message(y) in response.content.decode()
    assert not SchoolYear.objects.filter(start_year=y).exists()


def test_a_year_must_end_before_the_next_one_starts(cast, login):
    y = cast.last_year.start_year - 1  # the year before last_year, which starts on 1.09.
    response = english(login(cast.coordinator)).post(
        reverse("calendar_create"), year_data(y, second_end=f"{y + 1}-09-01")
    )
    assert response.context["form"].errors["second_end"] == [
        f"Semester II must end before the school year {y + 1}/{y + 2} starts (1.09.{y + 1})."
    ]


@pytest.mark.parametrize(
    "data",
    [
        dict.fromkeys(["start_year", "first_start", "first_end", "second_start", "second_end"], ""),
        {"start_year": "abc", "first_start": "x", "first_end": "31.02.2026"},
        {"start_year": "1999"},
        {"start_year": "99999999999999999999999"},
        {"start_year": "2101"},
        {"first_start": "0000-00-00", "second_end": "9999-12-31"},
        {"start_year": "-5", "second_start": "2026-13-01"},
    ],
)
def test_bad_input_is_explained_never_a_server_error(cast, login, data):
    base = year_data(cast.year.start_year + 1)
    response = login(cast.coordinator).post(reverse("calendar_create"), {**base, **data})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert SchoolYear.objects.count() == 2
    response = login(cast.coordinator).post(
        reverse("calendar_update", args=[cast.year.pk]), {**base, **data}
    )
    assert response.status_code == 200


# --- Editing a year -------------------------------------------------------------------------


def test_the_edit_form_shows_the_years_dates(cast, login):
    form = (
        login(cast.coordinator).get(reverse("calendar_update", args=[cast.year.pk])).context["form"]
    )
    assert "start_year" not in form.fields
    assert form["first_start"].value() == date(cast.year.start_year, 9, 1)
    assert form["second_end"].value() == date(cast.year.start_year + 1, 8, 31)


def test_coordinator_edits_the_dates_of_a_year(cast, login):
    y = cast.year.start_year
    client = english(login(cast.coordinator))
    response = client.post(reverse("calendar_update", args=[cast.year.pk]), year_data(y))
    assert response.status_code == 302
    assert dates_of(cast.year) == list(semester_dates(y))
    assert SchoolYear.objects.count() == 2
    assert f"The dates of the school year {cast.year.name} were saved." in (
        client.get(reverse("calendar")).content.decode()
    )


def test_an_edit_follows_the_same_rules(cast, login):
    y = cast.year.start_year
    response = english(login(cast.coordinator)).post(
        reverse("calendar_update", args=[cast.year.pk]),
        year_data(y, second_end=f"{y + 2}-05-31"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["second_end"] == [f"Semester II ends in {y + 1}."]
    assert cast.year.second_semester.end_date == date(y + 1, 8, 31)


def test_an_edit_adds_a_semester_that_is_missing(cast, login):
    cast.year.semesters.filter(number=Semester.Number.SECOND).delete()
    y = cast.year.start_year
    login(cast.coordinator).post(reverse("calendar_update", args=[cast.year.pk]), year_data(y))
    assert dates_of(cast.year) == list(semester_dates(y))


def test_editing_a_year_that_does_not_exist_is_not_found(cast, login):
    response = login(cast.coordinator).get(reverse("calendar_update", args=[999999]))
    assert response.status_code == 404

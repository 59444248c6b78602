"""The budget pages: the school's budget, the table per school and municipality, the
allocations page (money in Latvian, nothing lost on bad input, history with who set it), the
budget context on the approval pages and the queue's "status of budget" filter; query counts
pinned at two sizes."""

from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import Allocation, OverBudgetApproval
from budgets.services import AllocationError, AllocationValues, set_allocations
from budgets.tests.helpers import allocate, approved_plan, claim, compensation, pupil
from compensations.models import ClaimStatus
from plans import services
from plans.models import CompensationCategory, PlanStatus, SupportPlan
from plans.tests.factories import ready_plan
from students.models import ApprovalLevel, ApprovalRoute, Municipality
from students.tests.factories import SchoolFactory

T = CompensationCategory.TRANSPORT_TICKETS
M = CompensationCategory.MEALS


@pytest.fixture
def semester(cast):
    return cast.year.semesters.get(number=1)


def fresh(plan):
    return SupportPlan.objects.select_related("school__municipality", "semester").get(pk=plan.pk)


def text(response):
    return response.content.decode()


# --- The school's budget --------------------------------------------------------------------


def test_the_school_page_shows_the_figures_and_says_what_remaining_means(cast, semester, login):
    allocate(cast.school, cast.year, "1000.00", by=cast.agency)
    plan = approved_plan(cast, semester=semester, compensations=[(T, "200.00")])
    claim(plan.measures.get(compensation_category=T), "50.00", ClaimStatus.PAID, by=cast.agency)
    page = text(login(cast.coordinator).get(reverse("school_budget")))
    # Latvian money: a no-break space groups the thousands.
    for figure in ("1\xa0000,00 €", "200,00 €", "50,00 €", "950,00 €", "800,00 €"):
        assert figure in page, figure
    assert "Atlikums (piešķirts − apstiprināts pieteikumos)" in page
    assert "Vēl neplānots (piešķirts − plānots)" in page


def test_a_school_without_an_allocation_says_so(cast, login):
    page = text(login(cast.social_pedagogue).get(reverse("school_budget")))
    assert "Šim mācību gadam piešķīrums nav noteikts" in page


def test_a_school_page_outside_ones_scope_is_not_found(cast, login):
    client = login(cast.coordinator)
    url = reverse("school_budget")
    assert client.get(f"{url}?school={cast.other_school.pk}").status_code == 404
    assert client.get(f"{url}?school=abc").status_code == 404
    assert client.get(f"{url}?year=1999").status_code == 404
    assert client.get(f"{url}?year=20x6").status_code == 404


def test_the_municipality_opens_its_schools_budget_but_not_another_municipalitys(cast, login):
    far = SchoolFactory(name="Tālā skola", municipality=Municipality.objects.create(name="Tālais"))
    client = login(cast.municipality)
    url = reverse("school_budget")
    assert client.get(f"{url}?school={cast.school.pk}").status_code == 200
    assert client.get(f"{url}?school={far.pk}").status_code == 404
    assert login(cast.agency).get(f"{url}?school={far.pk}").status_code == 200


@pytest.mark.parametrize("plans", [1, 6])
def test_the_school_page_query_count_is_fixed(
    cast, semester, login, django_assert_num_queries, plans
):
    allocate(cast.school, cast.year, "1000.00", by=cast.agency)
    for _ in range(plans):
        plan = approved_plan(cast, semester=semester, compensations=[(T, "20.00"), (M, "5.00")])
        claim(plan.measures.get(compensation_category=T), "10.00", by=cast.agency)
    client = login(cast.coordinator)
    # session, user, memberships, the current year, the school, the allocation, the
    # semesters, planned sums, claims' sums, hours planned, hours delivered, the school years
    # to choose from, the approvals over budget, the allocation's history
    with django_assert_num_queries(14):
        client.get(reverse("school_budget"))


# --- The table per school and municipality --------------------------------------------------


def test_the_table_shows_the_schools_of_the_municipality_only(cast, semester, login):
    far = SchoolFactory(name="Tālā skola", municipality=Municipality.objects.create(name="Tālais"))
    allocate(cast.school, cast.year, "1000.00", by=cast.agency)
    page = text(login(cast.municipality).get(reverse("budget_table")))
    assert cast.school.name in page and far.name not in page
    assert cast.school.municipality.name in page
    assert far.name in text(login(cast.agency).get(reverse("budget_table")))


@pytest.mark.parametrize("schools", [1, 7])
def test_the_table_query_count_is_fixed(cast, semester, login, django_assert_num_queries, schools):
    for i in range(schools):
        school = SchoolFactory(name=f"Skola {i}", municipality=cast.school.municipality)
        allocate(school, cast.year, "100.00", by=cast.agency)
        plan = approved_plan(
            cast, semester=semester, compensations=[(T, "20.00")], student=pupil(school)
        )
        claim(plan.measures.get(compensation_category=T), "10.00", by=cast.agency)
    client = login(cast.agency)
    # session, user, memberships, the current year, the schools, their allocations, the
    # planned sums, the claims' sums, the school years to choose from
    with django_assert_num_queries(9):
        client.get(reverse("budget_table"))


# --- Setting allocations --------------------------------------------------------------------


def allocation_post(client, school, compensations, hours="", year=None):
    url = reverse("allocation_list") + (f"?year={year.start_year}" if year else "")
    return client.post(
        url,
        {
            f"s{school.pk}-shown": "1",
            f"s{school.pk}-compensations": compensations,
            f"s{school.pk}-consultation_hours": hours,
        },
        follow=True,
    )


def test_the_municipality_sets_an_allocation_typed_the_latvian_way(cast, login):
    client = login(cast.municipality)
    response = allocation_post(client, cast.school, "1 234,50", "12,5")
    allocation = Allocation.objects.get(school=cast.school, school_year=cast.year)
    assert (allocation.compensations, allocation.consultation_hours) == (
        Decimal("1234.50"),
        Decimal("12.5"),
    )
    assert allocation.set_by == cast.municipality
    assert "Saglabāts 1 piešķīrums." in text(response)
    allocation_post(client, cast.school, "1 000")
    history = list(
        Allocation.history.filter(school=cast.school)
        .order_by("history_date")
        .values_list("compensations", "history_user")
    )
    assert history == [
        (Decimal("1234.50"), cast.municipality.pk),
        (Decimal("1000.00"), cast.municipality.pk),
    ]
    page = text(client.get(reverse("allocation_list")))
    assert 'value="1000,00"' in page  # the Latvian way, read back by the same field


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Ievadiet skaitli"),
        ("-5", "Piešķīrums nevar būt negatīvs."),
        ("12,345", "ne vairāk kā 2 cipari aiz komata"),
        ("1.234,50", "Ievadiet skaitli"),
        ("99999999", "Piešķīrums ir pārāk liels"),
    ],
)
def test_bad_input_saves_nothing_and_keeps_what_was_typed(cast, login, typed, message):
    allocate(cast.other_school, cast.year, "10.00", by=cast.agency)
    client = login(cast.agency)
    response = client.post(
        reverse("allocation_list"),
        {
            f"s{cast.school.pk}-shown": "1",
            f"s{cast.school.pk}-compensations": typed,
            f"s{cast.other_school.pk}-shown": "1",
            f"s{cast.other_school.pk}-compensations": "20,00",
        },
    )
    page = text(response)
    assert response.status_code == 200
    assert message in page and f'value="{typed}"' in page and 'value="20,00"' in page
    assert "Nekas netika saglabāts" in page
    assert Allocation.objects.get(school=cast.other_school).compensations == Decimal("10.00")
    assert not Allocation.objects.filter(school=cast.school).exists()


def test_hours_alone_are_refused(cast, login):
    response = allocation_post(login(cast.agency), cast.school, "", "10")
    assert "Norādiet arī piešķīrumu kompensācijām" in text(response)
    assert not Allocation.objects.exists()


def test_an_empty_amount_removes_the_allocation_and_its_history_says_who(cast, login):
    allocate(cast.school, cast.year, "10.00", by=cast.agency)
    allocation_post(login(cast.municipality), cast.school, "")
    assert not Allocation.objects.exists()
    removed = Allocation.history.filter(school=cast.school).latest("history_date")
    assert (removed.history_type, removed.history_user) == ("-", cast.municipality)


def test_a_row_the_page_did_not_show_is_left_alone(cast, login):
    allocate(cast.school, cast.year, "10.00", by=cast.agency)
    login(cast.agency).post(reverse("allocation_list"), {})
    assert Allocation.objects.get().compensations == Decimal("10.00")


def test_the_municipality_sets_only_its_own_schools(cast, login):
    far = SchoolFactory(name="Tālā skola", municipality=Municipality.objects.create(name="Tālais"))
    page = text(login(cast.municipality).get(reverse("allocation_list")))
    assert cast.school.name in page and far.name not in page
    allocation_post(login(cast.municipality), far, "100")
    assert not Allocation.objects.filter(school=far).exists()
    with pytest.raises(AllocationError):
        set_allocations(
            school_year=cast.year, values={far: AllocationValues(Decimal(1))}, by=cast.municipality
        )


def test_an_allocation_is_set_for_the_chosen_year(cast, login):
    allocation_post(login(cast.agency), cast.school, "5", year=cast.last_year)
    assert Allocation.objects.get().school_year == cast.last_year


@pytest.mark.parametrize("schools", [1, 7])
def test_the_allocations_page_query_count_is_fixed(cast, login, django_assert_num_queries, schools):
    for i in range(schools):
        school = SchoolFactory(name=f"Skola {i}", municipality=cast.school.municipality)
        allocate(school, cast.year, "100.00", by=cast.agency)
    client = login(cast.municipality)
    # session, user, memberships, the current year, count, the page of schools, their
    # allocations with who set them, the latest changes, the school years to choose from
    with django_assert_num_queries(9):
        client.get(reverse("allocation_list"))


# --- The budget context of an approval ------------------------------------------------------


def waiting(cast, semester, amount, route=ApprovalRoute.MUNICIPALITY):
    cast.school.approval_route = route
    cast.school.save(update_fields=["approval_route"])
    plan = ready_plan(
        student=pupil(cast.school),
        preparer=cast.social_pedagogue,
        responsible=cast.specialist,
        semester=semester,
    )
    compensation(plan, T, amount, approved=False)
    plan = services.submit_plan(plan=fresh(plan), by=cast.social_pedagogue)
    return services.approve_plan(plan=fresh(plan), by=cast.coordinator, over_budget_ok=True)


@pytest.fixture
def budget(cast, semester):
    allocate(cast.school, cast.year, "500.00", by=cast.agency)
    approved_plan(cast, semester=semester, compensations=[(T, "300.00")])


def test_the_approval_page_shows_the_budget_and_the_warning_before_confirming(
    cast, semester, budget, login
):
    plan = waiting(cast, semester, "250.00")
    client = login(cast.municipality)
    page = text(client.get(reverse("approval_detail", args=[plan.pk])))
    assert "Pārsniegts budžets" in page and "Apstiprināt, pārsniedzot budžetu" in page
    assert 'name="over_budget" value="1"' in page
    assert "500,00 €" in page and "200,00 €" in page  # allocated, not yet planned
    version = fresh(plan).updated_at.isoformat()
    client.post(reverse("approval_approve"), {"plan": f"{plan.pk}|{version}"})
    assert fresh(plan).status == PlanStatus.SUBMITTED
    client.post(reverse("approval_approve"), {"plan": f"{plan.pk}|{version}", "over_budget": "1"})
    assert fresh(plan).status in PlanStatus.ACTIVE
    assert OverBudgetApproval.objects.filter(level=ApprovalLevel.MUNICIPALITY).exists()


def test_within_budget_the_approval_page_shows_a_plain_approval(cast, semester, budget, login):
    plan = waiting(cast, semester, "200.00")
    page = text(login(cast.municipality).get(reverse("approval_detail", args=[plan.pk])))
    assert "Pārsniegts budžets" not in page and 'name="over_budget"' not in page
    assert "Skolas budžets" in page


def test_the_school_plan_page_warns_the_coordinator(cast, semester, budget, login):
    plan = ready_plan(
        student=pupil(cast.school),
        preparer=cast.social_pedagogue,
        responsible=cast.specialist,
        semester=semester,
    )
    compensation(plan, T, "200.01", approved=False)
    services.submit_plan(plan=fresh(plan), by=cast.social_pedagogue)
    client = login(cast.coordinator)
    page = text(client.get(reverse("plan_detail", args=[plan.pk])))
    assert "Pārsniegts budžets" in page and 'name="over_budget" value="1"' in page
    client.post(reverse("plan_approve", args=[plan.pk]))
    assert fresh(plan).status == PlanStatus.SUBMITTED
    client.post(reverse("plan_approve", args=[plan.pk]), {"over_budget": "1"})
    assert fresh(plan).status in PlanStatus.ACTIVE
    page = text(client.get(reverse("school_budget")))
    assert plan.code in page  # among the plans approved over budget


def test_the_queue_shows_and_filters_the_status_of_budget(cast, semester, budget, login):
    over = waiting(cast, semester, "250.00")
    within = waiting(cast, semester, "100.00")
    client = login(cast.municipality)
    page = text(client.get(reverse("approval_queue")))
    assert "Pārsniegts budžets" in page and "Budžeta robežās" in page
    assert "atlikums 500,00 €" in page
    over_page = text(client.get(reverse("approval_queue") + "?budget=over"))
    assert over.code in over_page and within.code not in over_page
    within_page = text(client.get(reverse("approval_queue") + "?budget=within"))
    assert within.code in within_page and over.code not in within_page
    assert over.code not in text(client.get(reverse("approval_queue") + "?budget=none"))


def test_the_queue_says_no_allocation_set(cast, semester, login):
    plan = waiting(cast, semester, "100.00")
    page = text(login(cast.municipality).get(reverse("approval_queue") + "?budget=none"))
    assert plan.code in page and "Piešķīrums nav noteikts" in page


@pytest.mark.parametrize(("revised", "state"), [("200.00", "within"), ("200.01", "over")])
def test_the_queue_counts_a_revision_once(cast, semester, budget, login, revised, state):
    """Approved with 150,00 € (so 450,00 € of 500,00 € planned), revised and waiting at the
    municipality: it adds only what the revision adds, at the edge exactly."""
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY
    cast.school.save(update_fields=["approval_route"])
    plan = approved_plan(cast, semester=semester, compensations=[(T, "150.00")])
    plan = services.revise_plan(plan=fresh(plan), by=cast.social_pedagogue)
    plan.measures.filter(compensation_category=T).update(planned_amount=Decimal(revised))
    plan = services.submit_plan(plan=fresh(plan), by=cast.social_pedagogue)
    services.approve_plan(plan=fresh(plan), by=cast.coordinator, over_budget_ok=True)
    client = login(cast.municipality)
    shown = client.get(reverse("approval_queue")).context["page"].object_list
    assert [p.budget_state for p in shown] == [state]
    filtered = client.get(reverse("approval_queue") + f"?budget={state}").context["page"]
    assert [p.pk for p in filtered.object_list] == [plan.pk]

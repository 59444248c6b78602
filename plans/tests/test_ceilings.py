"""Compensation ceilings per pupil per semester, and the national maximum per measure."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from compensations.tests.factories import transport_measure
from plans import ceilings, services
from plans.models import CompensationCeiling, PlanStatus, SupportMeasure, SupportPlan
from plans.tests.factories import add_risk, make_plan
from plans.tests.test_views import edit_data, english


def meals_row(plan, risk, amount, justification=""):
    return {
        "measure_type": "compensation",
        "compensation_category": "meals",
        "responsible": plan.preparer.pk,
        "planned_amount": amount,
        "ceiling_justification": justification,
        "start_date": plan.semester.start_date.isoformat(),
        "end_date": plan.semester.end_date.isoformat(),
        "risk_factors": [risk.risk_factor_id],
    }


def post_meals(client, plan, amount, justification=""):
    risk = plan.risks.first() or add_risk(plan)
    row = {"id": risk.pk, "risk_factor": risk.risk_factor_id, "justification": "x"}
    data = edit_data(
        plan,
        risks=[row],
        measures=[meals_row(plan, risk, amount, justification)],
        parent_application_date=timezone.localdate().isoformat(),
    )
    return english(client).post(reverse("plan_update", args=[plan.pk]), data)


def test_a_measure_above_the_national_maximum_is_refused_whatever_is_typed(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    client = login(cast.class_teacher)
    response = post_meals(client, plan, "9 999 999,00", justification="Because.")
    assert response.status_code == 200
    assert "the national maximum" in response.content.decode()
    assert "3,000.00" in response.content.decode()  # shown in the page's language
    assert not plan.measures.exists()


def test_the_service_refuses_the_maximum_too(cast):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    measure = SupportMeasure(
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category="meals",
        planned_amount=Decimal("3000.01"),
        ceiling_justification="x",
        responsible=cast.class_teacher,
        start_date=plan.semester.start_date,
        end_date=plan.semester.end_date,
    )
    with pytest.raises(services.PlanActionError, match="valsts maksimums"):
        services.save_plan_content(
            plan=plan,
            by=cast.class_teacher,
            risks=[],
            removed_risks=[],
            measures=[(measure, [])],
            removed_measures=[],
        )
    assert not plan.measures.exists()


def test_above_the_schools_ceiling_a_measure_needs_a_justification(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    client = login(cast.class_teacher)
    response = post_meals(client, plan, "450,00")
    page = response.content.decode()
    assert response.status_code == 200
    assert "above the school&#x27;s ceiling of €400.00" in page
    assert not plan.measures.exists()

    response = post_meals(client, plan, "450,00", justification="Ēd arī brīvdienu nometnē.")
    assert response.status_code == 302
    measure = plan.measures.get()
    assert measure.planned_amount == Decimal("450.00")
    assert measure.ceiling_justification == "Ēd arī brīvdienu nometnē."


def test_the_school_sets_its_own_ceiling(cast, login):
    CompensationCeiling.objects.create(school=cast.school, category="meals", amount=200)
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    response = post_meals(login(cast.class_teacher), plan, "250,00")
    assert "above the school&#x27;s ceiling of €200.00" in response.content.decode()
    # Another school keeps the national default.
    assert ceilings.ceilings_for(cast.other_school.pk)["meals"] == Decimal("400")


def test_a_pupils_plans_of_the_semester_count_together(cast, login):
    """Two plans (a regular and a holiday one) cannot split an amount to stay under."""
    regular = make_plan(student=cast.student, preparer=cast.class_teacher)
    transport_measure(regular, planned="250.00")
    holiday = make_plan(
        student=cast.student, preparer=cast.class_teacher, kind=SupportPlan.Kind.HOLIDAY
    )
    measure = transport_measure(holiday, planned="100.00")
    client = english(login(cast.class_teacher))
    client.post(reverse("plan_submit", args=[holiday.pk]))
    holiday.refresh_from_db()
    assert holiday.status == PlanStatus.DRAFT
    page = client.get(reverse("plan_detail", args=[holiday.pk])).content.decode()
    assert "€350.00 planned for this pupil this semester" in page
    assert "ceiling of €300.00" in page

    measure.ceiling_justification = "Divi braucieni nedēļā uz nometni."
    measure.save()
    client.post(reverse("plan_submit", args=[holiday.pk]))
    holiday.refresh_from_db()
    assert holiday.status == PlanStatus.SUBMITTED
    # A deleted plan does not count.
    regular.status = PlanStatus.INACTIVE
    regular.save()
    assert ceilings.over_ceilings(holiday) == []


def test_the_approver_sees_the_warning_and_the_justification(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher, status=PlanStatus.SUBMITTED)
    add_risk(plan)
    measure = transport_measure(plan, planned="320.00")
    measure.ceiling_justification = "Dzīvo 40 km no skolas."
    measure.save()
    page = english(login(cast.coordinator)).get(reverse("plan_detail", args=[plan.pk]))
    text = page.content.decode()
    assert 'id="over-ceilings"' in text
    assert "€320.00 planned for this pupil this semester" in text
    assert "Dzīvo 40 km no skolas." in text


def test_an_unjustified_plan_above_the_ceiling_is_not_approved(cast, login):
    """Submitted before the ceiling was checked (or the ceiling was lowered since)."""
    plan = make_plan(student=cast.student, preparer=cast.class_teacher, status=PlanStatus.SUBMITTED)
    add_risk(plan)
    transport_measure(plan, planned="320.00")
    client = english(login(cast.coordinator))
    response = client.post(reverse("plan_approve", args=[plan.pk]), follow=True)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    assert "Return the plan to its preparer" in response.content.decode()


def test_over_the_maximum_is_never_approved(cast):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher, status=PlanStatus.SUBMITTED)
    add_risk(plan)
    measure = transport_measure(plan, planned="9999999.00")
    measure.ceiling_justification = "x"
    measure.save()
    with pytest.raises(services.PlanActionError):
        services.approve_plan(plan=plan, by=cast.coordinator)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


# --- The ceilings page ----------------------------------------------------------------------


def test_the_coordinator_sets_and_clears_the_schools_ceilings(cast, login):
    client = english(login(cast.coordinator))
    url = reverse("compensation_ceilings")
    page = client.get(url).content.decode()
    assert "National default: €400.00" in page
    response = client.post(url, {"meals": "250,50", "transport_tickets": ""})
    assert response.status_code == 302
    ceiling = CompensationCeiling.objects.get(school=cast.school)
    assert (ceiling.category, ceiling.amount) == ("meals", Decimal("250.50"))
    assert ceiling.history.get().history_user == cast.coordinator
    assert ceilings.ceilings_for(cast.school.pk)["meals"] == Decimal("250.50")

    client.post(url, {"meals": ""})
    assert not CompensationCeiling.objects.filter(school=cast.school).exists()
    assert ceilings.ceilings_for(cast.school.pk)["meals"] == Decimal("400")


@pytest.mark.parametrize("typed", ["1.234,50", "abc", "0", "3000,01", "-5"])
def test_a_ceiling_that_is_unclear_or_out_of_range_is_refused(cast, login, typed):
    client = english(login(cast.coordinator))
    response = client.post(reverse("compensation_ceilings"), {"meals": typed})
    assert response.status_code == 200
    assert "were not saved" in response.content.decode()
    assert not CompensationCeiling.objects.exists()


def test_only_a_coordinator_sets_ceilings_and_only_for_their_school(cast, login):
    url = reverse("compensation_ceilings")
    for user in (cast.class_teacher, cast.social_pedagogue, cast.municipality, cast.agency):
        assert login(user).get(url).status_code == 403
    # Another school's coordinator naming school A gets their own school's form.
    client = login(cast.other_coordinator)
    response = client.post(f"{url}?school={cast.school.pk}", {"meals": "10"})
    assert response.status_code == 302
    assert not CompensationCeiling.objects.filter(school=cast.school).exists()
    assert CompensationCeiling.objects.filter(school=cast.other_school).exists()

"""The claim form adds expense lines with htmx, as the plan form adds rows: no save needed."""

from django.urls import reverse

from compensations.models import CompensationClaim
from compensations.tests.factories import claimable_plan, receipt


def test_another_expense_line_comes_without_a_save(cast, login):
    plan = claimable_plan(cast)
    measure = plan.measures.get(measure_type="compensation")
    client = login(cast.class_teacher)
    form_page = client.get(reverse("claim_create", args=[measure.pk])).content.decode()
    row_url = reverse("claim_line_row", args=[measure.pk])
    assert f'hx-get="{row_url}"' in form_page
    response = client.get(row_url, {"lines-TOTAL_FORMS": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="lines-1-date"' in content and 'name="lines-1-amount"' in content
    # The management form's total moves along, so the next click numbers the row after it.
    assert 'name="lines-TOTAL_FORMS"' in content and 'value="2"' in content
    assert 'hx-swap-oob="true"' in content
    # Garbage is no 500: the row is numbered after the empty formset's.
    assert client.get(row_url, {"lines-TOTAL_FORMS": "x"}).status_code == 200
    # The two lines are saved together.
    today = plan.semester.start_date
    response = client.post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": today.strftime("%Y-%m"),
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50",
            "lines-0-date": today.isoformat(),
            "lines-0-description": "Biļetes",
            "lines-0-amount": "10,00",
            "lines-1-date": today.isoformat(),
            "lines-1-description": "Biļetes atpakaļ",
            "lines-1-amount": "5,50",
            "receipts": receipt(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    claim = CompensationClaim.objects.get(plan=plan)
    assert claim.lines.count() == 2


def test_another_pupils_measure_gives_no_row(cast, login):
    plan = claimable_plan(cast)
    measure = plan.measures.get(measure_type="compensation")
    response = login(cast.other_teacher).get(reverse("claim_line_row", args=[measure.pk]))
    assert response.status_code == 404

"""The municipal accountant sees payees, IBANs, amounts, claim codes, categories and schools —
nothing of the pupils' risks, plans or other data: every page and file they can open is
searched for the pupil's personal code, the risk factors' names and the plan's free text."""

import pytest
from django.urls import reverse

from iap_portal.tests.test_aggregate_roles import FREE_TEXT, plan_with_free_text, text_of
from iap_portal.tests.test_permissions import EXPECTED, cast_batch, cast_plan, url_for
from plans.models import PlanRisk

ROLE = "municipal_accountant"


def secrets(cast, plan):
    student = cast.student
    found = {student.personas_kods, student.personas_kods[:6], student.personas_kods[6:]}
    # The pupil's first name; not the surname, which the guardian who is paid shares.
    found |= {student.first_name}
    found |= set(
        PlanRisk.objects.filter(plan__student=student).values_list("risk_factor__name", flat=True)
    )
    found |= set(FREE_TEXT.values())
    found |= {plan.code}
    return {s for s in found if s and len(s) >= 4}


def test_no_page_or_file_the_accountant_opens_shows_a_pupils_data(client, cast):
    plan = cast_plan(cast)
    plan_with_free_text(plan)
    batch = cast_batch(cast)
    hidden = secrets(cast, plan)
    client.force_login(cast.users[ROLE])
    opened = []
    for name in sorted(EXPECTED):
        if EXPECTED[name]["GET"].get(ROLE) != "ok":
            continue
        variants = [url_for(name, cast)]
        if name == "batch_download":
            variants = [reverse(name, args=[batch.pk, fmt]) for fmt in ("xml", "xlsx", "csv")]
        for url in variants:
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            text = text_of(response)
            leaked = [s for s in hidden if s in text]
            assert not leaked, (url, leaked)
            opened.append(url)
    # The pages were really read: the payer's page names the claim and its payee.
    page = text_of(client.get(reverse("batch_payment", args=[batch.pk])))
    line = batch.lines.get()
    assert line.claim.code in page and line.payee_name in page
    assert any("incoming" in url for url in opened) and len(opened) >= 6, opened


@pytest.mark.parametrize(
    "name", ["student_list", "plan_list", "claim_list", "ew_overview", "participation_report"]
)
def test_the_accountant_reaches_no_pupil_plan_risk_or_report_page(client, cast, name):
    client.force_login(cast.users[ROLE])
    assert client.get(url_for(name, cast)).status_code in (403, 404)


def test_the_accountants_home_and_menu_lead_to_the_batches(client, cast):
    client.force_login(cast.users[ROLE])
    page = client.get(reverse("home")).content.decode()
    assert reverse("batch_incoming") in page
    assert reverse("student_list") not in page and reverse("plan_list") not in page

"""The help pages: one for each role, in Latvian and in English, linked where the question
arises."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from conftest import CAST_ROLES
from plans.tests.factories import ready_plan
from students.models import Role

# A heading of each language that the role's page shows.
HEADINGS = {
    "lv": "Ko nozīmē plāna statusi",
    "en": "What the plan statuses mean",
}


@pytest.mark.parametrize("language", ["lv", "en"])
@pytest.mark.parametrize("role", Role.values)
def test_it_shows_each_roles_help_in_both_languages(cast, login, role, language):
    client = login(cast.class_teacher)
    client.cookies["django_language"] = language
    response = client.get(reverse("help_role", args=[role]))
    assert response.status_code == 200
    content = response.content.decode()
    with translation.override(language):
        intro = str(response.context["roles"][0][1])
    assert escape(intro) in content
    sections = response.context["sections"]
    if "plan_statuses" in sections:
        assert HEADINGS[language] in content
        assert HEADINGS["en" if language == "lv" else "lv"] not in content


@pytest.mark.parametrize("language", ["lv", "en"])
@pytest.mark.parametrize("member", CAST_ROLES)
def test_help_shows_the_roles_one_holds(cast, login, member, language):
    client = login(getattr(cast, member))
    client.cookies["django_language"] = language
    response = client.get(reverse("help"))
    assert response.status_code == 200
    assert response.context["roles"]


def test_the_coordinator_reads_the_approval_route_and_the_accountant_the_payments(cast, login):
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    content = client.get(reverse("help")).content.decode()
    assert 'id="plan-route"' in content and 'id="payments"' not in content
    client = login(cast.municipal_accountant)
    client.cookies["django_language"] = "en"
    content = client.get(reverse("help")).content.decode()
    assert 'id="payments"' in content and 'id="plan-route"' not in content


def test_an_unknown_role_is_404(cast, login):
    assert login(cast.class_teacher).get("/help/janitor/").status_code == 404


def test_the_plan_page_links_its_status_to_the_help(cast, login):
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    content = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert reverse("help") + "#plan-statuses" in content
    assert reverse("help") + "#plan-route" in content

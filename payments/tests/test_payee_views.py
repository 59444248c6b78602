"""The payees' pages: the pupil page's section, adding and changing a payee, taking one out of
use, the school's organisations, and the claim page's choice of payee."""

import pytest
from django.urls import reverse

from compensations.models import ClaimStatus
from compensations.tests.factories import at_status, claimable_plan, submitted_claim
from iap_portal.models import AuditEvent
from payments import payees
from payments.models import ClaimPayee, Payee
from payments.tests.test_payees import (
    CATERER_IBAN,
    IBAN,
    OTHER_IBAN,
    born_years_ago,
    guardian_of,
    guardian_payee,
    organisation,
)

MASKED = "LV** **** **** **** *5001"
IBAN_PIECES = ("BANK", "0000435195001", "LV80", "4351")


def shows_iban(content):
    return any(piece in content for piece in IBAN_PIECES)


# --- The pupil's page -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "social_pedagogue"])
def test_the_pupil_page_lists_the_payees_with_the_iban_masked(cast, login, role):
    guardian_payee(cast)
    content = login(cast.users[role]).get(reverse("student_detail", args=[cast.student.pk]))
    text = content.content.decode()
    assert "Pēteris Bērziņš" in text and MASKED in text
    assert not shows_iban(text)
    assert reverse("payee_guardian_create", args=[cast.student.pk]) in text


def test_the_class_teacher_sees_no_payee_on_the_pupil_page(cast, login):
    guardian_payee(cast)
    text = login(cast.class_teacher).get(reverse("student_detail", args=[cast.student.pk]))
    text = text.content.decode()
    assert "payees-heading" not in text and "*5001" not in text and not shows_iban(text)


def test_the_pupil_is_offered_as_payee_only_from_18(cast, login):
    client = login(cast.coordinator)
    url = reverse("payee_pupil_create", args=[cast.student.pk])
    assert url not in client.get(reverse("student_detail", args=[cast.student.pk])).content.decode()
    cast.student.birth_date = born_years_ago(18)
    cast.student.save()
    assert url in client.get(reverse("student_detail", args=[cast.student.pk])).content.decode()


@pytest.mark.parametrize("count", [1, 6])
def test_the_pupil_pages_queries_do_not_grow_with_the_payees(
    cast, login, django_assert_num_queries, count
):
    for number in range(count):
        guardian_payee(cast, iban=IBAN if number % 2 else OTHER_IBAN)
    client = login(cast.coordinator)
    client.get(reverse("student_detail", args=[cast.student.pk]))  # the session warmed up
    # session, user, memberships, the pupil, the audit record, the payees (one query, the
    # section's), who can see (staff, year, teachers, specialists), enrolments, guardians, plans,
    # and for "Create a plan" the semesters not ended and the pupil's live plans in them
    with django_assert_num_queries(PUPIL_PAGE_QUERIES):
        response = client.get(reverse("student_detail", args=[cast.student.pk]))
    assert len(response.context["payee_section"]["payees"]) == count


PUPIL_PAGE_QUERIES = 15


# --- Adding a guardian, the pupil ---------------------------------------------------------------


def test_a_guardian_is_added_as_payee_with_the_iban_normalised(cast, login):
    mother = guardian_of(cast.student, "Anna Bērziņa")
    client = login(cast.social_pedagogue)
    url = reverse("payee_guardian_create", args=[cast.student.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Anna Bērziņa" in page.content.decode()
    response = client.post(
        url,
        {"guardian": mother.pk, "name": "", "address": "", "iban": "lv80 bank 0000 4351 9500 1"},
    )
    assert response.status_code == 302
    payee = Payee.objects.get()
    assert (payee.kind, payee.guardian, payee.name, payee.iban) == (
        "guardian",
        mother,
        "Anna Bērziņa",
        IBAN,
    )
    assert payee.history.get().history_user == cast.social_pedagogue
    # The page that showed the pupil's guardians named the pupil in the log.
    assert AuditEvent.objects.filter(
        student=cast.student, action="view_pupil", detail__startswith="payee"
    ).exists()


def test_a_bad_iban_keeps_everything_typed_and_saves_nothing(cast, login):
    mother = guardian_of(cast.student, "Anna Bērziņa")
    response = login(cast.coordinator).post(
        reverse("payee_guardian_create", args=[cast.student.pk]),
        {
            "guardian": mother.pk,
            "name": "Anna Bērziņa-Kalniņa",
            "address": "Raiņa iela 7",
            "iban": "LV80 BANK 0000 4351 9500 2",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Anna Bērziņa-Kalniņa" in text and "Raiņa iela 7" in text
    assert "LV80 BANK 0000 4351 9500 2" in text  # the typed value, to correct it
    assert response.context["form"].errors["iban"]
    assert not Payee.objects.exists()


def test_a_pupil_without_guardians_is_sent_to_add_them_first(cast, login):
    response = login(cast.coordinator).get(reverse("payee_guardian_create", args=[cast.student.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("student_detail", args=[cast.student.pk])


def test_a_minor_is_refused_as_their_own_payee_with_the_reason(cast, login):
    cast.student.birth_date = born_years_ago(16)
    cast.student.save()
    client = login(cast.coordinator)
    url = reverse("payee_pupil_create", args=[cast.student.pk])
    page = client.get(url).content.decode()
    assert "18" in page and "16" in page and 'name="iban"' not in page
    response = client.post(url, {"name": "Elza Bērziņa", "iban": IBAN})
    assert response.status_code == 200 and not Payee.objects.exists()


def test_an_adult_pupil_is_added_as_their_own_payee(cast, login):
    cast.student.birth_date = born_years_ago(19)
    cast.student.save()
    client = login(cast.coordinator)
    url = reverse("payee_pupil_create", args=[cast.student.pk])
    assert client.get(url).context["form"].fields["name"].initial == "Elza Bērziņa"
    response = client.post(url, {"name": "Elza Bērziņa", "address": "", "iban": IBAN})
    assert response.status_code == 302
    assert Payee.objects.get().kind == Payee.Kind.PUPIL


# --- One payee ----------------------------------------------------------------------------------


def test_the_payee_page_names_the_pupil_in_the_log_and_is_not_kept(cast, login):
    payee = guardian_payee(cast)
    payees.change_payee(payee=payee, by=cast.social_pedagogue, values={"iban": OTHER_IBAN})
    response = login(cast.coordinator).get(reverse("payee_detail", args=[payee.pk]))
    text = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action="view_pupil").last()
    assert (event.student_id, event.object_id) == (cast.student.pk, str(payee.pk))
    # The history in words, IBANs masked: none is shown whole.
    assert "LV** **** **** **** *5001" in text and "LV** **** **** **** *8910" in text
    assert not shows_iban(text) and "HABA" not in text


def test_a_changed_iban_is_saved_and_an_empty_one_keeps_the_old(cast, login):
    payee = guardian_payee(cast)
    client = login(cast.coordinator)
    url = reverse("payee_update", args=[payee.pk])
    page = client.get(url).content.decode()
    assert MASKED in page and IBAN not in page
    client.post(url, {"name": payee.name, "address": "Jaunā iela 1", "iban": ""})
    payee.refresh_from_db()
    assert payee.iban == IBAN and payee.address == "Jaunā iela 1"
    client.post(url, {"name": payee.name, "address": "", "iban": OTHER_IBAN.lower()})
    payee.refresh_from_db()
    assert payee.iban == OTHER_IBAN


def test_taking_a_payee_out_of_use_asks_first_and_deletes_nothing(cast, login):
    payee = guardian_payee(cast)
    client = login(cast.social_pedagogue)
    url = reverse("payee_deactivate", args=[payee.pk])
    page = client.get(url)
    assert page.status_code == 200 and MASKED in page.content.decode()
    payee.refresh_from_db()
    assert payee.is_active
    assert client.post(url).status_code == 302
    payee.refresh_from_db()
    assert not payee.is_active
    assert client.post(reverse("payee_reactivate", args=[payee.pk])).status_code == 302
    payee.refresh_from_db()
    assert payee.is_active and payee.history.count() == 3


# --- The school's organisations ---------------------------------------------------------------


def test_an_organisation_is_added_with_its_registration_number_checked(cast, login):
    client = login(cast.coordinator)
    url = reverse("payee_organisation_create")
    data = {
        "name": "SIA Ēdinātājs",
        "registration_number": "40003245751",
        "address": "Tirgus laukums 1",
        "iban": CATERER_IBAN,
    }
    response = client.post(url, data)
    assert response.status_code == 200 and not Payee.objects.exists()
    assert "SIA Ēdinātājs" in response.content.decode()
    assert response.context["form"].errors["registration_number"]
    response = client.post(url, {**data, "registration_number": "40003245752"})
    assert response.status_code == 302
    payee = Payee.objects.get()
    assert (payee.kind, payee.school, payee.student) == ("organisation", cast.school, None)


@pytest.mark.parametrize("count", [1, 12])
def test_the_organisation_list_has_a_fixed_number_of_queries(
    cast, login, django_assert_num_queries, count
):
    for number in range(count):
        organisation(cast, name=f"SIA Pārvadātājs {number:02}")
    organisation(cast, school=cast.other_school, name="SIA Cita skola")
    client = login(cast.coordinator)
    # session, user, memberships, count, the page of organisations with their school
    with django_assert_num_queries(5):
        response = client.get(reverse("payee_organisation_list"))
    names = [p.name for p in response.context["page"].object_list]
    assert len(names) == count and "SIA Cita skola" not in names
    assert "LV** **** **** **** *0001" in response.content.decode()


def test_the_organisation_list_says_when_there_is_none(cast, login):
    response = login(cast.social_pedagogue).get(reverse("payee_organisation_list"))
    assert response.context["page"].paginator.count == 0
    assert 'class="alert alert-light"' in response.content.decode()


# --- The claim's payee --------------------------------------------------------------------------


@pytest.fixture
def claim(cast):
    return at_status(
        submitted_claim(plan=claimable_plan(cast), by=cast.class_teacher), ClaimStatus.APPROVED
    )


def test_the_claim_page_shows_the_default_payee_and_lets_the_keeper_choose(cast, login, claim):
    guardian_payee(cast)
    caterer = organisation(cast)
    client = login(cast.coordinator)
    text = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Pēteris Bērziņš" in text and MASKED in text and not shows_iban(text)
    assert reverse("claim_payee_choose", args=[claim.pk]) in text
    response = client.post(reverse("claim_payee_choose", args=[claim.pk]), {"payee": caterer.pk})
    assert response.status_code == 302
    assert ClaimPayee.objects.get(claim=claim).payee == caterer
    text = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "SIA Ēdinātājs" in text


def test_the_class_teacher_sees_whom_the_claim_is_paid_to_without_the_iban(cast, login, claim):
    guardian_payee(cast)
    caterer = organisation(cast)
    client = login(cast.class_teacher)
    text = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Pēteris Bērziņš" in text and "*5001" not in text and not shows_iban(text)
    assert reverse("claim_payee_choose", args=[claim.pk]) not in text
    response = client.post(reverse("claim_payee_choose", args=[claim.pk]), {"payee": caterer.pk})
    assert response.status_code == 403 and not ClaimPayee.objects.exists()


def test_a_tampered_or_foreign_payee_is_refused_with_a_message(cast, login, claim):
    elsewhere = organisation(cast, school=cast.other_school, name="SIA Cits")
    client = login(cast.coordinator)
    url = reverse("claim_payee_choose", args=[claim.pk])
    for value in (elsewhere.pk, "abc", "99999999999999999999", ""):
        response = client.post(url, {"payee": value}, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"]), value
    assert not ClaimPayee.objects.exists()


def test_a_chosen_payee_out_of_use_is_flagged_on_the_claim(cast, login, claim):
    caterer = organisation(cast)
    payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.coordinator)
    payees.set_payee_active(payee=caterer, by=cast.coordinator, active=False)
    text = login(cast.coordinator).get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "SIA Ēdinātājs" in text and "badge text-bg-warning" in text
    assert payees.payee_for(claim) is None

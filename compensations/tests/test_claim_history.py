"""The claim page tells, in words, who added, changed or removed which line and receipt."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from compensations import services
from compensations.models import ClaimLine, CompensationClaim, Receipt
from compensations.tests.factories import claimable_plan, draft_claim, receipt, this_month
from iap_portal.actions import record_change
from iap_portal.models import ContentChange
from iap_portal.users import display_name


@pytest.fixture
def plan(cast):
    return claimable_plan(cast)


@pytest.fixture
def ilze(cast):
    user = cast.social_pedagogue
    user.first_name, user.last_name = "Ilze", "Ozola"
    user.save(update_fields=["first_name", "last_name"])
    return user


def line(description, amount, day=None):
    return {
        "date": day or timezone.localdate(),
        "description": description,
        "amount": Decimal(amount),
    }


def edit(claim, by, lines, receipts=()):
    services.update_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=by,
        month=this_month(),
        lines=lines,
        receipts=list(receipts),
    )


def history(client, claim, language="lv"):
    client.cookies["django_language"] = language
    return [entry["text"] for entry in client.get(claim_url(claim)).context["history"]]


def claim_url(claim):
    return reverse("claim_detail", args=[claim.pk])


def test_the_claim_page_tells_who_changed_which_line_from_what_to_what(cast, plan, ilze, login):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00", receipts=[])
    edit(claim, ilze, [line("Autobusa biļetes", "60.00"), line("Pusdienas", "5.50")])
    edit(claim, ilze, [line("Autobusa biļetes", "60.00")], receipts=[receipt("čeks.png")])
    services.delete_receipt(receipt=claim.receipts.get(), by=cast.class_teacher)
    teacher = display_name(cast.class_teacher)
    today = f"{timezone.localdate():%-d.%m.%Y}"
    client = login(cast.coordinator)

    assert history(client, claim) == [
        f"{teacher} izveidoja pieteikumu",
        f"{teacher} pievienoja rindu „Autobusa biļetes”, {today}, 18,00 €",
        "Ilze Ozola mainīja rindu „Autobusa biļetes”: summa 18,00 € → 60,00 €",
        f"Ilze Ozola pievienoja rindu „Pusdienas”, {today}, 5,50 €",
        f"Ilze Ozola dzēsa rindu „Pusdienas”, {today}, 5,50 €",
        # Stored under the claim's code and a number, not the uploader's name.
        f"Ilze Ozola pievienoja čeku „{claim.code}-1.png”",
        f"{teacher} noņēma čeku „{claim.code}-1.png”",
    ]
    english = history(client, claim, "en")
    assert "Ilze Ozola changed line “Autobusa biļetes”: amount €18.00 → €60.00" in english
    # The four-eyes record of the same changes is not told twice.
    assert not [text for text in english if "changed by" in text]


def test_a_changed_date_and_description_are_told_too(cast, plan, ilze, login):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    today = timezone.localdate()
    day = this_month() if today.day > 1 else today + timedelta(days=1)  # another day, same month
    edit(claim, ilze, [line("Biļetes", "18.00", day=day)])
    texts = history(login(cast.coordinator), claim, "en")
    assert texts[-1] == (
        "Ilze Ozola changed line “Autobusa biļetes”: "
        f"date {today:%-d.%m.%Y} → {day:%-d.%m.%Y}; "
        "description “Autobusa biļetes” → “Biļetes”"
    )


def test_an_edited_line_is_changed_in_place_and_an_unchanged_one_is_left_alone(cast, plan, ilze):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    edit(claim, cast.class_teacher, [line("Autobusa biļetes", "18.00"), line("Pusdienas", "4.00")])
    kept, meals = claim.lines.order_by("pk")
    edit(claim, ilze, [line("Autobusa biļetes", "18.00"), line("Pusdienas", "6.00")])
    assert list(claim.lines.order_by("pk").values_list("pk", "amount")) == [
        (kept.pk, Decimal("18.00")),
        (meals.pk, Decimal("6.00")),
    ]
    assert ClaimLine.history.filter(id=kept.pk).count() == 1  # only its creation
    change = ClaimLine.history.filter(id=meals.pk).latest("history_id")
    assert (change.history_type, change.history_user) == ("~", ilze)


def test_the_history_names_the_person_also_for_what_the_page_saves(cast, plan, login):
    """Filed through the page: the claim's own record gets its author from the request
    (simple-history's middleware), the lines' and receipts' from the service."""
    measure = plan.measures.get(measure_type="compensation")
    today = timezone.localdate()
    response = login(cast.class_teacher).post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": today.strftime("%Y-%m"),
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50",
            "lines-0-date": today.isoformat(),
            "lines-0-description": "Biļetes",
            "lines-0-amount": "12,50",
            "receipts": [receipt()],
        },
    )
    assert response.status_code == 302
    claim = CompensationClaim.objects.get()
    assert {r.history_user for r in CompensationClaim.history.filter(id=claim.pk)} == {
        cast.class_teacher
    }
    assert ClaimLine.history.get(claim_id=claim.pk).history_user == cast.class_teacher
    assert Receipt.history.get(claim_id=claim.pk).history_user == cast.class_teacher


def test_changes_from_before_the_line_history_are_told_as_before(cast, plan, ilze, login):
    """A claim whose lines were changed before their history was kept: the page tells what the
    four-eyes record knows."""
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="18.00")
    ClaimLine.history.filter(claim_id=claim.pk).delete()
    Receipt.history.filter(claim_id=claim.pk).delete()
    record_change(claim, by=ilze, what=ContentChange.What.LINES)
    texts = history(login(cast.coordinator), claim, "en")
    assert texts[-1] == "Expense lines — changed by Ilze Ozola"


def _claim_with_history(cast, plan, by, lines):
    claim = draft_claim(plan=plan, by=cast.class_teacher, amount="1.00")
    edit(claim, by, [line(f"Biļetes {i}", "2.00") for i in range(lines)], [receipt()])
    edit(claim, by, [line(f"Biļetes {i}", "3.00") for i in range(lines)])
    services.delete_receipt(receipt=claim.receipts.last(), by=by)
    services.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=by)
    return claim


@pytest.mark.parametrize("lines", [1, 12])
def test_the_claim_page_query_count_is_fixed(
    cast, plan, ilze, login, django_assert_num_queries, lines
):
    claim = _claim_with_history(cast, plan, cast.class_teacher, lines)
    client = login(cast.social_pedagogue)
    # session, user, memberships, the claim with its measure, plan, pupil, semester, school
    # and filer; four eyes: who submitted it, who changed it; the measure's sums; the
    # history: status changes, the lines' and the receipts' history records, content changes,
    # the claim's history records; who decides: an untouched social pedagogue; lines, receipts;
    # the audit event naming the pupil; the payee section (payments): the claim's chosen payee,
    # the payees it may be paid to, its line in a batch; its payment (payments' hook): its
    # batch lines, its chosen payee, the pupil's payees (the two sections read the payee
    # and the batch line each: three queries that could be shared)
    with django_assert_num_queries(22):
        response = client.get(claim_url(claim))
    assert len([e for e in response.context["history"] if "Biļetes" in e["text"]]) > lines

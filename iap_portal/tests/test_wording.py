"""History and audit details in words in the reader's language, not codes (issue 21)."""

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from compensations import services as claim_services
from compensations.tests.factories import claimable_plan, submitted_claim
from iap_portal import audit
from iap_portal.models import AuditEvent
from iap_portal.wording import audit_detail, record_change
from plans.models import PlanRisk, RiskFactor
from plans.tests.factories import make_plan

pytestmark = pytest.mark.django_db


def event(action, detail, object_type=""):
    return AuditEvent(action=action, detail=detail, object_type=object_type)


@pytest.mark.parametrize(
    ("recorded", "latvian", "english"),
    [
        (
            event("status", "K-2026-1: submitted → approved", "compensations.CompensationClaim"),
            "K-2026-1: Iesniegts → Apstiprināts",
            "K-2026-1: Submitted → Approved",
        ),
        (
            event("status", "K-2026-1: approved → paid", "compensations.CompensationClaim"),
            "K-2026-1: Apstiprināts → Izmaksāts",
            "K-2026-1: Approved → Paid",
        ),
        (
            event("export", "payments.csv format=csv"),
            "lejupielādēja maksājumu sarakstu (CSV)",
            "downloaded the list of payments (CSV)",
        ),
        (
            event("export", "claims.xlsx format=xlsx&status=approved&q=K-1"),
            "lejupielādēja pieteikumu sarakstu (XLSX), atlasīts pēc: statuss: Apstiprināts; "
            "meklēšana: K-1",
            "downloaded the list of claims (XLSX), filtered by status: Approved; search: K-1",
        ),
        (
            event("export", "2026-09-1 (xml)", "payments.PaymentBatch"),
            "lejupielādēja maksājumu sarakstu 2026-09-1 (XML)",
            "downloaded payment batch 2026-09-1 (XML)",
        ),
        (
            event("view_list", "plans: 21"),
            "plānu saraksts: 21 izglītojamais",
            "list of plans: 21 pupils",
        ),
        (
            event("view_list", "plan queue: 12"),
            "plāni, kas gaida apstiprināšanu: 12 izglītojamie",
            "plans awaiting approval: 12 pupils",
        ),
        (
            event(
                "status",
                "IAP-1: submitted → submitted (approved at school, to municipality; "
                "self-approval; over budget by 12.50 EUR (allocated 1, planned elsewhere 2))",
                "plans.SupportPlan",
            ),
            "IAP-1: Saskaņošanā → Saskaņošanā (apstiprināts skolā, tagad gaida pašvaldībā; "
            "pašapstiprināšana; budžets pārsniegts par 12,50 €)",
            "IAP-1: Awaiting approval → Awaiting approval (approved at the school, now waits at "
            "the municipality; self-approval; over the budget by €12.50)",
        ),
        (event("view_plan", "IAP-1 edit"), "IAP-1: labošana", "IAP-1: editing"),
        (event("two_factor", "backup code"), "ar rezerves kodu", "with a backup code"),
        # Something no rule knows is shown as recorded.
        (event("file", "izmaksas-2026.csv"), "izmaksas-2026.csv", "izmaksas-2026.csv"),
    ],
)
def test_an_audit_detail_is_said_in_the_readers_language(recorded, latvian, english):
    with translation.override("lv"):
        assert audit_detail(recorded) == latvian
    with translation.override("en"):
        assert audit_detail(recorded) == english


def test_a_change_of_an_objects_history_is_a_sentence():
    sentences = {"added": "%(who)s added", "changed": "%(who)s changed", "removed": "%(who)s gone"}
    assert record_change(who="Ieva", history_type="+", **sentences) == "Ieva added"
    assert record_change(who="Ieva", history_type="~", fields=["goals", "dates"], **sentences) == (
        "Ieva changed: goals, dates"
    )
    assert record_change(who="Ieva", history_type="-", **sentences) == "Ieva gone"


def test_the_audit_log_and_its_export_say_what_happened(cast, login):
    plan = claimable_plan(cast)
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    audit.record(
        None,
        AuditEvent.Action.EXPORT,
        user=cast.coordinator,
        school=cast.school,
        detail="payments.csv format=csv",
    )
    client = login(cast.coordinator)
    page = client.get(reverse("audit_log")).content.decode()
    assert "Iesniegts → Apstiprināts" in page
    assert "lejupielādēja maksājumu sarakstu (CSV)" in page
    assert "format=csv" not in page.replace("?format=csv", "")  # the export link is no text
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("audit_log"), {"format": "csv"}).content.decode("utf-8-sig")
            ),
            delimiter=";",
        )
    )
    details = {row[5] for row in rows[1:]}
    assert f"{claim.code}: Submitted → Approved" in details
    assert "downloaded the list of payments (CSV)" in details


def test_the_plan_history_says_who_did_what_in_words(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    risk = PlanRisk(
        plan=plan, risk_factor=RiskFactor.objects.national().first(), justification="Kavē."
    )
    risk._history_user = cast.class_teacher  # as HistoryRequestMiddleware sets it
    risk.save()
    plan.goals = "Uzlabot apmeklējumu."
    plan._history_user = cast.class_teacher
    plan.save()
    client = login(cast.class_teacher)
    name = cast.class_teacher.get_full_name() or cast.class_teacher.get_username()
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert f"{name} pievienoja risku" in page
    assert "mainīja plānu: " in page
    assert "(risks)" not in page and "(plāns)" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert f"{name} added a risk" in page and "changed the plan: " in page

"""The money's journey in a real browser: the coordinator puts the approved claim into the
month's payment batch and sends it; the municipality's accountant downloads the bank file and
records the payment; the school sees the claim paid with the bank's reference."""

import pytest
import xmlschema
from django.utils import timezone

from compensations import services as claim_services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from conftest import build_cast
from payments.models import BatchStatus, PaymentBatch
from payments.sepa import SCHEMA_FILE
from payments.tests.batch_factories import debtor_account, guardian_payee

from .helpers import PASSWORD, check_page, log_in, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def people():
    cast = build_cast()
    for user in cast.users.values():
        user.set_password(PASSWORD)
        user.first_name, user.last_name = user.username.title(), "Test"
        user.save()
    return cast


def test_batch_send_download_and_record_paid(live_server, page, shots, people, tmp_path):
    base = live_server.url
    plan = claimable_plan(people, planned="100.00")
    claim = submitted_claim(plan=plan, by=people.class_teacher, amount="24.60")
    claim_services.approve_claim(claim=claim, by=people.social_pedagogue)
    guardian_payee(people.student, by=people.coordinator, name="Aiga Bērziņa")
    debtor_account(people.school.municipality)

    log_in(page, base, "coordinator")
    page.goto(f"{base}/payments/batches/")
    check_page(page, shots, "batches")
    with page.expect_navigation():
        page.get_by_role("button", name="Jauns maksājumu saraksts").click()
    batch = PaymentBatch.objects.get()
    page.check(f"#claim-{claim.pk}")
    with page.expect_navigation():
        page.get_by_role("button", name="Iekļaut izvēlētos pieteikumus sarakstā").click()
    check_page(page, shots, "batch-with-claim")
    assert "24,60" in page.locator("#totals-payee").inner_text()
    page.get_by_role("link", name="Nosūtīt maksātājam").click()
    page.wait_for_url(f"{base}/payments/batches/{batch.pk}/send/")
    check_page(page, shots, "batch-confirm")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SENT
    log_out(page, base)

    log_in(page, base, "municipal_accountant")
    page.get_by_role("link", name="Ienākošie maksājumu saraksti").first.click()
    page.wait_for_url(f"{base}/payments/incoming/")
    check_page(page, shots, "incoming")
    page.locator(f"main a[href='/payments/incoming/{batch.pk}/']").click()
    page.wait_for_url(f"{base}/payments/incoming/{batch.pk}/")
    check_page(page, shots, "batch-to-pay")
    with page.expect_download() as download:
        page.locator("#download-sepa").click()
    path = tmp_path / "bank.xml"
    download.value.save_as(path)
    xmlschema.XMLSchema(str(SCHEMA_FILE)).validate(path.read_text())
    page.fill("#id_reference", "SWED-2026-0042")
    with page.expect_navigation():
        page.get_by_role("button", name="Visi pārējie izmaksāti").click()
    check_page(page, shots, "batch-settled")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    log_out(page, base)

    log_in(page, base, "coordinator")
    page.goto(f"{base}/claims/{claim.pk}/")
    check_page(page, shots, "claim-paid")
    assert "SWED-2026-0042" in page.locator("#claim-paid").inner_text()
    claim = CompensationClaim.objects.get(pk=claim.pk)
    assert (claim.status, claim.payment_reference, claim.paid_on) == (
        ClaimStatus.PAID,
        "SWED-2026-0042",
        timezone.localdate(),
    )

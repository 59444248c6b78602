"""Whole journeys of the people the product exists for, in a real browser."""

import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from compensations import services as claim_services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import png_bytes, submitted_claim, transport_measure
from conftest import build_cast
from payments.tests.batch_factories import pay_through_batch
from plans.models import Consultation, PlanStatus, RiskFactor, SupportPlan
from plans.tests.factories import ready_plan
from students.models import ApprovalRoute, SpecialistType

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


def today():
    return timezone.localdate()


def factor(name):
    return str(RiskFactor.objects.get(name=name).pk)


def test_class_teacher_draws_up_and_submits_a_plan(live_server, page, shots, people):
    base = live_server.url
    log_in(page, base, "class_teacher")
    check_page(page, shots, "home")
    assert "Elza" in page.locator("main").inner_text()

    page.locator(f"main a[href='/students/{people.student.pk}/plans/new/']").first.click()
    check_page(page, shots, "new-plan")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    plan = SupportPlan.objects.get(student=people.student)

    page.fill("#id_plan-parent_application_date", today().isoformat())
    page.fill("#id_plan-goals", "Apmeklēt skolu katru dienu")
    page.select_option("#id_risks-0-risk_factor", factor("neattaisnoti kavējumi"))
    page.select_option("#id_risks-0-level", "high")
    page.fill("#id_risks-0-justification", "18 neattaisnotas stundas oktobrī")
    page.locator("button[hx-get$='/rows/risk/']").click()
    page.wait_for_selector("#id_risks-1-risk_factor")
    page.select_option(
        "#id_risks-1-risk_factor", factor("attālums līdz skolai un transporta izmaksas")
    )
    page.fill("#id_risks-1-justification", "Dzīvo 25 km no skolas")
    check_page(page, shots, "risks")
    with page.expect_navigation():
        page.locator("button[name=continue]").click()
    page.wait_for_selector("input[name='measures-0-risk_factors']")

    # A consultation, first without its hours, and a transport compensation (added by htmx).
    page.select_option("#id_measures-0-measure_type", "consultation")
    page.select_option(
        "#id_measures-0-specialist_type", str(SpecialistType.objects.get(name="psihologs").pk)
    )
    page.select_option("#id_measures-0-responsible", str(people.specialist.pk))
    page.check(f"input[name='measures-0-risk_factors'][value='{factor('neattaisnoti kavējumi')}']")
    page.locator("button[hx-get$='/rows/measure/']").click()
    page.wait_for_selector("#id_measures-1-measure_type")
    page.select_option("#id_measures-1-measure_type", "compensation")
    page.select_option("#id_measures-1-compensation_category", "transport_tickets")
    page.select_option("#id_measures-1-responsible", str(people.social_pedagogue.pk))
    page.fill("#id_measures-1-planned_amount", "120.50")
    page.check(
        "input[name='measures-1-risk_factors']"
        f"[value='{factor('attālums līdz skolai un transporta izmaksas')}']"
    )
    with page.expect_navigation():
        page.locator("button[name=continue]").click()
    error = page.locator("#id_measures-0-planned_hours.is-invalid")
    error.wait_for()
    check_page(page, shots, "validation-error")
    assert plan.measures.count() == 0

    page.fill("#id_measures-0-planned_hours", "6")
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_url(f"{base}/plans/{plan.pk}/")
    assert plan.measures.count() == 2
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan.pk}/submit/'] button").click()
    check_page(page, shots, "submitted")
    assert "Saskaņošanā" in page.locator("h1").inner_text()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


def test_approval_claim_decision_and_payment(live_server, page, shots, people, tmp_path):
    base = live_server.url
    plan = ready_plan(
        student=people.student,
        preparer=people.class_teacher,
        responsible=people.specialist,
        status=PlanStatus.SUBMITTED,
        submitted_at=timezone.now(),
    )
    measure = transport_measure(plan, planned="100.00", responsible=people.social_pedagogue)

    log_in(page, base, "coordinator")
    page.goto(f"{base}/plans/queue/")
    check_page(page, shots, "approval-queue")
    page.locator(f"main a[href='/plans/{plan.pk}/']").first.click()
    page.wait_for_url(f"{base}/plans/{plan.pk}/")
    check_page(page, shots, "plan-to-approve")
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan.pk}/approve/'] button").click()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS
    log_out(page, base)

    receipt = tmp_path / "biļete.png"
    receipt.write_bytes(png_bytes())
    log_in(page, base, "class_teacher")
    page.goto(f"{base}/plans/{plan.pk}/")
    page.locator(f"a[href='/measures/{measure.pk}/claims/new/']").click()
    page.fill("#id_month", today().strftime("%Y-%m"))
    page.fill("#id_lines-0-date", today().isoformat())
    page.fill("#id_lines-0-description", "Autobusa biļetes")
    page.fill("#id_lines-0-amount", "24.60")
    page.set_input_files("#id_receipts", str(receipt))
    check_page(page, shots, "claim-form")
    page.locator("button[name=submit]").click()
    page.wait_for_url(re.compile(r"/claims/\d+/$"))
    check_page(page, shots, "claim-submitted")
    claim = CompensationClaim.objects.get()
    assert claim.status == ClaimStatus.SUBMITTED
    log_out(page, base)

    log_in(page, base, "social_pedagogue")
    page.goto(f"{base}/claims/queue/")
    check_page(page, shots, "claim-queue")
    page.locator(f"main a[href='/claims/{claim.pk}/']").click()
    image = page.locator("img.receipt-preview")
    image.wait_for()
    # The receipt is served by the permission-checked view and shows as an image.
    page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )
    check_page(page, shots, "claim-with-receipt")
    with page.expect_navigation():
        page.locator(f"form[action='/claims/{claim.pk}/approve/'] button").click()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    log_out(page, base)

    # Paid through a payment batch: iap_portal/tests/e2e/test_payment_journey.py.


def test_a_claim_over_what_remains_is_saved_as_a_draft_and_submitted_once_fixed(
    live_server, page, shots, people, tmp_path
):
    """The claim form shows what the measure's approval leaves; a claim over it is kept as a
    draft, the submission says by how much it is over, and the corrected claim goes through."""
    base = live_server.url
    plan = ready_plan(
        student=people.student,
        preparer=people.class_teacher,
        responsible=people.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = transport_measure(plan, planned="100.00")
    paid = submitted_claim(plan=plan, by=people.class_teacher, amount="20.00")
    claim_services.approve_claim(claim=paid, by=people.social_pedagogue)
    pay_through_batch(paid, paid_on=today(), reference="MK-1")
    receipt = tmp_path / "biļetes.png"
    receipt.write_bytes(png_bytes())

    log_in(page, base, "class_teacher")
    page.goto(f"{base}/plans/{plan.pk}/")
    page.locator(f"a[href='/measures/{measure.pk}/claims/new/']").click()
    page.wait_for_url(f"{base}/measures/{measure.pk}/claims/new/")
    summary = page.locator("main h1 + p").inner_text()
    assert "apstiprināti 100,00 €" in summary
    assert "pieteikti 20,00 €, izmaksāti 20,00 €, atlikums 80,00 €" in summary
    page.fill("#id_month", today().strftime("%Y-%m"))
    page.fill("#id_lines-0-date", today().isoformat())
    page.fill("#id_lines-0-description", "Mēneša biļete")
    page.fill("#id_lines-0-amount", "150,00")
    page.set_input_files("#id_receipts", str(receipt))
    check_page(page, shots, "claim-over-the-remainder")
    page.get_by_role("button", name="Saglabāt kā melnrakstu").click()
    page.wait_for_url(re.compile(r"/claims/\d+/$"))
    claim = CompensationClaim.objects.exclude(pk=paid.pk).get()
    assert (claim.status, claim.total) == (ClaimStatus.DRAFT, Decimal("150.00"))
    assert f"Pieteikums {claim.code} saglabāts." in page.locator("main").inner_text()

    with page.expect_navigation():
        page.locator(f"form[action='/claims/{claim.pk}/submit/'] button").click()
    refusal = page.locator(".alert-danger").inner_text()
    check_page(page, shots, "claim-refused")
    assert "par 70,00 € pārsniedz" in refusal and "(80,00 €)" in refusal
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT

    page.get_by_role("link", name="Labot").click()
    page.wait_for_url(f"{base}/claims/{claim.pk}/edit/")
    assert page.input_value("#id_lines-0-amount") == "150,00"
    page.fill("#id_lines-0-amount", "80,00")
    page.get_by_role("button", name="Saglabāt un iesniegt").click()
    page.wait_for_url(f"{base}/claims/{claim.pk}/")
    check_page(page, shots, "claim-submitted-within")
    assert f"Pieteikums {claim.code} iesniegts." in page.locator("main").inner_text()
    claim.refresh_from_db()
    assert (claim.status, claim.total) == (ClaimStatus.SUBMITTED, Decimal("80.00"))


def tab_to(page, selector, limit=80):
    """Move the keyboard focus with Tab until it reaches the element."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_specialist_logs_a_consultation_with_the_keyboard_alone(live_server, page, shots, people):
    base = live_server.url
    plan = ready_plan(
        student=people.student,
        preparer=people.class_teacher,
        responsible=people.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()
    page.goto(f"{base}/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("specialist")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    tab_to(page, "a[href='/consultations/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/consultations/")
    check_page(page, shots, "my-consultations")
    tab_to(page, f"a[href='/measures/{measure.pk}/consultations/new/']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/consultations/new/$"))
    tab_to(page, "#id_minutes")
    page.keyboard.press("Control+A")
    page.keyboard.type("45")
    page.keyboard.press("Tab")
    page.keyboard.type("Mācību motivācija")
    check_page(page, shots, "consultation-form")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/consultations/")
    assert Consultation.objects.get().minutes == 45

    page.goto(f"{base}/plans/{plan.pk}/")
    check_page(page, shots, "plan-with-delivery")
    assert "0,8 h" in page.locator("main").inner_text()  # 45 minutes of 6 planned hours


def test_coordinator_downloads_the_report_and_a_plan_pdf(live_server, page, shots, people):
    base = live_server.url
    plan = ready_plan(
        student=people.student,
        preparer=people.class_teacher,
        responsible=people.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    log_in(page, base, "coordinator")
    page.goto(f"{base}/reports/participation/")
    check_page(page, shots, "report")
    with page.expect_download() as download:
        page.locator("a[href*='format=xlsx']").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("Mācību gads", "I semestris", "II semestris")
    assert 1 in rows[1]

    page.goto(f"{base}/plans/{plan.pk}/")
    check_page(page, shots, "plan")
    pdf_url = page.locator(f"a[href='/plans/{plan.public_id}/pdf/']").get_attribute("href")
    response = page.request.get(base + pdf_url)
    assert response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
    assert plan.code in text and "Elza Bērziņa" in text


def test_switching_the_language_changes_the_interface(live_server, page, shots, people):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    check_page(page, shots, "login")
    log_in(page, base, "coordinator")
    nav = page.locator("#main-nav")
    assert "Izglītojamie" in nav.inner_text()
    with page.expect_navigation():
        page.locator("button[name=language][value=en]").click()
    assert "Pupils" in page.locator("#main-nav").inner_text()
    check_page(page, shots, "english")
    with page.expect_navigation():
        page.locator("button[name=language][value=lv]").click()
    assert "Izglītojamie" in page.locator("#main-nav").inner_text()


def test_early_warning_from_the_e_journal_to_a_prefilled_plan(
    live_server, page, shots, people, tmp_path
):
    from students.models import Semester

    base = live_server.url
    semester = Semester.objects.current()
    end = max(semester.start_date, today())
    absences = tmp_path / "kavejumi.csv"
    absences.write_text(
        "Vārds;Uzvārds;Klase;Stundas;Attaisnoti;Neattaisnoti\n"
        "Elza;Bērziņa;7.a;100;4;12\n"
        "Kārlis;Ozols;8.b;100;1;0\n",
        encoding="utf-8",
    )
    log_in(page, base, "coordinator")
    page.goto(f"{base}/early-warning/import/")
    page.select_option("#id_kind", "absences")
    page.fill("#id_start_date", semester.start_date.isoformat())
    page.fill("#id_end_date", end.isoformat())
    page.set_input_files("#id_file", str(absences))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    check_page(page, shots, "import-checked")
    with page.expect_navigation():
        page.locator("form[action$='/early-warning/import/confirm/'] button").click()
    assert "kavejumi.csv" in page.locator("main").inner_text()
    page.goto(f"{base}/early-warning/")
    check_page(page, shots, "overview")
    assert "Bērziņa" in page.locator("main").inner_text()
    log_out(page, base)

    log_in(page, base, "class_teacher")
    flagged = page.locator("[aria-labelledby=flagged-heading]")
    assert "Bērziņa Elza" in flagged.inner_text() and "84" in flagged.inner_text()
    check_page(page, shots, "teacher-home")
    flagged.locator(f"a[href='/students/{people.student.pk}/plans/new/']").click()
    page.wait_for_url(re.compile(r"/plans/new/$"))
    assert "neattaisnoti kavējumi" in page.locator("main").inner_text()
    check_page(page, shots, "new-plan-with-signals")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    plan = SupportPlan.objects.get(student=people.student)
    assert plan.risks.count() == 2  # frequent and unexcused absences
    shown = [page.locator(f"#id_risks-{i}-justification").input_value() for i in range(2)]
    assert any("12" in text for text in shown) and any("84" in text for text in shown)


def test_a_plan_passes_the_school_and_the_municipality_before_it_is_approved(
    live_server, page, shots, people
):
    base = live_server.url
    people.school.approval_route = ApprovalRoute.MUNICIPALITY
    people.school.save(update_fields=["approval_route"])
    plan = ready_plan(
        student=people.student, preparer=people.class_teacher, responsible=people.specialist
    )

    log_in(page, base, "class_teacher")
    page.goto(f"{base}/plans/{plan.pk}/")
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan.pk}/submit/'] button").click()
    assert "Saskaņošanā: skolā" in page.locator("h1").inner_text()
    log_out(page, base)

    log_in(page, base, "coordinator")
    page.goto(f"{base}/plans/queue/")
    page.locator(f"main a[href='/plans/{plan.pk}/']").first.click()
    page.wait_for_url(f"{base}/plans/{plan.pk}/")
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan.pk}/approve/'] button").click()
    # Approved by the school, it waits at the municipality: not approved yet, not counted.
    assert "Saskaņošanā: pašvaldībā" in page.locator("h1").inner_text()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED and plan.first_approved_at is None
    log_out(page, base)

    log_in(page, base, "municipality")
    page.goto(f"{base}/approvals/")
    check_page(page, shots, "municipal-queue")
    queue = page.locator("main").inner_text()
    assert plan.code in queue and people.student.last_name not in queue
    page.locator(f"main a[href='/approvals/{plan.pk}/']").click()
    page.wait_for_url(f"{base}/approvals/{plan.pk}/")
    check_page(page, shots, "municipal-plan")
    assert people.student.first_name not in page.locator("main").inner_text()
    page.goto(f"{base}/approvals/")
    page.check(f"#plan-{plan.pk}")
    with page.expect_navigation():
        page.locator("main form[action='/approvals/approve/'] button[type=submit]").click()
    check_page(page, shots, "municipal-approved")
    assert "Apstiprināts 1 plāns" in page.locator("main").inner_text()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS and plan.first_approved_at is not None
    assert plan.approved_by == people.municipality
    page.goto(f"{base}/approvals/waiting/")
    check_page(page, shots, "waiting-per-municipality")
    log_out(page, base)

    # IKVD sets the routes; its menu still fits one line with the approvals in it.
    log_in(page, base, "agency")
    page.goto(f"{base}/approval-routes/")
    check_page(page, shots, "approval-routes")
    page.locator(f"main a[href='/approval-routes/{people.school.municipality_id}/']").click()
    page.wait_for_url(re.compile(r"/approval-routes/\d+/$"))
    check_page(page, shots, "approval-route-form")
    page.select_option("#id_route", ApprovalRoute.MUNICIPALITY_AGENCY)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    people.school.municipality.refresh_from_db()
    assert people.school.municipality.approval_route == ApprovalRoute.MUNICIPALITY_AGENCY

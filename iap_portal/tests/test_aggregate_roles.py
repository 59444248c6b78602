"""The municipality and the agency see numbers, never a child: every page they can open, and
every format of the report, is searched for the pupils' names, codes and guardians."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from iap_portal.tests.test_permissions import EXPECTED, cast_plan, cast_waiting_plan, url_for
from students.models import Guardian

AGGREGATE = ["municipality", "agency"]


def personal_strings(cast):
    student = cast.student
    Guardian.objects.create(student=student, name="Aizbildne Unikālā", phone="+37120000000")
    strings = {student.first_name, student.last_name, student.personas_kods}
    strings |= {student.personas_kods[:6], student.personas_kods[6:]}
    strings |= set(Guardian.objects.filter(student=student).values_list("name", flat=True))
    return {s for s in strings if s and len(s) >= 4}


def text_of(response):
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return body.decode("utf-8", errors="replace")


@pytest.mark.parametrize("role", AGGREGATE)
def test_no_page_an_aggregate_role_can_open_names_a_pupil(client, cast, role):
    secrets = personal_strings(cast)
    cast_plan(cast)  # the pupil is counted in the reports
    client.force_login(cast.users[role])
    opened = []
    for name in sorted(EXPECTED):
        if EXPECTED[name]["GET"].get(role) != "ok":
            continue
        url = url_for(name, cast)
        variants = [url]
        if name == "participation_report":
            variants += [f"{url}?format={fmt}" for fmt in ("csv", "xlsx", "pdf")]
        for variant in variants:
            response = client.get(variant, follow=True)
            assert response.status_code == 200, variant
            text = text_of(response)
            leaked = [s for s in secrets if s in text]
            assert not leaked, (variant, leaked)
            if name == "participation_report" and "csv" not in variant:
                # The text was really read: the per-school table names the school.
                assert cast.school.name in text, variant
            opened.append(variant)
    assert any("participation" in u for u in opened), opened


FREE_TEXT = {
    "goals": "Mērķis-Slepens-Goals",
    "justification": "Pamatojums-Slepens-Risk",
    "description": "Apraksts-Slepens-Measure",
    "comment": "Komentārs-Slepens-Return",
    "ceiling": "Griesti-Slepens-Ceiling",
}


def plan_with_free_text(plan):
    """Free text in every place a plan holds it, an earlier return's comment included."""
    from plans.models import PlanStatusChange, SupportMeasure

    type(plan).objects.filter(pk=plan.pk).update(
        goals=FREE_TEXT["goals"], status_comment=FREE_TEXT["comment"]
    )
    plan.risks.update(justification=FREE_TEXT["justification"])
    SupportMeasure.objects.filter(plan=plan).update(
        description=FREE_TEXT["description"], ceiling_justification=FREE_TEXT["ceiling"]
    )
    PlanStatusChange.objects.create(
        plan=plan, from_status="submitted", to_status="draft", comment=FREE_TEXT["comment"]
    )
    return plan


@pytest.mark.parametrize("role", AGGREGATE)
def test_the_levels_above_the_school_see_a_plan_without_its_pupil(client, cast, role):
    """Every page and export a municipal or IKVD approver can open, with a plan waiting for
    them, shows neither the pupil (names, personal code, guardians) nor the plan's free text."""
    from django.urls import reverse
    from django.utils import timezone

    from plans.tests.factories import ready_plan
    from students.models import ApprovalLevel

    secrets = personal_strings(cast) | set(FREE_TEXT.values())
    secrets |= {cast.other_student.first_name, cast.other_student.last_name}
    at_municipality = plan_with_free_text(cast_waiting_plan(cast))
    at_agency = plan_with_free_text(
        ready_plan(
            student=cast.other_student,
            preparer=cast.social_pedagogue,
            responsible=cast.specialist,
            status="submitted",
            submitted_at=timezone.now(),
            approval_level=ApprovalLevel.AGENCY,
            school_approved_by=cast.coordinator,
            school_approved_at=timezone.now(),
        )
    )
    mine = at_municipality if role == "municipality" else at_agency
    client.force_login(cast.users[role])
    urls = [
        url_for(name, cast) for name in sorted(EXPECTED) if EXPECTED[name]["GET"].get(role) == "ok"
    ]
    urls += [reverse("approval_detail", args=[mine.pk]), reverse("approval_return", args=[mine.pk])]
    urls += [f"{reverse('approval_queue')}?school={cast.school.pk}&min_amount=0"]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        text = text_of(response)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (url, leaked)
    # The pages were really read: the queue and the plan's page show the plan by its code.
    queue = client.get(reverse("approval_queue")).content.decode()
    assert mine.code in queue
    page = client.get(reverse("approval_detail", args=[mine.pk])).content.decode()
    assert mine.code in page and "psihologs" in page and cast.school.name in page

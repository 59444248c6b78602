"""The municipality and the agency see numbers, never a child: every page they can open, and
every format of the report, is searched for the pupils' names, codes and guardians."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from iap_portal.tests.test_permissions import EXPECTED, cast_plan, url_for
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

"""Property-based: whatever people type or upload, the answer is a page with clear errors or a
success — never a 500 — and nothing is half-saved."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensations.models import CompensationClaim, Receipt
from compensations.tests.factories import transport_measure
from plans.models import Consultation, PlanStatus
from plans.tests.factories import ready_plan
from students.models import Guardian, Student

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=300)
anything = st.one_of(
    text,
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: d.isoformat()),
    st.just(""),
)


@PROPERTY
@given(first=text, last=text, code=anything, born=anything, gender=anything, group=anything)
def test_the_pupil_form_never_fails(cast, client, first, last, code, born, gender, group):
    client.force_login(cast.coordinator)
    before = (Student.objects.count(), Guardian.objects.count())
    response = client.post(
        reverse("student_create"),
        {
            "first_name": first,
            "last_name": last,
            "personas_kods": code,
            "birth_date": born,
            "gender": gender,
            "status": "active",
            "class_group": group,
            "guardians-TOTAL_FORMS": "1",
            "guardians-INITIAL_FORMS": "0",
            "guardians-0-name": last,
            "guardians-0-email": first,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert (Student.objects.count(), Guardian.objects.count()) == before


@PROPERTY
@given(content=st.binary(max_size=3000), name=st.text(min_size=1, max_size=40))
def test_the_import_never_fails_and_never_half_imports(cast, client, content, name):
    client.force_login(cast.coordinator)
    before = Student.objects.count()
    response = client.post(
        reverse("student_import"),
        # Any name a browser could send: no path separators, never "." or ".." on its own
        # (Django refuses to build such an upload, as a browser never sends one).
        {"file": SimpleUploadedFile("f" + name.replace("/", "_").replace("\x00", ""), content)},
    )
    assert response.status_code == 200
    assert Student.objects.count() == before


@PROPERTY
@given(
    header=st.lists(
        st.sampled_from(["Vārds", "Uzvārds", "Klase", "Personas kods", "x"]), min_size=1, max_size=6
    ),
    rows=st.lists(st.lists(text, max_size=6), max_size=5),
)
def test_csv_files_of_any_shape_are_checked_not_crashed(cast, client, header, rows):
    client.force_login(cast.coordinator)
    body = "\n".join(
        ";".join(c.replace(";", ",").replace("\n", " ") for c in r) for r in [header, *rows]
    )
    before = Student.objects.count()
    response = client.post(
        reverse("student_import"), {"file": SimpleUploadedFile("a.csv", body.encode())}
    )
    assert response.status_code == 200
    assert Student.objects.count() == before


@PROPERTY
@given(day=anything, minutes=anything, topic=text, mode=anything, confirmation=anything)
def test_the_consultation_form_never_fails(cast, client, day, minutes, topic, mode, confirmation):
    plan = (
        ready_plan(
            student=cast.student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
        )
        if not cast.student.plans.exists()
        else cast.student.plans.get()
    )
    measure = plan.measures.get()
    client.force_login(cast.specialist)
    before = Consultation.objects.count()
    response = client.post(
        reverse("consultation_create", args=[measure.pk]),
        {
            "date": day,
            "minutes": minutes,
            "topic": topic,
            "mode": mode,
            "confirmation": confirmation,
            "confirmed_on": day,
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Consultation.objects.count() == before


@PROPERTY
@given(
    month=anything, day=anything, amount=anything, description=text, content=st.binary(max_size=200)
)
def test_the_claim_form_never_fails(cast, client, month, day, amount, description, content):
    plan = (
        ready_plan(
            student=cast.student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
        )
        if not cast.student.plans.exists()
        else cast.student.plans.get()
    )
    measure = plan.measures.filter(measure_type="compensation").first() or transport_measure(plan)
    client.force_login(cast.class_teacher)
    before = (CompensationClaim.objects.count(), Receipt.objects.count())
    response = client.post(
        reverse("claim_create", args=[measure.pk]),
        {
            "month": month,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-date": day,
            "lines-0-description": description,
            "lines-0-amount": amount,
            "receipts": [SimpleUploadedFile("r.pdf", content)],
        },
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert (CompensationClaim.objects.count(), Receipt.objects.count()) == before


# --- Tampered ids ---------------------------------------------------------------------------

TAMPERED_IDS = ["abc", "-1", "0", "99999999999999999999", "9223372036854775808", "٣", "1.5", ""]


def test_a_tampered_plan_to_copy_from_is_not_found(cast, client):
    """copy_from=abc gave a 500 (ValueError in the query), so did an id beyond 64 bits."""
    from plans.models import SupportPlan
    from students.models import Semester

    client.force_login(cast.class_teacher)
    url = reverse("plan_create", args=[cast.student.pk])
    semester = Semester.objects.current()
    for value in TAMPERED_IDS:
        response = client.post(
            url, {"semester": semester.pk, "kind": "regular", "copy_from": value}
        )
        assert response.status_code in (302, 404), (value, response.status_code)
        if value:  # an empty copy_from is "do not copy"
            assert response.status_code == 404, value
    assert SupportPlan.objects.filter(student=cast.student).count() == 1


def test_tampered_claims_to_batch_are_ignored(cast, client):
    """claims=99999999999999999999 gave a 500 (an overflow in the database) when claims were
    marked paid from a list; they are put into a payment batch from one now."""
    from payments.services import create_batch

    batch = create_batch(
        school=cast.school, month=timezone.localdate().replace(day=1), by=cast.coordinator
    )
    client.force_login(cast.coordinator)
    for value in TAMPERED_IDS:
        response = client.post(reverse("batch_add", args=[batch.pk]), {"claims": [value, "12"]})
        assert response.status_code in (200, 302), (value, response.status_code)


def test_the_id_parser_takes_ascii_ids_within_64_bits_only():
    from iap_portal.forms import parse_id, parse_ids

    assert [parse_id(v) for v in ["1", " 42 ", "9223372036854775807"]] == [1, 42, 2**63 - 1]
    assert all(parse_id(v) is None for v in TAMPERED_IDS + [None, 5, "1 2"])
    assert parse_ids(["3", "x", "٣", "4"]) == [3, 4]

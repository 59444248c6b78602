"""Property-based: whatever e-journal file is uploaded, the answer is a page with clear errors
or a preview — never a 500 — and nothing is saved before the confirmation."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from early_warning.models import Attendance, Grade, ImportRecord

from .helpers import current_semester

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = [
    "Vārds",
    "Uzvārds",
    "Klase",
    "Personas kods",
    "Stundas",
    "Attaisnoti",
    "Neattaisnoti",
    "Piezīmes",
    "Matemātika",
    "Priekšmets",
    "Vērtējums",
]
cell = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-5, max_value=200).map(str),
    st.sampled_from(["nv", "NV", "7.a", "8.b", "Elza", "Bērziņa", "32867300679", "3.0", ""]),
)


def post(client, kind, content):
    semester = current_semester()
    return client.post(
        reverse("ew_import"),
        {
            "kind": kind,
            "start_date": semester.start_date.isoformat(),
            "end_date": semester.start_date.isoformat(),
            "file": SimpleUploadedFile("e.csv", content),
        },
    )


@PROPERTY
@given(
    kind=st.sampled_from(["absences", "grades", "conduct"]),
    header=st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8),
    rows=st.lists(st.lists(cell, max_size=8), max_size=5),
)
def test_csv_files_of_any_shape_are_checked_not_crashed(cast, client, kind, header, rows):
    client.force_login(cast.coordinator)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([header, *rows])
    response = post(client, kind, buffer.getvalue().encode("utf-8"))
    assert response.status_code == 200
    assert not Attendance.objects.exists() and not Grade.objects.exists()
    assert not ImportRecord.objects.exists()


@PROPERTY
@given(kind=st.sampled_from(["absences", "grades", "conduct"]), content=st.binary(max_size=2000))
def test_any_bytes_are_refused_or_checked(cast, client, kind, content):
    client.force_login(cast.coordinator)
    assert post(client, kind, content).status_code == 200
    assert not ImportRecord.objects.exists()

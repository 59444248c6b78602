import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from early_warning.models import Attendance, ConductNotes, Grade, ImportRecord, Indicator, Level
from students.tests.factories import StudentFactory, enrol

from .helpers import current_semester

ABSENCES = "Personas kods;Vārds;Uzvārds;Klase;Stundas;Attaisnoti;Neattaisnoti\n"


def csv_file(text, name="kavejumi.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def xlsx_file(rows, name="vertejumi.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def period_fields():
    semester = current_semester()
    from django.utils import timezone

    end = max(semester.start_date, timezone.localdate())
    return {"start_date": semester.start_date.isoformat(), "end_date": end.isoformat()}


def upload(client, file, kind="absences", **fields):
    data = {"kind": kind, "file": file, **period_fields(), **fields}
    return client.post(reverse("ew_import"), data)


def confirm(client):
    return client.post(reverse("ew_import_confirm"))


@pytest.fixture
def coded(cast):
    cast.student.personas_kods = "32867300679"
    cast.student.save()
    return cast


def test_it_previews_then_imports_absences_matched_by_code_or_by_name_and_class(coded, login):
    cast = coded
    client = login(cast.coordinator)
    text = ABSENCES + "32867300679;;;;100;4;12\n;Kārlis;Ozols;8.b;100;2;0\n"
    response = upload(client, csv_file(text))
    check = response.context["check"]
    assert check.is_valid, [r.errors for r in check.rows]
    assert [r.student_id for r in check.rows] == [cast.student.pk, cast.other_student.pk]
    assert not Attendance.objects.exists()  # the preview saves nothing

    response = confirm(client)
    assert response.status_code == 302 and response["Location"] == reverse("ew_import_list")
    elza = Attendance.objects.get(student=cast.student)
    assert (elza.lessons_held, elza.excused, elza.unexcused) == (100, 4, 12)
    record = ImportRecord.objects.get()
    assert (record.kind, record.file_name, record.row_count, record.imported_by) == (
        "absences",
        "kavejumi.csv",
        2,
        cast.coordinator,
    )
    # The levels were computed at once: 84 % and 12 unexcused lessons.
    indicator = Indicator.objects.get(student=cast.student)
    assert indicator.level == Level.AT_RISK
    assert {t["code"] for t in indicator.triggers} == {"attendance", "unexcused"}
    assert Indicator.objects.get(student=cast.other_student).level == Level.NONE
    # The past imports page lists it.
    content = client.get(reverse("ew_import_list")).content.decode()
    assert "kavejumi.csv" in content


def test_a_malformed_file_lists_every_bad_row_and_saves_nothing(coded, login):
    cast = coded
    client = login(cast.coordinator)
    text = (
        ABSENCES
        + "32867300679;;;;100;4;12\n"  # row 2: fine
        + ";Nav;Tāds;7.a;100;0;0\n"  # row 3: no such pupil
        + ";Kārlis;Ozols;8.b;100;70;40\n"  # row 4: more absences than lessons
        + ";Kārlis;Ozols;7.a;100;0;0\n"  # row 5: wrong class
        + "161175-19998;;;;100;0;0\n"  # row 6: bad code checksum
        + "32867300679;;;;daudz;0;0\n"  # row 7: not a number, and a duplicate of row 2
    )
    response = upload(client, csv_file(text))
    check = response.context["check"]
    assert not check.is_valid
    assert [r.number for r in check.error_rows] == [3, 4, 5, 6, 7]
    errors = {r.number: " ".join(r.errors) for r in check.error_rows}
    assert "Nav Tāds" in errors[3]
    assert "100" in errors[4]
    assert "7.a" in errors[5]
    assert "row 2" in errors[7] or "2. rind" in errors[7]
    content = response.content.decode()
    assert "table-danger" in content
    # Nothing to confirm, nothing saved.
    assert confirm(client).status_code == 302
    assert not Attendance.objects.exists() and not ImportRecord.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Vārds;Uzvārds;Klase\nElza;Bērziņa;7.a\n", "Missing"),
        (ABSENCES, "no pupils"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(cast, login, text, message, settings):
    settings.LANGUAGE_CODE = "en"
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    response = upload(client, csv_file(text))
    assert response.context["check"] is None
    assert response.context["form"].errors["file"]
    assert not ImportRecord.objects.exists()


def test_grades_in_columns_per_subject_from_xlsx(cast, login):
    client = login(cast.coordinator)
    rows = [
        ["Nr.", "Vārds", "Uzvārds", "Klase", "Matemātika", "Vēsture", "Fizika", "Vidējais"],
        [1, "Elza", "Bērziņa", "7.a", 3, "nv", 8, 5.5],
        [12, "Kārlis", "Ozols", "8.b", 7, 8, None, 7.5],  # an empty cell is no grade
    ]
    response = upload(client, xlsx_file(rows), kind="grades")
    assert response.context["check"].is_valid, [r.errors for r in response.context["check"].rows]
    confirm(client)
    assert dict(Grade.objects.filter(student=cast.student).values_list("subject", "value")) == {
        "Matemātika": 3,
        "Vēsture": None,
        "Fizika": 8,
    }
    assert Grade.objects.filter(student=cast.other_student).count() == 2
    elza = Indicator.objects.get(student=cast.student)
    assert elza.level == Level.AT_RISK and elza.average == Decimal("5.5")  # nv not averaged
    assert Indicator.objects.get(student=cast.other_student).level == Level.NONE


def test_grades_in_the_long_form_and_bad_grades(cast, login):
    client = login(cast.coordinator)
    header = "Vārds;Uzvārds;Klase;Priekšmets;Vērtējums\n"
    good = header + "Elza;Bērziņa;7.a;Matemātika;6\nElza;Bērziņa;7.a;Vēsture;nv\n"
    response = upload(client, csv_file(good), kind="grades")
    assert response.context["check"].is_valid
    bad = header + "Elza;Bērziņa;7.a;Matemātika;11\nElza;Bērziņa;7.a;Matemātika;5\n"
    response = upload(client, csv_file(bad), kind="grades")
    check = response.context["check"]
    assert [r.number for r in check.error_rows] == [2]  # 11 is no grade; row 3 is then first
    bad = header + "Elza;Bērziņa;7.a;Matemātika;5\nElza;Bērziņa;7.a;Matemātika;6\n"
    check = upload(client, csv_file(bad), kind="grades").context["check"]
    assert [r.number for r in check.error_rows] == [3]


def test_conduct_notes_and_a_new_file_replaces_the_period_data(cast, login):
    client = login(cast.coordinator)
    header = "Vārds;Uzvārds;Klase;Piezīmes\n"
    upload(client, csv_file(header + "Elza;Bērziņa;7.a;9\nKārlis;Ozols;8.b;1\n"), kind="conduct")
    confirm(client)
    assert ConductNotes.objects.count() == 2
    upload(client, csv_file(header + "Elza;Bērziņa;7.a;1\n"), kind="conduct")
    confirm(client)
    assert list(ConductNotes.objects.values_list("student_id", "notes")) == [(cast.student.pk, 1)]
    assert ImportRecord.objects.count() == 2
    assert not Indicator.objects.filter(student=cast.other_student).exists()


def test_two_pupils_of_the_same_name_in_a_class_need_the_code(cast, login):
    twin = StudentFactory(school=cast.school, first_name="Elza", last_name="Bērziņa")
    enrol(twin, cast.class_group)
    client = login(cast.coordinator)
    check = upload(client, csv_file(ABSENCES + ";Elza;Bērziņa;7.a;100;0;0\n")).context["check"]
    assert not check.is_valid
    assert check.rows[0].student_id is None


def test_a_pupil_of_another_school_is_not_found(cast, login):
    client = login(cast.coordinator)
    check = upload(client, csv_file(ABSENCES + ";Marta;Liepa;7.a;100;0;0\n")).context["check"]
    assert not check.is_valid


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": "2000-01-01", "end_date": "2000-01-31"},  # outside the calendar
        {"end_date": "2000-01-01"},  # ends before it starts
    ],
)
def test_the_period_must_lie_in_one_semester(cast, login, fields):
    client = login(cast.coordinator)
    response = upload(client, csv_file(ABSENCES + ";Elza;Bērziņa;7.a;100;0;0\n"), **fields)
    assert response.context["form"].errors
    assert response.context["check"] is None


def test_overlapping_periods_are_refused(cast, login):
    client = login(cast.coordinator)
    upload(client, csv_file(ABSENCES + ";Elza;Bērziņa;7.a;100;0;0\n"))
    confirm(client)
    semester = current_semester()
    from datetime import timedelta

    response = upload(
        client,
        csv_file(ABSENCES + ";Elza;Bērziņa;7.a;100;0;0\n"),
        start_date=(semester.start_date + timedelta(days=1)).isoformat(),
    )
    assert response.context["form"].non_field_errors()


def test_the_import_page_links_sample_files_that_import_cleanly(cast, login):
    client = login(cast.coordinator)
    content = client.get(reverse("ew_import")).content.decode()
    for kind in ("absences", "grades", "conduct"):
        url = reverse("ew_sample", args=[kind])
        assert url in content
        response = client.get(url)
        assert response.status_code == 200
        header = b"".join(response.streaming_content).decode("utf-8").splitlines()[0]
        assert header.startswith("Personas kods;Vārds;Uzvārds;Klase")
    assert client.get("/early-warning/samples/passwords.csv").status_code == 404

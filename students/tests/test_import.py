import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from students import services
from students.models import ClassGroup, Enrollment, Student

HEADER = "Vārds;Uzvārds;Personas kods;Klase;Dzimšanas datums;Dzimums\n"


def csv_file(body, header=HEADER, name="skolēni.csv", encoding="utf-8-sig"):
    return SimpleUploadedFile(name, (header + body).encode(encoding), content_type="text/csv")


def xlsx_file(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("skolēni.xlsx", buffer.getvalue())


def upload(client, file):
    return client.post(reverse("student_import"), {"file": file})


def confirm(client):
    return client.post(reverse("student_import_confirm"))


GOOD_ROWS = (
    "Anna;Kalniņa;328673-00679;7.a;;S\n"
    "Jānis;Bērziņš;;9.b;01.02.2011;V\n"
    "Elza;Bērziņa;161175-19997;5a;;sieviete\n"
)


def test_it_previews_then_imports_a_good_csv(cast, login):
    client = login(cast.coordinator)
    before = Student.objects.count()
    response = upload(client, csv_file(GOOD_ROWS))
    assert response.status_code == 200
    check = response.context["check"]
    assert check.is_valid
    assert [r.action for r in check.rows] == ["create", "create", "create"]
    assert check.new_classes == ["5.a", "9.b"]  # 7.a exists in the cast
    assert Student.objects.count() == before  # the preview saves nothing

    response = confirm(client)
    assert response.status_code == 302
    assert Student.objects.count() == before + 3
    anna = Student.objects.get(last_name="Kalniņa")
    assert anna.personas_kods == "32867300679"
    assert anna.gender == Student.Gender.FEMALE
    assert anna.enrollments.get().class_group == cast.class_group
    janis = Student.objects.get(first_name="Jānis")
    assert janis.birth_date.isoformat() == "2011-02-01"
    assert janis.enrollments.get().class_group.label == "9.b"
    # The old-format code carries the birth date.
    assert (
        Student.objects.get(
            first_name="Elza", last_name="Bērziņa", personas_kods__gt=""
        ).birth_date.isoformat()
        == "1975-11-16"
    )
    assert ClassGroup.objects.filter(school=cast.school, school_year=cast.year).count() == 4


def test_it_imports_an_xlsx_with_english_headers_and_numeric_cells(cast, login):
    client = login(cast.coordinator)
    rows = [
        ["name", "surname", "personal code", "class", "birth date", "gender"],
        ["Roberts", "Ozols", 32867300679, "8.b", None, "M"],
    ]
    response = upload(client, xlsx_file(rows))
    assert response.context["check"].is_valid, response.context["check"].rows[0].errors
    confirm(client)
    roberts = Student.objects.get(first_name="Roberts")
    assert roberts.enrollments.get().class_group == cast.other_class


def test_it_lists_every_problem_by_row_number_and_saves_nothing(cast, login):
    client = login(cast.coordinator)
    before = (Student.objects.count(), Enrollment.objects.count(), ClassGroup.objects.count())
    body = (
        "Anna;Kalniņa;328673-00677;7.a;;S\n"  # row 2: bad check digit
        ";Bērziņš;;7.a;;V\n"  # row 3: no name
        "Pēteris;Kļava;;13.a;;V\n"  # row 4: no such grade
        "Ilze;Lapa;;7.a;31.02.2012;S\n"  # row 5: no such date
        "Maija;Vītola;;7.a;;X\n"  # row 6: gender not understood
        "Rita;Zariņa;328673-00679;7.a;;S\n"  # row 7
        "Rita;Zariņa;328673-00679;7.a;;S\n"  # row 8: duplicate of row 7
    )
    response = upload(client, csv_file(body))
    check = response.context["check"]
    assert not check.is_valid
    errors = {row.number: row.errors for row in check.rows}
    assert [n for n, e in errors.items() if e] == [2, 3, 4, 5, 6, 8]
    assert "row 7" in errors[8][0] or "7. rind" in errors[8][0]
    assert IMPORT_KEY not in client.session
    # Confirming is refused: nothing checked is pending.
    response = confirm(client)
    assert response.status_code == 302
    assert (
        Student.objects.count(),
        Enrollment.objects.count(),
        ClassGroup.objects.count(),
    ) == before
    # The preview page shows the row numbers.
    response = upload(client, csv_file(body))
    assert b"<td>8</td>" in response.content


IMPORT_KEY = "students_import"


def test_it_finds_duplicates_without_codes_by_name_and_birth_date(cast, login):
    client = login(cast.coordinator)
    body = "Ance;Liepa;;7.a;02.03.2012;S\nAnce;Liepa;;7.b;2012-03-02;S\n"
    check = upload(client, csv_file(body)).context["check"]
    assert [bool(r.errors) for r in check.rows] == [False, True]


@pytest.mark.parametrize(
    ("content", "message_part"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\xff\xfe", "CSV"),
        (b"PK\x03\x04not really a zip", "XLSX"),
        (b"\xd0\xcf\x11\xe0old excel", "xls"),
        (b"Name;Class\nAnna;7.a\n", "surname"),
        (HEADER.encode(), "no pupils"),
    ],
)
def test_it_refuses_a_malformed_file_with_a_clear_error(
    cast, login, content, message_part, settings
):
    settings.LANGUAGE_CODE = "en"
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    before = Student.objects.count()
    response = upload(client, SimpleUploadedFile("x.csv", content))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message_part.lower() in str(errors).lower()
    assert Student.objects.count() == before


def test_it_refuses_a_file_over_the_size_limit(cast, login, settings):
    settings.IAP_IMPORT_MAX_BYTES = 100
    client = login(cast.coordinator)
    response = upload(client, csv_file(GOOD_ROWS * 5))
    assert response.context["form"].errors["file"]


def test_a_second_import_updates_known_pupils_instead_of_duplicating(cast, login):
    client = login(cast.coordinator)
    upload(client, csv_file(GOOD_ROWS))
    confirm(client)
    count = Student.objects.count()
    moved = GOOD_ROWS.replace("328673-00679;7.a", "328673-00679;8.b")
    check = upload(client, csv_file(moved)).context["check"]
    assert [r.action for r in check.rows] == ["update", "update", "update"]
    confirm(client)
    assert Student.objects.count() == count
    anna = Student.objects.get(personas_kods="32867300679")
    assert anna.enrollments.get(school_year=cast.year).class_group == cast.other_class


def test_it_saves_all_rows_or_none(cast, login, monkeypatch):
    client = login(cast.coordinator)
    upload(client, csv_file(GOOD_ROWS))
    before = Student.objects.count()
    calls = []
    real = services.set_enrollment

    def failing_on_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "set_enrollment", failing_on_third)
    client.raise_request_exception = False
    response = confirm(client)
    assert response.status_code == 500
    assert Student.objects.count() == before


def test_the_preview_is_checked_again_at_confirmation(cast, login):
    client = login(cast.coordinator)
    upload(client, csv_file("Anna;Kalniņa;328673-00679;7.a;;S\nAnna;Kalniņa;328673-00679;7.a;;S\n"))
    # Invalid files never reach the session, so fake a stale one to be sure it is re-checked.
    session = client.session
    session[IMPORT_KEY] = {
        "school": cast.school.pk,
        "year": cast.year.pk,
        "name": "x.csv",
        "rows": [[2, {"first_name": "", "last_name": "X", "class": "7.a"}]],
    }
    session.save()
    before = Student.objects.count()
    response = confirm(client)
    assert response.status_code == 302
    assert Student.objects.count() == before


def test_another_schools_coordinator_cannot_confirm_a_pending_import(cast, client):
    client.force_login(cast.coordinator)
    upload(client, csv_file(GOOD_ROWS))
    session_key = client.session.session_key
    other = type(client)()
    other.force_login(cast.other_coordinator)
    before = Student.objects.count()
    other.post(reverse("student_import_confirm"))
    assert Student.objects.count() == before
    assert session_key  # the coordinator's own pending import is untouched

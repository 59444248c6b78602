import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from compensations import services as claim_services
from compensations.tests.factories import submitted_claim, transport_measure
from iap_portal.pdf import StaticOnlyFetcher
from iap_portal.users import display_name
from plans.models import Consultation, PlanEvaluation, PlanStatus, SupportPlan
from plans.tests.factories import add_risk, make_plan, ready_plan
from reports import participation
from reports.models import PlanBundle
from students.models import School, Semester, Student
from students.tests.factories import ClassGroupFactory, StudentFactory, enrol


def counted(cast, student, *, status=PlanStatus.IN_PROGRESS, semester=None, **fields):
    return ready_plan(
        student=student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=status,
        first_approved_at=timezone.now(),
        semester=semester or Semester.objects.current(),
        **fields,
    )


def pupils(cast, n, *, gender="F", class_group=None, school=None):
    made = []
    for _ in range(n):
        student = StudentFactory(school=school or cast.school, gender=gender)
        enrol(student, class_group or cast.class_group)
        made.append(student)
    return made


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- Who counts -----------------------------------------------------------------------------


def test_a_pupil_counts_once_when_a_plan_was_approved_and_not_deleted(cast):
    semester = Semester.objects.current()
    counted(cast, cast.student)
    counted(cast, cast.student, kind="holiday")  # a second plan: still one pupil
    make_plan(student=cast.other_student, preparer=cast.class_teacher)  # never approved
    deleted = StudentFactory(school=cast.school)
    counted(cast, deleted, status=PlanStatus.INACTIVE)
    revised = StudentFactory(school=cast.school)
    counted(cast, revised, status=PlanStatus.REVISION)  # approved once: counts
    table = participation.participation_by_semester(School.objects.filter(pk=cast.school.pk))
    year = f"{semester.school_year.start_year}/{semester.school_year.start_year + 1}"
    column = 1 if semester.number == 1 else 2
    assert [(row[0], row[column].value) for row in table.rows] == [(year, 2)]


# --- Breakdowns on hand-made data -------------------------------------------------------------


def test_breakdowns_have_the_known_answers(cast):
    semester = Semester.objects.current()
    girls = pupils(cast, 2, gender="F")
    boys = pupils(cast, 1, gender="M", class_group=cast.other_class)
    plans = [counted(cast, s) for s in girls + boys]
    # An economic risk for one girl, and a transport compensation with claims.
    add_risk(plans[0], "attalums-lidz-skolai-un-transporta-izmaksas")
    measure = transport_measure(plans[0], planned="100.00")
    approved = submitted_claim(
        plan=plans[0], by=cast.class_teacher, amount="40.00", measure=measure
    )
    claim_services.approve_claim(claim=approved, by=cast.social_pedagogue)
    submitted_claim(plan=plans[0], by=cast.class_teacher, amount="15.00", measure=measure)
    # 90 minutes delivered on one consultation measure.
    Consultation.objects.create(
        measure=plans[1].measures.get(measure_type="consultation"),
        date=timezone.localdate(),
        minutes=90,
        topic="T",
        provider=cast.specialist,
    )
    PlanEvaluation.objects.create(
        plan=plans[2], narrative="x", overall_outcome="promoted", evaluated_by=cast.class_teacher
    )
    tables = participation.semester_breakdowns(School.objects.filter(pk=cast.school.pk), semester)

    def rows(index):
        return [
            [c.value if isinstance(c, participation.Cell) else c for c in row]
            for row in tables[index].rows
        ]

    # Tables: grade, gender, risk type, measures, money, outcomes, youth NGO projects.
    assert rows(0) == [["7.", 2], ["8.", 1]]
    assert {str(r[0]): r[1] for r in rows(1)} == {"sieviete": 2, "vīrietis": 1}
    assert {r[0][:2]: r[1] for r in rows(2)} == {"1.": 3, "2.": 1}
    measures = rows(3)
    consultation = next(r for r in measures if r[1] == "psihologs")
    assert consultation[2] == 3 and consultation[3] == Decimal("18.0")
    assert consultation[4] == Decimal("1.5")
    money = rows(4)
    assert money == [
        [money[0][0], 1, Decimal("100.00"), Decimal("55.00"), Decimal("40.00"), Decimal("0.00")]
    ]
    outcomes = rows(5)
    assert [r[1] for r in outcomes] == [1]


# --- Scope and privacy ----------------------------------------------------------------------


def test_the_agency_sees_no_names_and_small_counts_are_hidden(cast, login):
    counted(cast, cast.student)
    counted(cast, cast.other_student)
    for student in pupils(
        cast,
        3,
        school=cast.other_school,
        class_group=ClassGroupFactory(school=cast.other_school, school_year=cast.year),
    ):
        counted(cast, student)
    response = login(cast.agency).get(reverse("participation_report"))
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("Elza", "Bērziņa", "Kārlis", "Ozols", cast.student.last_name):
        assert name not in content
    assert "&lt;3" in content  # school A's 2 pupils
    per_school = next(t for t in response.context["tables"] if len(t.columns) == 3)
    cells = {row[1]: str(row[2]) for row in per_school.rows}
    # Each school is its municipality's only one, and the country's total (5) is shown:
    # school B's 3 (and its municipality's) is hidden too, or 5 − 3 would give A's 2 away.
    assert cast.school.municipality_id != cast.other_school.municipality_id
    assert cells == {cast.school.name: "<3", cast.other_school.name: "x"}
    # The national total is 5, which is not small.
    assert "5" in [str(c) for row in response.context["main"].rows for c in row[1:]]


def test_a_municipality_sees_only_its_schools(cast, login):
    counted(cast, cast.student)
    other = pupils(
        cast,
        1,
        school=cast.other_school,
        class_group=ClassGroupFactory(school=cast.other_school, school_year=cast.year),
    )
    counted(cast, other[0])
    response = login(cast.municipality).get(reverse("participation_report"))
    per_school = next(t for t in response.context["tables"] if len(t.columns) == 3)
    assert [row[1] for row in per_school.rows] == [cast.school.name]


def test_the_agency_narrows_the_report_to_one_municipality(cast, login):
    counted(cast, cast.student)
    other = pupils(
        cast,
        1,
        school=cast.other_school,
        class_group=ClassGroupFactory(school=cast.other_school, school_year=cast.year),
    )
    counted(cast, other[0])
    client = login(cast.agency)
    everything = client.get(reverse("participation_report"))
    assert everything.context["scope_key"] == "all"
    per_school = next(t for t in everything.context["tables"] if len(t.columns) == 3)
    assert len(per_school.rows) == 2
    scope = f"municipality-{cast.school.municipality_id}"
    assert scope in [key for key, *_rest in everything.context["scopes"]]
    response = client.get(reverse("participation_report"), {"scope": scope})
    per_school = next(t for t in response.context["tables"] if len(t.columns) == 3)
    assert [row[1] for row in per_school.rows] == [cast.school.name]


def test_aggregate_figures_are_kept_for_a_few_minutes_and_a_schools_are_not(
    cast, login, django_assert_max_num_queries
):
    counted(cast, cast.student)
    agency = login(cast.agency)
    first = agency.get(reverse("participation_report"))
    counted(cast, cast.other_student)
    # The aggregate queries are not run again: the agency sees the figures of a moment ago.
    with django_assert_max_num_queries(6):
        again = agency.get(reverse("participation_report"))
    assert [str(c) for c in again.context["main"].rows[-1]] == [
        str(c) for c in first.context["main"].rows[-1]
    ]
    # The school's coordinator sees the new plan at once.
    school = login(cast.coordinator).get(reverse("participation_report"))
    assert sum(c.value for row in school.context["main"].rows for c in row[1:]) == 2


def test_a_coordinator_reports_on_their_own_school_only(cast, login):
    counted(cast, cast.student)
    response = login(cast.coordinator).get(
        reverse("participation_report"), {"scope": "all", "format": "csv"}
    )
    rows = csv_rows(response)
    # The first section: the pupils per semester, as on the page.
    assert rows[:2] == [["Izglītojamie projektā"], ["Mācību gads", "I semestris", "II semestris"]]
    first = rows[2 : rows.index([])]
    assert sum(int(n) for row in first for n in row[1:]) == 1


# --- Formats --------------------------------------------------------------------------------


def test_the_report_formats_parse_back(cast, login):
    counted(cast, cast.student)
    client = login(cast.coordinator)
    xlsx = client.get(reverse("participation_report"), {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    first = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert first[0] == ("Mācību gads", "I semestris", "II semestris")
    assert 1 in first[1]  # a number, not text
    # the table, the flagged pupils with a plan, risk types per semester, and seven
    # breakdowns (the last: youth NGO projects)
    assert len(workbook.worksheets) == 10
    share = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert share[0][:3] == ("Mācību gads", "Semestris", "Ar riska signālu")
    pdf = client.get(reverse("participation_report"), {"format": "pdf"})
    text = pdf_text(pdf.content)
    assert cast.school.name in text and "Dalība" in text
    assert cast.coordinator.get_full_name() in text


def test_the_plan_pdf_has_the_pupil_the_code_and_page_numbers(cast, login):
    plan = counted(cast, cast.student, goals="<b>bold</b> <img src='file:///etc/passwd'>")
    response = login(cast.class_teacher).get(reverse("plan_pdf", args=[plan.public_id]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert plan.code in text and "Elza Bērziņa" in text
    assert "1 / 1" in text
    assert "<b>bold</b>" in text  # HTML in a plan prints as text


def test_the_plan_pdf_follows_the_users_language(cast, login):
    plan = counted(cast, cast.student)
    client = login(cast.class_teacher)
    client.cookies["django_language"] = "en"
    text = pdf_text(client.get(reverse("plan_pdf", args=[plan.public_id])).content)
    assert "Individual support plan" in text


def page_texts(response):
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


@pytest.mark.parametrize(
    ("language", "watermark"), [("lv", "PROJEKTS"), ("en", "DRAFT")], ids=["lv", "en"]
)
def test_a_plan_not_approved_prints_as_a_draft_on_every_page(cast, login, language, watermark):
    draft = make_plan(
        student=cast.student, preparer=cast.class_teacher, goals="Mērķis.\n" * 120
    )  # long enough for two pages
    approved = counted(cast, cast.other_student)
    client = login(cast.coordinator)
    client.cookies["django_language"] = language
    pages = page_texts(client.get(reverse("plan_pdf", args=[draft.public_id])))
    assert len(pages) >= 2
    assert all(watermark in text for text in pages)
    assert watermark not in pdf_text(
        client.get(reverse("plan_pdf", args=[approved.public_id])).content
    )


@pytest.mark.parametrize(
    "status", [PlanStatus.SUBMITTED, PlanStatus.REVISION, PlanStatus.IN_PROGRESS]
)
def test_the_watermark_follows_whether_the_content_is_approved(cast, login, status):
    plan = counted(cast, cast.student, status=status)
    text = pdf_text(login(cast.coordinator).get(reverse("plan_pdf", args=[plan.public_id])).content)
    assert ("PROJEKTS" in text) == (status != PlanStatus.IN_PROGRESS)


@pytest.mark.parametrize(
    ("language", "printed", "generated"),
    [("lv", "Izdrukāja", "Sagatavoja"), ("en", "Printed by", "Generated by")],
    ids=["lv", "en"],
)
def test_the_footer_names_who_printed_the_plan_not_a_second_author(
    cast, login, language, printed, generated
):
    plan = counted(cast, cast.student)
    client = login(cast.coordinator)
    client.cookies["django_language"] = language
    text = pdf_text(client.get(reverse("plan_pdf", args=[plan.public_id])).content)
    assert f"{printed} {display_name(cast.coordinator)}" in text.replace("\n", " ")
    assert generated not in text


def test_the_pdf_fetcher_refuses_anything_but_static_files():
    fetcher = StaticOnlyFetcher()
    for url in ("file:///etc/passwd", "http://example.com/x.png", "https://127.0.0.1/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# --- Queries --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 12])
def test_the_report_takes_a_fixed_number_of_queries(cast, login, django_assert_num_queries, size):
    for student in pupils(cast, size):
        plan = counted(cast, student)
        transport_measure(plan)
    client = login(cast.agency)
    # session, user, memberships, municipalities, semesters; then the country's figures,
    # computed once for every scope: the school directory, pupils per semester (country,
    # municipality, school), grade, gender and risk types of every semester (country,
    # municipality), flagged pupils with a plan (country, municipality); the semester's
    # measures, pupils per youth NGO project, planned money and outcomes (country,
    # municipality each), delivered minutes and claims (per municipality, the country's sums
    # added up from them), each school's consultations and delivered minutes (fidelity) —
    # 29 at any size
    with django_assert_num_queries(29):
        client.get(reverse("participation_report"))


# --- Bundles --------------------------------------------------------------------------------


def test_a_semester_bundle_is_one_pdf_and_a_zip(cast, login, django_capture_on_commit_callbacks):
    first = counted(cast, cast.student)
    second = counted(cast, cast.other_student)
    client = login(cast.coordinator)
    semester = Semester.objects.current()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("bundle_list"), {"semester": semester.pk})
    bundle = PlanBundle.objects.get()
    assert response["Location"] == reverse("bundle_detail", args=[bundle.public_id])
    bundle.refresh_from_db()
    assert (bundle.status, bundle.total, bundle.done) == ("done", 2, 2)
    page = client.get(reverse("bundle_detail", args=[bundle.public_id]), HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in page.content  # finished: the page stops polling
    pdf = client.get(reverse("bundle_download", args=[bundle.public_id, "pdf"]))
    text = pdf_text(b"".join(pdf.streaming_content))
    assert first.code in text and second.code in text
    archive = client.get(reverse("bundle_download", args=[bundle.public_id, "zip"]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert sorted(names) == sorted(f"{p.code.replace('/', '-')}.pdf" for p in (first, second))


def test_a_pending_bundle_page_keeps_polling(cast, login):
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=Semester.objects.current(), requested_by=cast.coordinator
    )
    page = login(cast.coordinator).get(reverse("bundle_detail", args=[bundle.public_id]))
    assert b'hx-trigger="every 2s"' in page.content
    assert (
        login(cast.coordinator)
        .get(reverse("bundle_download", args=[bundle.public_id, "pdf"]))
        .status_code
        == 404
    )


def test_the_bundle_page_says_what_its_status_says(cast, login):
    client = login(cast.coordinator)
    response = client.post(reverse("bundle_list"), {"semester": Semester.objects.current().pk})
    bundle = PlanBundle.objects.get()
    detail = reverse("bundle_detail", args=[bundle.public_id])
    assert "Apkopojums gaida rindā." in client.get(detail).content.decode()
    bundle.status = PlanBundle.Status.RUNNING
    bundle.save(update_fields=["status"])
    progress = client.get(detail, HTTP_HX_REQUEST="true").content.decode()
    assert "Apkopojums tiek sagatavots." in progress
    # Ready before the coordinator looked at the page they were sent to after asking.
    client.post(reverse("bundle_list"), {"semester": Semester.objects.current().pk})
    PlanBundle.objects.update(status=PlanBundle.Status.DONE)
    page = client.get(response["Location"]).content.decode()
    assert "Gatavs" in page
    assert "tiek sagatavots" not in page and "gaida rindā" not in page


# --- List exports ---------------------------------------------------------------------------


def test_the_lists_export_what_the_filters_show(cast, login):
    counted(cast, cast.student)
    cast.other_student.last_name = '=HYPERLINK("http://x")'
    cast.other_student.save()
    client = login(cast.coordinator)
    rows = csv_rows(client.get(reverse("student_list"), {"format": "csv"}))
    names = [r[0] for r in rows[1:]]
    assert "Bērziņa" in names and '\'=HYPERLINK("http://x")' in names
    rows = csv_rows(
        client.get(reverse("student_list"), {"class_group": cast.class_group.pk, "format": "csv"})
    )
    assert [r[0] for r in rows[1:]] == ["Bērziņa"]
    plans = csv_rows(client.get(reverse("plan_list"), {"format": "csv"}))
    assert len(plans) == 2 and plans[1][1] == "Bērziņa Elza"
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("plan_list"), {"format": "xlsx"}).content)
    ).active
    assert sheet.max_row == 2


def test_pupils_export_masks_the_code(cast, login):
    cast.student.personas_kods = "32867300679"
    cast.student.save()
    content = login(cast.coordinator).get(reverse("student_list"), {"format": "csv"}).content
    assert b"328673-*****" in content and b"32867300679" not in content


def test_plans_of_other_semesters_do_not_leak_into_the_counts(cast):
    from students.tests.factories import SchoolYearFactory

    old = SchoolYearFactory(start_year=cast.year.start_year - 1).semesters.get(number=1)
    counted(cast, cast.student, semester=old)
    current = Semester.objects.current()
    tables = participation.semester_breakdowns(School.objects.filter(pk=cast.school.pk), current)
    assert all(not t.rows for t in tables)
    assert Student.objects.count() >= 2
    assert SupportPlan.objects.count() == 1


# --- Large exports on the queue -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_export_is_built_on_the_queue_for_its_requester(
    cast, login, settings, django_capture_on_commit_callbacks, fmt
):
    settings.IAP_INLINE_EXPORT_ROWS = settings.IAP_INLINE_XLSX_ROWS = 1
    client = login(cast.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("student_list"), {"format": fmt, "q": ""})
    from reports.models import ExportJob

    job = ExportJob.objects.get()
    assert response["Location"] == reverse("export_detail", args=[job.public_id])
    job.refresh_from_db()
    assert (job.status, job.rows, job.kind) == ("done", 2, "pupils")
    page = client.get(reverse("export_detail", args=[job.public_id]))
    assert reverse("export_download", args=[job.public_id]).encode() in page.content
    download = client.get(reverse("export_download", args=[job.public_id]))
    content = b"".join(download.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert [r[0] for r in rows[1:]] == ["Bērziņa", "Ozols"]
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        assert [c.value for c in sheet["A"]][1:] == ["Bērziņa", "Ozols"]
    # Nobody else can see or fetch it.
    other = login(cast.social_pedagogue)
    assert other.get(reverse("export_download", args=[job.public_id])).status_code == 404


def test_a_spreadsheet_goes_to_the_queue_sooner_than_a_csv_file(cast, login, settings):
    """Writing XLSX costs about three times CSV per row, so it has its own, lower limit."""
    from reports.models import ExportJob

    settings.IAP_INLINE_EXPORT_ROWS = 2
    settings.IAP_INLINE_XLSX_ROWS = 1
    client = login(cast.coordinator)
    answer = client.get(reverse("student_list"), {"format": "csv"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert not ExportJob.objects.exists()
    answer = client.get(reverse("student_list"), {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert (answer.status_code, job.format) == (302, "xlsx")
    settings.IAP_INLINE_XLSX_ROWS = 2
    answer = client.get(reverse("student_list"), {"format": "xlsx"})
    assert answer.status_code == 200 and ExportJob.objects.count() == 1


def test_the_bundle_pdf_joins_every_plan_with_a_bookmark_each(cast, login, settings):
    """The bundle is written plan by plan (reports.pdfmerge): a valid PDF with every plan's
    pages, one bookmark per plan, and the programme named as in a single plan's PDF."""
    from reports.models import PlanBundle
    from reports.tasks import build_bundle
    from students.models import Semester

    first = counted(cast, cast.student)
    second = counted(cast, cast.other_student)
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=Semester.objects.current(), requested_by=cast.coordinator
    )
    build_bundle.enqueue(bundle_id=str(bundle.public_id))
    bundle.refresh_from_db()
    assert bundle.status == PlanBundle.Status.DONE
    reader = PdfReader(bundle.pdf.open("rb"), strict=True)
    client = login(cast.coordinator)
    singles = [
        PdfReader(io.BytesIO(client.get(reverse("plan_pdf", args=[plan.public_id])).content))
        for plan in (first, second)
    ]
    assert len(reader.pages) == sum(len(s.pages) for s in singles)
    titles = sorted(item.title for item in reader.outline)
    assert titles == sorted(f"{p.code} {p.student}" for p in (first, second))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for plan in (first, second):
        assert plan.code in text
    assert f"{settings.IAP_PROGRAMME_NAME} ({settings.IAP_PROGRAMME_CODE})" in text


@pytest.mark.parametrize("size", [1, 12])
def test_a_schools_report_with_its_charts_takes_a_fixed_number_of_queries(
    cast, login, django_assert_num_queries, size
):
    for student in pupils(cast, size):
        plan = counted(cast, student)
        transport_measure(plan)
    client = login(cast.coordinator)
    # session, user, memberships, the scopes' schools and municipalities, semesters; the
    # school's pupils per semester, by grade, by gender and by risk type, flagged pupils with
    # a plan; the semester's measures, youth NGO projects, delivered minutes, planned money,
    # claims and outcomes — the charts are drawn from these tables, with no query of their own
    with django_assert_num_queries(16):
        response = client.get(reverse("participation_report"))
    assert 'id="chart-risk-semesters"' in response.content.decode()

"""The catalogues users read are kept in Latvian and English (issue 21): a Latvian user sees
the Latvian name, an English user the English one, on pages, in PDFs and in exports."""

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from demo.seed import ensure_seed_data
from plans.models import PlanStatus, RiskFactor, RiskType
from plans.tests.factories import national_factor, ready_plan
from reports.tests.test_disclosure import pupils_at
from students.models import SpecialistType

FACTOR = ("neattaisnoti kavējumi", "unexcused absences")
RISK_TYPE = ("1. mācību darba un izglītības iestādes riski", "1. learning and school-related risks")
SPECIALIST = ("psihologs", "psychologist")

pytestmark = pytest.mark.django_db


def in_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def plan_in_progress(cast):
    return ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )


def pdf_text(content):
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages
    )


def test_the_seeded_catalogue_has_its_english_names():
    """The data migrations fill them; a database that lost them gets them back (demo seed)."""
    assert not RiskType.objects.filter(name_en="").exists()
    assert not RiskFactor.objects.national().filter(name_en="").exists()
    assert not SpecialistType.objects.filter(name_en="").exists()
    RiskFactor.objects.update(name_en="")
    ensure_seed_data()
    assert national_factor("neattaisnoti-kavejumi").name_en == "unexcused absences"


def test_a_name_follows_the_language_and_falls_back_to_latvian():
    factor = national_factor("neattaisnoti-kavejumi")
    with translation.override("en"):
        assert str(factor) == "unexcused absences"
        assert str(factor.risk_type) == RISK_TYPE[1]
        factor.name_en = ""
        assert str(factor) == "neattaisnoti kavējumi"  # no English name: the Latvian one
    with translation.override("lv"):
        assert str(SpecialistType.objects.get(name="psihologs")) == "psihologs"


def test_the_plan_page_shows_the_catalogue_in_the_readers_language(cast, login):
    plan = plan_in_progress(cast)
    client = login(cast.class_teacher)
    for language, index in (("lv", 0), ("en", 1)):
        page = in_language(client, language).get(reverse("plan_detail", args=[plan.pk]))
        text = page.content.decode()
        assert FACTOR[index] in text and SPECIALIST[index] in text, language
        assert FACTOR[1 - index] not in text and SPECIALIST[1 - index] not in text, language


def test_the_plan_pdf_shows_the_catalogue_in_the_readers_language(cast, login):
    plan = plan_in_progress(cast)
    client = login(cast.class_teacher)
    for language, index in (("lv", 0), ("en", 1)):
        response = in_language(client, language).get(reverse("plan_pdf", args=[plan.public_id]))
        text = pdf_text(response.content)
        assert FACTOR[index] in text and SPECIALIST[index] in text, language
        assert FACTOR[1 - index] not in text, language
    assert settings.IAP_PROGRAMME_NAME_EN in text  # the English PDF names the programme so


def test_the_report_exports_name_the_catalogue_in_the_readers_language(cast, login):
    pupils_at(cast, cast.school, 4)
    client = login(cast.coordinator)
    for language, index in (("lv", 0), ("en", 1)):
        in_language(client, language)
        content = client.get(reverse("participation_report"), {"format": "csv"}).content
        cells = {
            cell
            for row in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
            for cell in row
        }
        assert RISK_TYPE[index] in cells and SPECIALIST[index] in cells, language
        assert RISK_TYPE[1 - index] not in cells, language
        workbook = load_workbook(
            io.BytesIO(client.get(reverse("participation_report"), {"format": "xlsx"}).content)
        )
        values = {c.value for sheet in workbook for row in sheet.iter_rows() for c in row}
        assert RISK_TYPE[index] in values and SPECIALIST[index] in values, language
        assert SPECIALIST[1 - index] not in values, language


def test_the_agency_keeps_both_names_and_the_english_one_changes_in_place(cast, login):
    factor = national_factor("neattaisnoti-kavejumi")
    plan_in_progress(cast)  # plans name the factor: a new Latvian name would make a version
    client = login(cast.agency)
    data = {"risk_type": factor.risk_type_id, "name": factor.name, "is_active": "on"}
    refused = client.post(reverse("risk_factor_update", args=[factor.pk]), data)
    assert refused.status_code == 200
    assert "angļu valodā" in refused.content.decode()  # the national catalogue needs both
    data["name_en"] = "  absences  without an excuse "
    response = client.post(reverse("risk_factor_update", args=[factor.pk]), data)
    assert response.status_code == 302
    factor.refresh_from_db()
    assert (factor.name_en, factor.replaced_by, factor.is_active) == (
        "absences without an excuse",
        None,
        True,
    )


def test_the_agency_names_a_specialist_type_in_english_too(cast, login):
    client = login(cast.agency)
    client.post(
        reverse("specialist_type_create"),
        {"name": "logopēds", "name_en": "speech therapist", "is_active": "on"},
    )
    created = SpecialistType.objects.get(name="logopēds")
    with translation.override("en"):
        assert str(created) == "speech therapist"


def test_a_queued_export_is_written_in_its_requesters_language(
    cast, login, settings, django_capture_on_commit_callbacks
):
    """A large export is written by the task worker (in the site's language), in the language
    of whoever asked."""
    from reports.models import ExportJob

    settings.IAP_INLINE_EXPORT_ROWS = 0
    plan_in_progress(cast)
    client = in_language(login(cast.coordinator), "en")
    with django_capture_on_commit_callbacks() as callbacks:
        client.get(reverse("plan_list"), {"format": "csv"})
    with translation.override("lv"):  # the worker's
        for callback in callbacks:
            callback()
    job = ExportJob.objects.get()
    download = client.get(reverse("export_download", args=[job.public_id]))
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(content), delimiter=";"))[0] == "Plan code"

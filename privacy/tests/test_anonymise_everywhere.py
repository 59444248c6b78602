"""Anonymisation leaves the pupil's name and code nowhere: not in any column of any table (the
history tables, the through tables, sessions and the Django admin's log included) and not in
any file under the private media root.

The pupil's name and code are typed into every free-text field a user can reach, through the
services and pages that write them; the test then reads every table and every stored file,
first to see that it finds them (so it can fail), then after anonymisation to see that it
finds none."""

import base64
import io
import json
import pickle
import unicodedata
import zipfile
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote_plus

from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import UserSession
from compensations import services as claims
from compensations.models import CompensationClaim
from compensations.tests.factories import receipt, this_month
from payments import payees
from payments.models import BatchLine, Payee, PaymentBatch
from payments.tests.batch_factories import pay_through_batch
from plans import services as plans
from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanRisk,
    SupportMeasure,
    SupportPlan,
)
from plans.tests.factories import make_plan, national_factor, semester_ends_in
from privacy.retention import anonymise
from reports import participation
from reports.models import ExportJob, PlanBundle
from reports.tasks import build_bundle
from students.models import Guardian, Payer, School, Semester, SpecialistType, Student

FIRST, LAST, CODE = "Zigfrīds", "Anonimizējamais", "32867300679"
NAME = f"{FIRST} {LAST}"


def _folded(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# The guardian's account (a payee's IBAN, before and after a change) counts as their name does.
IBAN, OLD_IBAN = "LV80BANK0000435195001", "LV00HABA0012345678910"
TERMS = {FIRST, LAST, CODE, "328673-00679", IBAN, OLD_IBAN} | {_folded(FIRST), _folded(LAST)}

# Every table is read, the audit log's too (iap_portal.audit.forget_students clears it).
NOT_SCANNED = set()


# --- Reading everything ------------------------------------------------------------------------


def _texts_of_json(text):
    try:
        return [json.dumps(json.loads(text), ensure_ascii=False)]
    except ValueError:
        return []


def _readings(value):
    """Every way a stored value could spell a name: as it is, URL-decoded, JSON-decoded."""
    if isinstance(value, memoryview | bytes):
        value = bytes(value).decode("utf-8", "ignore")
    if isinstance(value, dict | list):  # JSON columns, as PostgreSQL's driver reads them
        value = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        return []
    return [value, unquote_plus(value), *_texts_of_json(value)]


def _session_readings(value):
    store = UserSession.get_session_store_class()
    return [json.dumps(store().decode(value), ensure_ascii=False, default=str)]


def _cache_readings(value):
    # Django's database cache keeps pickled values in base64.
    return [repr(pickle.loads(base64.b64decode(value)))]  # noqa: S301 - our own cache table


DECODED = {
    (UserSession._meta.db_table, "session_data"): _session_readings,
    # The shared report cache's table (reports migrations), kept in memory in tests.
    (django_settings.CACHES["reports"]["LOCATION"], "value"): _cache_readings,
}


def _names(text):
    folded = text.casefold()
    return any(term.casefold() in folded for term in TERMS)


def tables_naming_the_pupil():
    """ "table.column" of every stored value that names the pupil, in every table there is."""
    found = set()
    tables = set(connection.introspection.table_names())
    # Every model's table is read, the auto-created through tables and history tables too.
    models = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert models <= tables, models - tables
    with connection.cursor() as cursor:
        for table in sorted(tables - NOT_SCANNED):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    readings = _readings(value)
                    decode = DECODED.get((table, column))
                    if decode and isinstance(value, str):
                        readings += decode(value)
                    if any(_names(text) for text in readings):
                        found.add(f"{table}.{column}")
    return found


def _file_texts(name, content):
    yield name
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                yield from _file_texts(member, archive.read(member))
    elif content.startswith(b"%PDF"):
        reader = PdfReader(io.BytesIO(content))
        yield json.dumps(reader.metadata or {}, ensure_ascii=False, default=str)
        yield json.dumps([str(o) for o in reader.outline], ensure_ascii=False)
        for page in reader.pages:
            yield page.extract_text()
    else:
        yield content.decode("utf-8", "ignore")


def files_naming_the_pupil(root):
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and any(_names(t) for t in _file_texts(path.name, path.read_bytes()))
    }


def figures(school):
    schools = School.objects.filter(pk=school.pk)
    semester = Semester.objects.current()
    tables = [participation.participation_by_semester(schools)]
    tables += participation.semester_breakdowns(schools, semester)
    return [[str(c) for c in row] for table in tables for row in table.rows]


# --- Typing the name everywhere ----------------------------------------------------------------


ABSENCES = "Personas kods;Vārds;Uzvārds;Klase;Stundas;Attaisnoti;Neattaisnoti\n"
PUPILS = "Vārds;Uzvārds;Personas kods;Klase;Dzimšanas datums;Dzimums\n"


def _csv(name, text):
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def _plan_with_every_text(cast):
    """The pupil's plan through its life: submitted, returned with a comment, approved, a
    consultation, a claim returned, corrected, approved and paid, evaluated early."""
    semester = semester_ends_in(60)
    plan = make_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        semester=semester,
        goals=f"{NAME} sāks apmeklēt visas stundas.",
    )
    risk = PlanRisk.objects.create(
        plan=plan,
        risk_factor=national_factor("neattaisnoti-kavejumi"),
        justification=f"{FIRST} oktobrī kavēja 14 stundas.",
    )
    talk = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.CONSULTATION,
        specialist_type=SpecialistType.objects.get(name="psihologs"),
        responsible=cast.specialist,
        planned_hours=Decimal(6),
        description=f"Sarunas ar {NAME}",
        start_date=semester.start_date,
        end_date=semester.end_date,
    )
    tickets = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=CompensationCategory.TRANSPORT_TICKETS,
        planned_amount=Decimal(100),
        responsible=cast.class_teacher,
        description=f"Biļetes {LAST}",
        ceiling_justification=f"{LAST} dzīvo 40 km no skolas.",
        start_date=semester.start_date,
        end_date=semester.end_date,
    )
    for measure in (talk, tickets):
        measure.risks.set([risk])
    plans.submit_plan(plan=plan, by=cast.class_teacher)
    plans.return_plan(
        plan=SupportPlan.objects.get(pk=plan.pk),
        by=cast.coordinator,
        comment=f"{FIRST} tēvam jāparaksta iesniegums.",
    )
    plans.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.class_teacher)
    plans.approve_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=cast.coordinator)
    plans.log_consultation(
        measure=talk,
        by=cast.specialist,
        consultation=Consultation(
            date=timezone.localdate(), minutes=45, topic=f"{FIRST} un klasesbiedri"
        ),
    )

    today = timezone.localdate()
    claim = claims.create_claim(
        measure=SupportMeasure.objects.get(pk=tickets.pk),
        by=cast.class_teacher,
        month=this_month(),
        lines=[{"date": today, "description": f"Biļetes {NAME}", "amount": Decimal(20)}],
        receipts=[receipt(f"{_folded(FIRST)}_{_folded(LAST)}_kvits.png")],
    )
    claims.submit_claim(claim=claim, by=cast.class_teacher)
    claims.return_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=cast.social_pedagogue,
        comment=f"Čekā nav {LAST} vārda.",
    )
    claims.update_claim(
        claim=CompensationClaim.objects.get(pk=claim.pk),
        by=cast.class_teacher,
        month=this_month(),
        lines=[{"date": today, "description": f"{FIRST} – biļetes", "amount": Decimal(25)}],
        receipts=[],
    )
    claims.submit_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.class_teacher)
    claims.approve_claim(claim=CompensationClaim.objects.get(pk=claim.pk), by=cast.social_pedagogue)
    pay_through_batch(claim, paid_on=today, reference=f"Kompensācija {LAST} {CODE}")

    plans.allow_early_evaluation(
        plan=SupportPlan.objects.get(pk=plan.pk),
        by=cast.coordinator,
        reason=f"{NAME} pārceļas uz citu skolu.",
    )
    plans.evaluate_plan(
        plan=SupportPlan.objects.get(pk=plan.pk),
        by=cast.class_teacher,
        evaluation=PlanEvaluation(
            narrative=f"{FIRST} kavē mazāk.", overall_outcome=SupportPlan.Outcome.CONTINUES
        ),
        risk_outcomes={risk.pk: PlanRisk.Outcome.REDUCED},
        measure_notes={talk.pk: f"{FIRST} atnāca uz visām.", tickets.pk: f"{LAST}: izmantotas."},
    )
    return plan


def _payees_and_payments(cast, plan):
    """The guardian as the claim's payee (their account changed once, so the history holds
    both), a batch line the bank refused and one it paid; and the school's caterer, which is
    no one's personal data."""
    guardian = Guardian.objects.create(student=cast.student, name=f"Marta {LAST}")
    payee = payees.add_payee(
        school=cast.school,
        kind=Payee.Kind.GUARDIAN,
        by=cast.coordinator,
        student=cast.student,
        guardian=guardian,
        name=guardian.name,
        address=f"{LAST}i, Preiļu pagasts",
        iban=OLD_IBAN,
    )
    payee = payees.change_payee(payee=payee, by=cast.social_pedagogue, values={"iban": IBAN})
    payees.add_payee(
        school=cast.school,
        kind=Payee.Kind.ORGANISATION,
        by=cast.coordinator,
        name="SIA Skolas ēdnīca",
        registration_number="40003245752",
        address="Tirgus laukums 1",
        iban="LV75PARX0000000000001",
    )
    claim = CompensationClaim.objects.get(plan=plan)
    # The claim was paid through a batch of the test's own; these two take its place, paid to
    # the guardian above.
    PaymentBatch.objects.filter(school=cast.school).delete()
    for number, (outcome, iban) in enumerate([("refused", OLD_IBAN), ("paid", IBAN)], start=1):
        batch = PaymentBatch.objects.create(
            school=cast.school,
            payer=Payer.MUNICIPALITY,
            municipality=cast.school.municipality,
            month=claim.month,
            code=f"MS-{number}",
            sequence=number,
            status="sent",
            created_by=cast.coordinator,
            sent_by=cast.coordinator,
            sent_at=timezone.now(),
        )
        BatchLine.objects.create(
            batch=batch,
            claim=claim,
            payee=payee,
            payee_name=payee.name,
            iban=iban,
            amount=claim.total,
            added_by=cast.coordinator,
            outcome=outcome,
            recorded_by=cast.coordinator,
            paid_on=timezone.localdate() if outcome == "paid" else None,
            bank_reference=f"{LAST} {claim.code}" if outcome == "paid" else "",
            refusal_reason=f"Konts nav {LAST} vārdā" if outcome == "refused" else "",
        )


def _type_the_name_everywhere(cast, login, settings):
    student = cast.student
    student.first_name, student.last_name, student.personas_kods = FIRST, LAST, CODE
    student.save()  # a history row with the name
    Guardian.objects.create(
        student=student,
        name=f"Pēteris {LAST}",
        phone="+371 20000000",
        email=f"{_folded(FIRST).lower()}.{_folded(LAST).lower()}@example.lv",
    )
    plan = _plan_with_every_text(cast)
    _payees_and_payments(cast, plan)

    client = login(cast.coordinator)
    # An e-journal file of the whole class, imported, and another checked but not yet
    # confirmed (its rows wait in the session); and a pupils file waiting the same way.
    absences = ABSENCES + f"{CODE};{FIRST};{LAST};7.a;100;4;12\n;Kārlis;Ozols;8.b;100;2;0\n"
    semester = Semester.objects.current()
    period = {
        "start_date": semester.start_date.isoformat(),
        "end_date": max(semester.start_date, timezone.localdate()).isoformat(),
    }
    file_name = f"7a_{_folded(FIRST)}_{_folded(LAST)}_kavejumi.csv"
    for step in ("import", "check only"):
        response = client.post(
            reverse("ew_import"), {"kind": "absences", "file": _csv(file_name, absences), **period}
        )
        assert response.context["check"].is_valid
        if step == "import":
            client.post(reverse("ew_import_confirm"))
    pupils = PUPILS + f"{FIRST};{LAST};{CODE};7.a;;V\n"
    response = client.post(reverse("student_import"), {"file": _csv("7a.csv", pupils)})
    assert response.context["check"].is_valid

    # A list export searched by the name, on the queue; one that failed; a semester bundle.
    settings.IAP_INLINE_EXPORT_ROWS = 0
    client.get(reverse("student_list"), {"format": "csv", "q": LAST})
    ExportJob.objects.create(
        requested_by=cast.coordinator,
        kind="pupils",
        format="xlsx",
        params=f"q={FIRST}+{LAST}".replace("ī", "%C4%AB").replace("ē", "%C4%93"),
        status=ExportJob.Status.FAILED,
        error=f"Rinda 3: {NAME}",
        finished_at=timezone.now() - timedelta(hours=1),
    )
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=semester, requested_by=cast.coordinator
    )
    build_bundle.enqueue(bundle_id=str(bundle.public_id))
    # The pupil's data archive is built in the request and never stored.
    assert client.get(reverse("student_data_export", args=[student.public_id])).status_code == 200

    # A technical superuser's edit in the Django admin, which names the pupil and the guardian.
    LogEntry.objects.log_actions(
        user_id=cast.coordinator.pk,
        queryset=[student],
        action_flag=CHANGE,
        change_message=[{"added": {"name": "guardian", "object": f"Pēteris {LAST}"}}],
    )


def test_anonymising_leaves_the_name_and_code_in_no_table_and_no_file(
    cast, login, settings, private_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _type_the_name_everywhere(cast, login, settings)
    before = figures(cast.school)

    # The scan finds the name where it was typed, in the rows and in their history.
    tables = tables_naming_the_pupil()
    assert {
        "students_student.first_name",
        "students_historicalstudent.last_name",
        "students_guardian.name",
        "plans_supportplan.goals",
        "plans_historicalsupportplan.goals",
        "plans_supportplan.early_evaluation_reason",
        "plans_planstatuschange.comment",
        "plans_planrisk.justification",
        "plans_historicalplanrisk.justification",
        "plans_supportmeasure.description",
        "plans_supportmeasure.ceiling_justification",
        "plans_supportmeasure.evaluation_note",
        "plans_historicalsupportmeasure.ceiling_justification",
        "plans_consultation.topic",
        "plans_planevaluation.narrative",
        "compensations_compensationclaim.decision_comment",
        "compensations_compensationclaim.payment_reference",
        "compensations_historicalcompensationclaim.decision_comment",
        "compensations_claimstatuschange.comment",
        "compensations_claimline.description",
        "compensations_historicalclaimline.description",
        "early_warning_importrecord.file_name",
        "reports_exportjob.params",
        "reports_exportjob.error",
        "django_admin_log.object_repr",
        "django_admin_log.change_message",
        "iap_portal_usersession.session_data",
        "payments_payee.name",
        "payments_payee.address",
        "payments_payee.iban",
        "payments_historicalpayee.name",
        "payments_historicalpayee.iban",
        "payments_batchline.payee_name",
        "payments_batchline.iban",
        "payments_batchline.bank_reference",
        "payments_batchline.refusal_reason",
        "payments_historicalbatchline.payee_name",
        "payments_historicalbatchline.iban",
    } <= tables, tables
    files = files_naming_the_pupil(private_media)
    assert {f.split("/")[0] for f in files} == {"exports", "bundles"}, files
    # Receipts are stored under random names, shown under the claim's code: the uploader's file
    # name is not kept. Their pictures go with the rest.
    assert any(p.is_file() for p in (private_media / "receipts").rglob("*"))

    with django_capture_on_commit_callbacks(execute=True):
        anonymise(Student.objects.filter(pk=cast.student.pk))

    assert tables_naming_the_pupil() == set()
    assert files_naming_the_pupil(private_media) == set()
    assert not any(p.is_file() for p in (private_media / "receipts").rglob("*"))
    # What reports count stays, and so does everyone else.
    assert figures(cast.school) == before
    assert Student.objects.filter(first_name="Kārlis", last_name="Ozols").exists()
    assert (
        ExportJob.objects.filter(status=ExportJob.Status.FAILED).get().params
        == "q=%E2%80%94+%E2%80%94"
    )
    # The payments keep their amounts and outcomes; the school's caterer is untouched.
    lines = BatchLine.objects.order_by("pk")
    assert [(line.outcome, line.amount) for line in lines] == [
        ("refused", Decimal(25)),
        ("paid", Decimal(25)),
    ]
    assert Payee.objects.get(kind="organisation").iban == "LV75PARX0000000000001"

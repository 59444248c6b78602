"""Everything held about one pupil, as one archive, for a data-subject request (GDPR art. 15).

In the reader's language (Latvian, or English when that is the requester's language):

- ``1-kopsavilkums.pdf``: one page a parent can read — who the pupil is, the plans with their
  semester, status, measures and amounts, the claims and payments, and who at the school saw
  the data (a count by role, from the audit log);
- ``2-visi-dati.pdf``: every record in readable tables (guardians, classes, plan histories,
  consultations, claim lines, e-journal data, changes, each view in the audit log);
- ``plani/``: each plan as its PDF; ``kvitis/``: the receipts, named by the claim's code with
  the extension of their type;
- ``pupil.json``: the same data for machines (every stored column, ISO dates, plain amounts).

The payees (a guardian's or the adult pupil's bank account) are in both, with the IBAN masked as
on every page of the school: the archive is put together by the school's staff, who never read
an IBAN whole (payments.payees); the account's holder knows it, and the payer confirms it.
"""

import io
import json
import zipfile
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from pypdf import PdfReader

from compensations.models import ClaimStatus, CompensationClaim
from compensations.receipts import EXTENSIONS
from early_warning.models import Attendance, ConductNotes, Grade, Indicator
from iap_portal.models import AuditEvent
from iap_portal.pdf import render_pdf
from payments.models import BatchLine, ClaimPayee, Payee
from payments.payees import shown_iban
from plans.models import SupportMeasure, SupportPlan
from reports.documents import plan_documents, plan_pdf_name, render_plan_pdf
from students.models import Membership

JSON_NAME = "pupil.json"
# How many plans, claims and roles the one-page summary lists before it says "N in all" (the
# full document has them all): fewer when long rows would take it over a page.
SUMMARY_ROWS = (5, 3, 1)


def _row(instance, exclude=()):
    """Every stored column of the row (also the ones no form edits)."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(instance, field.attname)
        data[field.attname] = value.name if hasattr(value, "storage") else value
    return data


def _file_names():
    """The archive's file names in the reader's language (ASCII, for every unzip tool)."""
    return {
        "summary": pgettext("archive file", "1-summary.pdf"),
        "details": pgettext("archive file", "2-all-data.pdf"),
        "plans": pgettext("archive folder", "plans"),
        "receipts": pgettext("archive folder", "receipts"),
    }


def receipt_name(claim, number, receipt):
    """A receipt's name in the archive: the claim's code, its number, its type's extension."""
    return f"{claim.code.replace('/', '-')}-{number}.{EXTENSIONS.get(receipt.content_type, 'bin')}"


# --- Who saw the data ---------------------------------------------------------------------------


def _role_label(user, memberships, school_id):
    roles = sorted({m.get_role_display() for m in memberships if m.school_id in (school_id, None)})
    if roles:
        return ", ".join(roles)
    if user is not None and user.is_superuser:
        return _("technical administrator")
    return _("no longer has a role at the school")


def views_by_role(student):
    """Who saw the pupil's data, from the audit log: per role, how many people, how many pages
    and files of the pupil (and lists showing the pupil) they opened, first and last time.

    By role, not by name: the person's identity is not part of what art. 15 gives the pupil
    (CJEU C-579/21, Pankki S); the school's coordinator sees the names in the audit log."""
    # Lists record the pupils they showed as ids; JSON ``contains`` is not there on SQLite, so
    # the school's list rows are read and matched here (a request is rare; the rows are small).
    # The lists that showed the pupil, through the list rows' pupils (one index).
    lists = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW_LIST, user__isnull=False, students=student
    ).values_list("user_id", "at")
    seen = defaultdict(lambda: {"pages": 0, "lists": 0, "first": None, "last": None})

    def count(user_id, at, kind):
        entry = seen[user_id]
        entry[kind] += 1
        entry["first"] = min(entry["first"] or at, at)
        entry["last"] = max(entry["last"] or at, at)

    for user_id, at in AuditEvent.objects.filter(student=student, user__isnull=False).values_list(
        "user_id", "at"
    ):
        count(user_id, at, "pages")
    for user_id, at in lists.iterator():
        count(user_id, at, "lists")

    memberships = defaultdict(list)
    for membership in Membership.objects.filter(user_id__in=seen):
        memberships[membership.user_id].append(membership)
    users = get_user_model().objects.in_bulk(list(seen))
    by_role = defaultdict(
        lambda: {"people": 0, "pages": 0, "lists": 0, "first": None, "last": None}
    )
    for user_id, entry in seen.items():
        role = _role_label(users.get(user_id), memberships[user_id], student.school_id)
        row = by_role[role]
        row["people"] += 1
        row["pages"] += entry["pages"]
        row["lists"] += entry["lists"]
        row["first"] = min(row["first"] or entry["first"], entry["first"])
        row["last"] = max(row["last"] or entry["last"], entry["last"])
    return sorted(
        ({"role": role, **row} for role, row in by_role.items()),
        key=lambda r: (-(r["pages"] + r["lists"]), r["role"]),
    )


def audit_events(student):
    """Every event of the audit log that names the pupil alone (a page, a file, an export)."""
    return AuditEvent.objects.filter(student=student).select_related("user")


# --- The records ------------------------------------------------------------------------------


def _early_warning(student):
    """The e-journal facts imported about the pupil and the levels computed from them."""

    def period_rows(model):
        return [
            {**_row(row, exclude=["student"]), "period": str(row.period)}
            for row in model.objects.filter(student=student).select_related("period")
        ]

    return {
        "attendance": period_rows(Attendance),
        "grades": period_rows(Grade),
        "conduct_notes": period_rows(ConductNotes),
        "indicators": period_rows(Indicator),
    }


def _early_warning_by_period(student):
    """The same, per period, for the readable document."""
    periods = defaultdict(lambda: {"attendance": None, "grades": [], "notes": None, "level": None})
    for row in Attendance.objects.filter(student=student).select_related("period"):
        periods[row.period]["attendance"] = row
    for row in Grade.objects.filter(student=student).select_related("period"):
        periods[row.period]["grades"].append(row)
    for row in ConductNotes.objects.filter(student=student).select_related("period"):
        periods[row.period]["notes"] = row
    for row in Indicator.objects.filter(student=student).select_related("period"):
        periods[row.period]["level"] = row
    return [
        {"period": period, **facts}
        for period, facts in sorted(periods.items(), key=lambda item: item[0].start_date)
    ]


def _claims(student):
    return list(
        CompensationClaim.objects.filter(plan__student=student)
        .select_related("plan__semester", "measure", "submitted_by", "decided_by", "paid_by")
        .prefetch_related("lines", "receipts", "status_changes__by")
        .order_by("-month", "-pk")
    )


def _payees(student, claims):
    """The pupil's payees with their history, and, on each claim, whom it was chosen to be paid
    to and the batch lines that paid it (``claim.payee_choice_shown``, ``claim.payments``)."""
    payees = list(Payee.objects.filter(student=student).select_related("guardian").order_by("pk"))
    changes = defaultdict(list)
    for change in (
        Payee.history.filter(id__in=[p.pk for p in payees])
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        changes[change.id].append(change)
    for payee in payees:
        payee.masked_iban = shown_iban(payee.iban)
        payee.changes = changes[payee.pk]
    by_claim = defaultdict(list)
    for line in BatchLine.objects.filter(claim__in=claims).select_related("batch").order_by("pk"):
        line.masked_iban = shown_iban(line.iban)
        by_claim[line.claim_id].append(line)
    chosen = {
        c.claim_id: c.payee
        for c in ClaimPayee.objects.filter(claim__in=claims).select_related("payee")
    }
    for claim in claims:
        claim.payments = by_claim[claim.pk]
        claim.payee_choice_shown = chosen.get(claim.pk)
    return payees


def _plan_records(student):
    return list(
        SupportPlan.objects.filter(student=student)
        .prefetch_related(
            "risks__risk_factor",
            "measures__consultations__provider",
            "measures__specialist_type",
            "measures__risks",
            "status_changes__by",
        )
        .select_related("semester__school_year", "evaluation")
        .order_by("semester__start_date", "pk")
    )


def _masked_row(instance, **extra):
    return {**_row(instance, exclude=["iban"]), "iban": shown_iban(instance.iban), **extra}


def _machine_record(student, plans, claims, payees, *, generated_by):
    record = {
        "generated_at": timezone.now(),
        "generated_by": generated_by,
        "pupil": _row(student),
        "guardians": [_row(g) for g in student.guardians.all()],
        "enrollments": [
            {"school_year": str(e.school_year), "class": e.class_group.label}
            for e in student.enrollments.select_related("class_group", "school_year")
        ],
        "history": [
            {"at": h.history_date, "type": h.history_type, "by": h.history_user_id}
            for h in student.history.all()
        ],
        "payees": [
            _masked_row(
                p,
                history=[
                    {"at": h.history_date, "type": h.history_type, "by": h.history_user_id}
                    for h in p.changes
                ],
            )
            for p in payees
        ],
        "plans": [],
        "claims": [],
        "early_warning": _early_warning(student),
    }
    for plan in plans:
        record["plans"].append(
            {
                **_row(plan),
                "file": plan.archive_file,
                "semester": str(plan.semester),
                "risks": [
                    {**_row(r), "risk_factor": r.risk_factor.display_name} for r in plan.risks.all()
                ],
                "measures": [
                    {
                        **_row(m, exclude=["risks"]),
                        "risks": [r.pk for r in m.risks.all()],
                        "consultations": [_row(c) for c in m.consultations.all()],
                    }
                    for m in plan.measures.all()
                ],
                "evaluation": _row(plan.evaluation) if hasattr(plan, "evaluation") else None,
                "status_changes": [_row(c) for c in plan.status_changes.all()],
            }
        )
    for claim in claims:
        record["claims"].append(
            {
                **_row(claim),
                "lines": [_row(line) for line in claim.lines.all()],
                "receipts": [
                    {**_row(r, exclude=["file"]), "file": r.archive_name}
                    for r in claim.receipts.all()
                ],
                "status_changes": [_row(c) for c in claim.status_changes.all()],
                "payee_id": claim.payee_choice_shown.pk if claim.payee_choice_shown else None,
                "payments": [_masked_row(line, batch=line.batch.code) for line in claim.payments],
            }
        )
    return record


def _plan_summaries(documents):
    """Per plan, newest first: its measures in a phrase each, the money planned and paid
    (None for a plan without compensations)."""
    rows = []
    for plan in reversed(documents):
        measures, planned, paid = [], None, None
        for m in plan.measures.all():
            if m.measure_type == SupportMeasure.Type.CONSULTATION:
                measures.append({"label": m.label, "hours": m.planned_hours})
            elif m.measure_type == SupportMeasure.Type.COMPENSATION:
                measures.append({"label": m.label, "amount": m.planned_amount})
                planned = (planned or 0) + (m.planned_amount or 0)
                paid = (paid or 0) + m.claim_sums.get("paid", 0)
            else:
                measures.append({"label": m.label})
        rows.append({"plan": plan, "measures": measures, "planned": planned, "paid": paid})
    return rows


def _summary_pdf(context):
    for rows in SUMMARY_ROWS:
        pdf = render_pdf("privacy/archive_summary_pdf.html", {**context, "rows": rows})
        if len(PdfReader(io.BytesIO(pdf)).pages) == 1:
            break
    return pdf


def pupil_archive(student, *, generated_by):
    """The archive as bytes, in the active language."""
    names = _file_names()
    plans = _plan_records(student)
    claims = _claims(student)
    documents = plan_documents(SupportPlan.objects.filter(student=student))
    documents.sort(key=lambda p: (p.semester.start_date, p.pk))
    receipt_files = []
    for claim in claims:
        for number, receipt in enumerate(claim.receipts.all(), start=1):
            path = f"{names['receipts']}/{receipt_name(claim, number, receipt)}"
            receipt.archive_name = path
            receipt_files.append((path, receipt))
    plan_files = {plan.pk: f"{names['plans']}/{plan_pdf_name(plan)}" for plan in documents}
    for plan in plans:
        plan.archive_file = plan_files.get(plan.pk)
    payees = _payees(student, claims)
    record = _machine_record(student, plans, claims, payees, generated_by=generated_by)

    granted = [c for c in claims if c.status in ClaimStatus.GRANTED]
    enrollment = (
        student.enrollments.select_related("class_group", "school_year")
        .order_by("-school_year__start_year")
        .first()
    )
    roles = views_by_role(student)
    context = {
        "student": student,
        "guardians": list(student.guardians.all()),
        "enrollment": enrollment,
        "enrollments": list(
            student.enrollments.select_related("class_group", "school_year").order_by(
                "school_year__start_year"
            )
        ),
        "plan_rows": _plan_summaries(documents),
        "plans": plans,
        "claims": claims,
        "payees": payees,
        "claimed": sum((c.total for c in claims if c.status in ClaimStatus.CLAIMED), Decimal(0)),
        "approved": sum((c.total for c in granted), Decimal(0)),
        "paid": sum((c.total for c in claims if c.status == ClaimStatus.PAID), Decimal(0)),
        "roles": roles,
        "events": audit_events(student),
        "early_warning": _early_warning_by_period(student),
        "history": list(student.history.select_related("history_user").order_by("history_date")),
        "names": names,
        "json_name": JSON_NAME,
        "generated_by": generated_by,
        "generated_at": timezone.localtime(),
    }

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(names["summary"], _summary_pdf(context))
        archive.writestr(names["details"], render_pdf("privacy/archive_details_pdf.html", context))
        for plan in documents:
            archive.writestr(plan_files[plan.pk], render_plan_pdf(plan, generated_by=generated_by))
        for path, receipt in receipt_files:
            try:
                with receipt.file.open("rb") as handle:
                    archive.writestr(path, handle.read())
            except FileNotFoundError:
                archive.writestr(f"{path}.missing.txt", _("The file of this receipt is missing."))
        archive.writestr(
            JSON_NAME, json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
    return buffer.getvalue()

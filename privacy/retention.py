"""Retention: pupils who left the school more than N years ago are anonymised.

What identifies the child goes (names, code, birth date beyond the year, guardians, the
payees' names, addresses and IBANs with the batch lines that paid them, free text, receipts,
the change history that still holds them, the imported e-journal details); the rows
that reports count stay, so the participation figures are the same before and after.

Free text on the pupil's own records (plans, risks, measures, consultations, evaluations,
claims, their status changes) is emptied whatever it says: a description of a child's family
identifies the child without naming them. Text on records shared with other pupils or kept
for the school (an e-journal import's file name, a claim's payment reference, queued exports,
the Django admin's log, sessions holding an upload not yet confirmed) loses only the words
that name the pupil. The audit log is ``iap_portal.audit``'s (it keeps counts by action).
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote_plus

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from accounts.models import UserSession
from compensations.models import ClaimLine, ClaimStatusChange, CompensationClaim, Receipt
from early_warning.models import Attendance, ConductNotes, Grade, ImportRecord, Indicator
from iap_portal.audit import forget_students
from notifications.models import Notification
from payments.models import BatchLine, ClaimPayee, LineOutcome, Payee
from payments.payees import ANONYMISED_IBAN
from plans.models import (
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatusChange,
    SupportMeasure,
    SupportPlan,
)
from reports.files import delete_files_naming
from reports.models import ExportJob, PlanBundle
from students.models import Guardian, Student

ANONYMOUS = "—"


def due_for_anonymisation(*, years, today=None):
    today = today or date.today()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    return Student.objects.filter(status=Student.Status.LEFT, left_on__lt=cutoff).exclude(
        first_name=ANONYMOUS
    )


def _folded(text):
    """The text without diacritics ("Bērziņa" → "Berzina"), as file names often carry it."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# A name or code counts where it stands as a word: not inside a longer word ("Ozols" is not
# in "Ozolskalns"), but between the underscores of a file name ("7a_Ozols_kavejumi.xlsx").
_APART = r"(?<![^\W_])(?:{})(?![^\W_])"


@dataclass(frozen=True)
class Traces:
    """How the pupils show in text: their first names, surnames and personal codes (with and
    without diacritics and the code's hyphen)."""

    words: tuple[str, ...]

    @classmethod
    def of(cls, students):
        words = set()
        for first, last, code in students.values_list("first_name", "last_name", "personas_kods"):
            names = {n.strip() for n in (first, last)}
            words |= names | {_folded(n) for n in names}
            if code:
                words |= {code, f"{code[:6]}-{code[6:]}"}
        words -= {"", ANONYMOUS}
        return cls(tuple(sorted(words, key=len, reverse=True)))

    @property
    def _pattern(self):
        return re.compile(_APART.format("|".join(re.escape(w) for w in self.words)), re.IGNORECASE)

    def found_in(self, value):
        """Whether a text, or any text inside a list or dict, names the pupils."""
        if isinstance(value, dict):
            return any(self.found_in(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(self.found_in(v) for v in value)
        if not isinstance(value, str) or not value or not self.words:
            return False
        return any(self._pattern.search(text) for text in {value, unquote_plus(value)})

    def removed_from(self, value):
        """The value (a text, or the texts in a list or dict) without the pupils' names."""
        if isinstance(value, dict):
            return {k: self.removed_from(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.removed_from(v) for v in value]
        if not self.found_in(value):
            return value
        return self._pattern.sub(ANONYMOUS, value)


def _read_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _read_query(text):
    return dict(QueryDict(text).lists())


def _write_query(params):
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    return query.urlencode()


# How a field is written: read into plain values, and written back.
_FORMATS = {
    "text": (lambda text: text, lambda value: value),
    "json": (_read_json, lambda value: value if isinstance(value, str) else json.dumps(value)),
    "query": (_read_query, _write_query),
}


def _scrub(traces, queryset, **fields):
    """Remove the pupils' names and codes from these fields of the rows that hold them.
    ``fields`` maps a field to how it is written: "text", "json" or "query" (a query string)."""
    changed = 0
    for row in queryset.only("pk", *fields).iterator():
        values = {name: _FORMATS[kind][0](getattr(row, name)) for name, kind in fields.items()}
        if not traces.found_in(values):
            continue
        queryset.model.objects.filter(pk=row.pk).update(
            **{
                name: _FORMATS[kind][1](traces.removed_from(values[name]))
                for name, kind in fields.items()
            }
        )
        changed += 1
    return changed


def _forget_uploads(traces):
    """Sessions keep an uploaded pupil or e-journal file between its check and its
    confirmation (``students_import``, ``early_warning_import``), rows and all. A pending
    upload (or anything else kept in a session) that names the pupil is dropped as a whole:
    the file holds a whole class, and its coordinator uploads it again. Expired sessions go."""
    store = UserSession.get_session_store_class()
    store.clear_expired()
    for session in UserSession.objects.filter(expire_date__gte=timezone.now()).iterator():
        data = store().decode(session.session_data)
        kept = {key: value for key, value in data.items() if not traces.found_in(value)}
        if kept != data:
            session.session_data = store().encode(kept)
            session.save(update_fields=["session_data"])


def _scrub_shared_text(traces, ids, claims):
    schools = Student.objects.filter(pk__in=ids).values("school_id")
    _scrub(traces, ImportRecord.objects.filter(school_id__in=schools), file_name="text")
    _scrub(traces, claims, payment_reference="text")
    # The bank's reference and a refusal's reason are kept on the claim's batch line too.
    _scrub(
        traces,
        BatchLine.objects.filter(claim__in=claims),
        bank_reference="text",
        refusal_reason="text",
    )
    # Queued exports hold the list's filters (a search for the pupil's name) and any error;
    # their files went with delete_files_naming.
    _scrub(traces, ExportJob.objects.all(), params="query", error="text")
    _scrub(traces, PlanBundle.objects.all(), error="text")
    # The Django admin names the object it changed, and an added guardian, in its log.
    _scrub(traces, LogEntry.objects.all(), object_repr="text", change_message="json")
    _forget_uploads(traces)


def _anonymise_payees(ids, claims):
    """The pupil's payees (a guardian, the pupil) lose the name, address and IBAN, and so do
    the batch lines that paid them (the amounts and outcomes stay, for the batches' totals);
    an organisation paid for the pupil's claims is the school's and stays. A refusal's reason
    is free text about the payment: it goes. The change history goes with them."""
    own = Payee.objects.filter(student_id__in=ids)
    paid_to_them = BatchLine.objects.filter(payee__in=own)
    of_their_claims = BatchLine.objects.filter(claim__in=claims)
    of_their_claims.filter(outcome=LineOutcome.REFUSED).update(refusal_reason=ANONYMOUS)
    paid_to_them.update(payee_name=ANONYMOUS, iban="")
    # Also the history of lines no longer there (a line removed from a batch before sending).
    BatchLine.history.filter(
        Q(id__in=paid_to_them.values("pk"))
        | Q(id__in=of_their_claims.values("pk"))
        | Q(claim_id__in=claims.values("pk"))
        | Q(payee_id__in=own.values("pk"))
    ).delete()
    own.update(
        name=ANONYMOUS,
        address="",
        registration_number="",
        iban=ANONYMISED_IBAN,
        guardian=None,
        is_active=False,
    )
    Payee.history.filter(id__in=own.values("pk")).delete()
    ClaimPayee.history.filter(claim_id__in=claims.values("pk")).delete()


@transaction.atomic
def anonymise(students):
    ids = list(students.values_list("pk", flat=True))
    if not ids:
        return 0
    traces = Traces.of(Student.objects.filter(pk__in=ids))
    # Bundles and exports that may hold their names go first.
    delete_files_naming(Student.objects.filter(pk__in=ids))
    forget_students(ids)  # the audit log keeps its counts by action, not who they were
    plans = SupportPlan.objects.filter(student_id__in=ids)
    claims = CompensationClaim.objects.filter(plan__in=plans)
    _scrub_shared_text(traces, ids, claims)
    receipts = list(Receipt.objects.filter(claim__in=claims))
    for receipt in receipts:
        name = receipt.file.name
        transaction.on_commit(lambda name=name, storage=receipt.file.storage: storage.delete(name))
    Receipt.objects.filter(pk__in=[r.pk for r in receipts]).delete()
    ClaimLine.objects.filter(claim__in=claims).update(description=ANONYMOUS)
    ClaimStatusChange.objects.filter(claim__in=claims).update(comment="")
    claims.update(decision_comment="")
    Consultation.objects.filter(measure__plan__in=plans).update(topic=ANONYMOUS)
    SupportMeasure.objects.filter(plan__in=plans).update(
        description="", evaluation_note="", ceiling_justification=""
    )
    PlanRisk.objects.filter(plan__in=plans).update(justification=ANONYMOUS)
    PlanEvaluation.objects.filter(plan__in=plans).update(narrative=ANONYMOUS)
    PlanStatusChange.objects.filter(plan__in=plans).update(comment="")
    plans.update(goals="", status_comment="", early_evaluation_reason="")
    # The change history holds the old values: it goes for these rows.
    SupportPlan.history.filter(id__in=plans.values("pk")).delete()
    PlanRisk.history.filter(plan_id__in=plans.values("pk")).delete()
    SupportMeasure.history.filter(plan_id__in=plans.values("pk")).delete()
    Student.history.filter(id__in=ids).delete()
    CompensationClaim.history.filter(id__in=claims.values("pk")).delete()
    ClaimLine.history.filter(claim_id__in=claims.values("pk")).delete()
    Receipt.history.filter(claim_id__in=claims.values("pk")).delete()

    _anonymise_payees(ids, claims)
    Guardian.objects.filter(student_id__in=ids).delete()
    # The e-journal details go; the levels stay, so the report's flagged share is unchanged.

    for model in (Attendance, Grade, ConductNotes):
        model.objects.filter(student_id__in=ids).delete()
    # Notifications naming the pupil (a first name, a comment typed about them).
    Notification.objects.filter(pupil_id__in=ids).delete()
    Indicator.objects.filter(student_id__in=ids).update(
        triggers=[], attendance_rate=None, average=None
    )
    for student in Student.objects.filter(pk__in=ids):
        student.first_name = ANONYMOUS
        student.last_name = ANONYMOUS
        student.personas_kods = ""
        if student.birth_date:
            student.birth_date = student.birth_date.replace(month=1, day=1)
        student.save_without_historical_record()
    return len(ids)

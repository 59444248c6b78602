"""History and audit entries in words, in the reader's language (issue 21).

The audit log keeps its details as short codes written by the code that recorded the event
("IAP-…: submitted → approved", "payments.csv format=csv", "plans: 12"); the log is
append-only, so they are put into words when read: ``audit_detail`` for the log's page and its
export. ``record_change`` words one change of an object's history (simple_history) for the
object's page. Anything not known is shown as it was recorded.
"""

import re
from urllib.parse import parse_qsl

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .registry import Registry
from .templatetags.portal import eur

# Model label -> {status code: label}: the apps whose objects have statuses (or, like a
# school's approval route, settings that change from one code to another) register here.
STATUS_LABELS = Registry("status labels")

FORMATS = {"csv": "CSV", "xlsx": "XLSX", "xml": "XML", "pdf": "PDF", "zip": "ZIP"}

# What an export (``iap_portal.exports``, by kind) downloads.
EXPORT_NAMES = {
    "plans": gettext_lazy("downloaded the list of plans"),
    "pupils": gettext_lazy("downloaded the list of pupils"),
    "audit": gettext_lazy("downloaded the audit log"),
    "claims": gettext_lazy("downloaded the list of claims"),
    "claim_queue": gettext_lazy("downloaded the claims awaiting a decision"),
    "payments": gettext_lazy("downloaded the list of payments"),
}

# The objects an export lists (its ``status`` filter is in their statuses).
EXPORT_MODELS = {
    "plans": "plans.SupportPlan",
    "claims": "compensations.CompensationClaim",
    "claim_queue": "compensations.CompensationClaim",
    "payments": "compensations.CompensationClaim",
}

# The filters of the lists' query strings.
FILTER_NAMES = {
    "q": gettext_lazy("search"),
    "status": gettext_lazy("status"),
    "school": gettext_lazy("school"),
    "semester": gettext_lazy("semester"),
    "category": gettext_lazy("category"),
    "class_group": gettext_lazy("class"),
    "month": gettext_lazy("month"),
    "kind": gettext_lazy("kind"),
    "action": gettext_lazy("action"),
    "user": gettext_lazy("user"),
    "pupil": gettext_lazy("pupil"),
    "student": gettext_lazy("pupil"),
    "date_from": gettext_lazy("from"),
    "date_to": gettext_lazy("until"),
    "level": gettext_lazy("level"),
}

# The lists that showed pupils (``audit.record_list``'s ``what``).
LIST_NAMES = {
    "plans": gettext_lazy("list of plans"),
    "plan queue": gettext_lazy("plans awaiting approval"),
    "consultations": gettext_lazy("consultations"),
    "pupils": gettext_lazy("list of pupils"),
    "pupil import check": gettext_lazy("check of a pupil import"),
    "early warning": gettext_lazy("early warning"),
    "early-warning import check": gettext_lazy("check of an e-journal import"),
    "audit log": gettext_lazy("audit log"),
    "home": gettext_lazy("home page"),
    "esf_participants": gettext_lazy("ESF participants"),
    "claims": gettext_lazy("list of claims"),
    "claim_queue": gettext_lazy("claims awaiting a decision"),
    "payments": gettext_lazy("list of payments"),
    "payment batch": gettext_lazy("payment batch"),
    "payment batch (payer)": gettext_lazy("payment batch (payer)"),
}

# Details that say what a view of a pupil, plan or claim was for, and other fixed details.
PHRASES = {
    "edit": gettext_lazy("editing"),
    "new plan": gettext_lazy("a new plan"),
    "new claim": gettext_lazy("a new claim"),
    "evaluation": gettext_lazy("evaluation"),
    "consultation": gettext_lazy("a consultation"),
    "payee": gettext_lazy("payee"),
    "payee: edit": gettext_lazy("editing a payee"),
    "payee: take out of use": gettext_lazy("taking a payee out of use"),
    "pupil archive": gettext_lazy("the pupil's data archive"),
    "admin": gettext_lazy("administration"),
    "admin history": gettext_lazy("administration: history"),
    "admin history version": gettext_lazy("administration: an earlier version"),
    "ok": gettext_lazy("with a code from the app"),
    "backup code": gettext_lazy("with a backup code"),
    "turned on": gettext_lazy("turned on"),
    "turned off": gettext_lazy("turned off"),
    "new backup codes": gettext_lazy("new backup codes"),
    "pdf": "PDF",
    "zip": "ZIP",
    "self-approval": gettext_lazy("self-approval"),
    "revision raises or adds: whole route": gettext_lazy(
        "the revision raises or adds amounts: the whole route approves it"
    ),
    "school level alone": gettext_lazy("the school alone"),
    "whole route": gettext_lazy("the whole route"),
}

LEVELS = {
    "school": gettext_lazy("at the school"),
    "municipality": gettext_lazy("at the municipality"),
    "agency": gettext_lazy("at IKVD"),
}

STATUS_RE = re.compile(
    r"^(?P<subject>.*): (?P<before>[\w-]*) → (?P<after>[\w-]+)(?: \((?P<note>.*)\))?$"
)
SETTING_RE = re.compile(r"^(?P<subject>.*): (?P<value>school level alone|whole route)$")
EXPORT_RE = re.compile(r"^(?P<kind>[\w-]+)\.(?P<fmt>csv|xlsx) ?(?P<query>.*)$")
BATCH_EXPORT_RE = re.compile(r"^(?P<code>\S+) \((?P<fmt>csv|xlsx|xml)\)$")
LIST_RE = re.compile(r"^(?P<what>.+): (?P<count>\d+)$")
APPROVED_AT_RE = re.compile(r"^approved at (?P<level>\w+), to (?P<next>\w+)$")
OVER_BUDGET_RE = re.compile(r"^over budget by (?P<amount>[\d.]+) EUR\b.*$")
SUBJECT_RE = re.compile(
    r"^(?P<what>approval route|revisions lowering amounts only) of (?P<name>.+)$"
)
RESET_RE = re.compile(r"^reset for (?P<name>.+)$")
# Filters of an export's query string that the reader needs no word for.
QUIET_PARAMS = {"format", "page", "sort", "o"}


def status_label(model_label, code):
    """A status code of a model in words (the code itself where nothing is registered)."""
    if not code:
        return "—"
    try:
        labels = STATUS_LABELS[model_label]
    except KeyError:
        return code
    return str(labels.get(code, code))


def audit_detail(event):
    """The details of an audit event as the reader's language says them."""
    detail = (event.detail or "").strip()
    if not detail:
        return ""
    if detail in PHRASES:
        return str(PHRASES[detail])
    if event.action == "status":
        return _status_detail(event.object_type, detail)
    if event.action == "export":
        return _export_detail(event.object_type, detail)
    if event.action == "view_list":
        return _list_detail(detail)
    if event.action == "two_factor_change" and (match := RESET_RE.match(detail)):
        return _("reset for %(name)s") % {"name": match["name"]}
    if event.action in {"view_plan", "view_claim"}:
        # "<code> <what for>": the object column names the plan or claim.
        code, _space, what = detail.partition(" ")
        if what in PHRASES:
            return f"{code}: {PHRASES[what]}"
    if detail.startswith("payee: new "):
        return _("a new payee")
    return detail


def _status_detail(model_label, detail):
    match = STATUS_RE.match(detail)
    if match is None:
        setting = SETTING_RE.match(detail)
        if setting is None:
            return detail
        return f"{_subject(setting['subject'])}: {PHRASES[setting['value']]}"
    text = _("%(subject)s: %(before)s → %(after)s") % {
        "subject": _subject(match["subject"]),
        "before": status_label(model_label, match["before"]),
        "after": status_label(model_label, match["after"]),
    }
    if match["note"]:
        text += f" ({_notes(match['note'])})"
    return text


def _subject(subject):
    match = SUBJECT_RE.match(subject)
    if match is None:
        return subject
    if match["what"] == "approval route":
        return _("approval route of %(name)s") % {"name": match["name"]}
    return _("revisions that only lower amounts, %(name)s") % {"name": match["name"]}


def _notes(notes):
    words = []
    for note in notes.split("; "):
        if note in PHRASES:
            words.append(str(PHRASES[note]))
        elif match := APPROVED_AT_RE.match(note):
            words.append(
                _("approved %(level)s, now waits %(next)s")
                % {
                    "level": LEVELS.get(match["level"], match["level"]),
                    "next": LEVELS.get(match["next"], match["next"]),
                }
            )
        elif match := OVER_BUDGET_RE.match(note):
            words.append(_("over the budget by %(amount)s") % {"amount": eur(match["amount"])})
        else:
            words.append(note)
    return "; ".join(words)


def _export_detail(model_label, detail):
    if match := BATCH_EXPORT_RE.match(detail):
        return _("downloaded payment batch %(code)s (%(format)s)") % {
            "code": match["code"],
            "format": FORMATS[match["fmt"]],
        }
    match = EXPORT_RE.match(detail)
    if match is None:
        return detail
    what = EXPORT_NAMES.get(match["kind"])
    text = f"{what} ({FORMATS[match['fmt']]})" if what else detail.split(" ", 1)[0]
    model_label = EXPORT_MODELS.get(match["kind"], "")
    filters = [
        f"{FILTER_NAMES.get(key, key)}: "
        + (status_label(model_label, value) if key == "status" else value)
        for key, value in parse_qsl(match["query"])
        if key not in QUIET_PARAMS and value
    ]
    if filters:
        text += ", " + _("filtered by %(filters)s") % {"filters": "; ".join(filters)}
    return text


def _list_detail(detail):
    match = LIST_RE.match(detail)
    if match is None:
        return detail
    what = match["what"]
    name = LIST_NAMES.get(what)
    if name is None:
        # A payment batch's list names the batch after its kind ("payment batch 2026-09 …").
        kind, _space, code = what.rpartition(" ")
        name = f"{LIST_NAMES[kind]} {code}" if kind in LIST_NAMES else what
    count = int(match["count"])
    return ngettext("%(list)s: %(count)s pupil", "%(list)s: %(count)s pupils", count) % {
        "list": name,
        "count": count,
    }


def record_change(*, who, history_type, added, changed, removed, fields=()):
    """One change of an object's history (simple_history's ``+``, ``~``, ``-``) as a sentence:
    ``added``, ``changed`` and ``removed`` are the object's own sentences with ``%(who)s``;
    a change names the fields that changed."""
    if history_type == "+":
        return added % {"who": who}
    if history_type == "-":
        return removed % {"who": who}
    text = changed % {"who": who}
    if fields:
        text += ": " + ", ".join(str(field) for field in fields)
    return text

"""The audit log's export: the rows the page's filters show, as CSV (or XLSX), inline up to
``IAP_INLINE_EXPORT_ROWS`` rows and on the task queue above (``iap_portal.exports``)."""

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from iap_portal.exports import ExportSpec, choice_labels, register_export
from iap_portal.models import AuditEvent

from .audit_log import audit_query, describe, who

CHUNK = 500  # events described at a time: the names are looked up per chunk, in bulk


def audit_rows(user, events):
    yield [
        _("When"),
        _("User"),
        _("Action"),
        _("Pupil"),
        _("Object"),
        _("Details"),
        _("From"),
    ]
    actions = choice_labels(AuditEvent.Action.choices)
    chunk = []
    for event in events.iterator(chunk_size=CHUNK):
        chunk.append(event)
        if len(chunk) == CHUNK:
            yield from _rows(user, chunk, actions)
            chunk = []
    yield from _rows(user, chunk, actions)


def _rows(user, chunk, actions):
    for event in describe(user, chunk):
        yield [
            dateformat.format(timezone.localtime(event.at), "j.m.Y H:i:s"),
            who(event),
            actions.get(event.action, event.action),
            "; ".join(pupil.label for pupil in event.pupils),
            event.named.label if event.named else "",
            event.detail_text,
            event.ip or "",
        ]


@register_export("audit")
def audit_export(user, params):
    query = audit_query(user, params)
    return ExportSpec(
        queryset=query.events,
        rows=lambda: audit_rows(user, query.events),
        filename="audita-zurnals",
        title=_("Audit log"),
        schools=tuple(sorted(query.school_ids)),
    )

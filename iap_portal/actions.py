"""What the apps' status changes share: a refusal with messages for the user, the transitions
table, the guarded status transition, who touched an object (four eyes), numbering with a
retry, and the page that asks for a comment (return, reject, suspend) before acting."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, router, transaction
from django.db.models import Max
from django.shortcuts import redirect, render
from django.utils import timezone

from . import audit
from .models import ContentChange


class ActionRefused(Exception):
    """A write or transition that is refused; ``messages`` say why, for the user."""

    def __init__(self, *messages):
        super().__init__(*messages)
        self.messages = list(messages)


def require(condition, message, error=ActionRefused):
    """Refuse (raise ``error`` with the message) unless the condition holds."""
    if not condition:
        raise error(message)


@dataclass(frozen=True)
class Step:
    """One status change a person may make: the statuses it starts from, who may make it
    (``may(user, obj)``), and what a refusal of either says. A decision checks the status
    first (``status_first``), so that a late click hears that it was decided already."""

    sources: frozenset
    may: Callable
    not_allowed: str
    wrong_status: str
    status_first: bool = False


class Steps:
    """An object's transitions table: it answers the services' "may this happen" (``check``)
    and the pages' "which buttons does this person see" (``allowed``), so they cannot differ."""

    def __init__(self, error, **steps):
        self.error = error
        self.steps = steps

    def check(self, name, obj, by):
        step = self.steps[name]
        checks = [
            (lambda: step.may(by, obj), step.not_allowed),
            (lambda: obj.status in step.sources, step.wrong_status),
        ]
        for holds, message in reversed(checks) if step.status_first else checks:
            require(holds(), str(message), self.error)

    def allowed(self, user, obj, *, known=None):
        """The steps this user may take on the object now. ``known`` maps a ``may`` function
        to its answer when the caller has it already (one query fewer)."""
        answers = dict(known or {})
        names = []
        for name, step in self.steps.items():
            if obj.status not in step.sources:
                continue
            if step.may not in answers:
                answers[step.may] = step.may(user, obj)
            if answers[step.may]:
                names.append(name)
        return names


def transition(obj, *, to, by, changed, comment="", audit_note="", **fields):
    """Move ``obj`` from the status it was read with to ``to``.

    A conditional UPDATE (``filter(pk=…, status=current)``): of two people acting at once one
    succeeds and the other gets ``changed`` (an ActionRefused subclass that says so). The
    change is recorded in ``obj.status_changes`` and the audit log in the same transaction."""
    now = timezone.now()
    model = type(obj)
    updated = model._default_manager.filter(pk=obj.pk, status=obj.status).update(
        status=to, updated_at=now, **fields
    )
    if updated != 1:
        raise changed()
    record_status_change(
        obj,
        from_status=obj.status,
        to_status=to,
        by=by,
        at=now,
        comment=comment,
        audit_note=audit_note,
    )
    obj.refresh_from_db()
    return obj


def lock_as_read(obj, *, changed):
    """Lock the object's row until the transaction ends, and refuse (``changed``) when it is no
    longer as ``obj`` was read: its status or ``updated_at`` moved meanwhile (decided, returned,
    edited, submitted again). A decision is then taken on what the decider saw, and whoever
    edits or decides next waits for it."""
    current = (
        type(obj)
        ._default_manager.select_for_update()
        .filter(pk=obj.pk)
        .values_list("status", "updated_at")
        .first()
    )
    if current != (obj.status, obj.updated_at):
        raise changed()


def record_status_change(obj, *, from_status, to_status, by, at=None, comment="", audit_note=""):
    """One row of the object's status history, and its audit event."""
    obj.__dict__.pop("_touched_by", None)
    change = obj.status_changes.create(
        from_status=from_status,
        to_status=to_status,
        by=by,
        at=at or timezone.now(),
        comment=comment,
    )
    audit.record_status(obj, from_status=from_status, to_status=to_status, by=by, note=audit_note)
    return change


def record_change(obj, *, by, what):
    """Someone changed the object's content (the four-eyes rule remembers who)."""
    obj.__dict__.pop("_touched_by", None)
    return ContentChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, by=by, what=what
    )


def changes_of(obj):
    """The object's content changes, oldest first, with who made them."""
    return ContentChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("by")


def touched_by(obj, *, creator_id, submitted):
    """The people who may not decide on ``obj`` (four eyes): its creator, everyone who ever
    submitted it (``submitted``: the object's submitted status), and everyone who ever changed
    its content. Ever, not since the last decision: a change a return "saw" may still be in
    what is decided now.

    Kept on the object for the rest of the request: a page asks for several decisions."""
    cached = getattr(obj, "_touched_by", None)
    if cached is not None:
        return cached
    # A move between approval levels (submitted → submitted) is a decision, not a submission.
    submitters = (
        obj.status_changes.filter(to_status=submitted)
        .exclude(from_status=submitted)
        .values_list("by_id", flat=True)
    )
    editors = changes_of(obj).values_list("by_id", flat=True)
    obj._touched_by = frozenset({creator_id, *submitters, *editors} - {None})
    return obj._touched_by


def create_numbered(model, *, scope, create, attempts=5, on_conflict=None):
    """Create a row numbered ``max(sequence) + 1`` within ``scope`` (a filter): numbers run
    1, 2, 3 … without a gap, each used once (the unique constraint on the number says so too).

    On PostgreSQL the scope's numbering is locked first (``numbering_lock``) until the caller's
    transaction ends, so writers of one scope take their numbers one after another: the start of
    a semester, when a school's teachers all create plans at once, refused most of them after
    five collisions. On SQLite a writer holds the whole database anyway. The retry stays for a
    caller outside a transaction.

    ``create(sequence)`` makes the row; ``on_conflict()`` may raise a better refusal when the
    conflict is not about the number. Returns the row, or None when every attempt collided."""
    numbering_lock(model, scope)
    for _attempt in range(attempts):
        last = model._default_manager.filter(**scope).aggregate(last=Max("sequence"))["last"]
        try:
            with transaction.atomic():
                return create((last or 0) + 1)
        except IntegrityError:
            if on_conflict is not None:
                on_conflict()
    return None


def numbering_lock(model, scope):
    """Wait for, and hold until the end of the current transaction, the lock on numbering
    ``model`` rows within ``scope`` (PostgreSQL's transaction-level advisory lock, keyed by a
    hash of the table and the scope: an unrelated scope with the same hash only waits too).
    Rows of the scope are not locked: the school's other work goes on."""
    connection = transaction.get_connection(router.db_for_write(model))
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    values = ",".join(
        f"{name}={getattr(value, 'pk', value)}" for name, value in sorted(scope.items())
    )
    digest = hashlib.blake2b(f"{model._meta.db_table}:{values}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def show_refusal(request, error):
    for message in error.messages:
        messages.error(request, message)


def comment_action(request, form_class, act, *, template, context, success, done_url):
    """GET shows the form; a valid POST calls ``act(comment)`` and goes to ``done_url``."""
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data["comment"])
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, success)
        return redirect(done_url)
    return render(request, template, {**context, "form": form})

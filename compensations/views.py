from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from iap_portal import audit
from iap_portal.actions import changes_of, comment_action, show_refusal
from iap_portal.exports import export_response
from iap_portal.forms import ReasonForm
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from iap_portal.templatetags.portal import eur
from iap_portal.users import display_name
from plans.access import visible_plans
from plans.audit import record_plan_list, record_plan_view
from plans.models import SupportMeasure
from students.access import (
    get_access,
    require_roles,
)
from students.models import Role

from . import deadlines, services
from .access import (
    can_file_claim,
    decides_claims_of,
    get_claim_or_404,
    touched_claim,
    visible_claims,
    who_decides,
)
from .exports import claims_query, with_class_at_the_time
from .forms import ClaimForm, ClaimLineFormSet, CorrectionForm
from .hooks import claim_page, payment_status
from .models import ClaimLine, ClaimStatus, CompensationClaim, Receipt

CLAIM_ROLES = [Role.CLASS_TEACHER, Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR]


def _claim_list(request, kind, template, *, with_payments=False):
    export = export_response(request, kind)
    if export:
        return export
    form, claims = claims_query(kind, request.user, request.GET)
    totals = claims.aggregate(count=Count("pk"), total=Sum("total"))
    page = paginate(request, with_class_at_the_time(claims).order_by("-month", "-pk"))
    record_plan_list(request, kind, [c.plan for c in page.object_list])
    deadlines.mark_late(page.object_list)
    if with_payments:
        # Each claim's payee (masked) and payment batch, from the payments app (one query).
        status = payment_status(page.object_list)
        for claim in page.object_list:
            claim.payment = status.get(claim.pk)
    context = {"form": form, "page": page, "totals": totals, "with_payments": with_payments}
    return render(request, template, context)


@login_required
def claim_list(request):
    require_roles(request.user, *CLAIM_ROLES)
    return _claim_list(request, "claims", "compensations/claim_list.html")


@login_required
def claim_queue(request):
    """The social pedagogue's queue: submitted claims of the school."""
    require_roles(request.user, Role.SOCIAL_PEDAGOGUE)
    return _claim_list(request, "claim_queue", "compensations/claim_queue.html")


@login_required
@require_http_methods(["GET"])
def claim_payments(request):
    """The coordinator's overview of the school's granted claims, with each one's payee and
    payment batch, and its export. Money is paid through payment batches only."""
    require_roles(request.user, Role.COORDINATOR)
    return _claim_list(
        request,
        "payments",
        "compensations/claim_payments.html",
        with_payments=True,
    )


# --- Filing ---------------------------------------------------------------------------------


def _lines(formset):
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


def _claim_form(request, *, measure, claim=None):
    if claim is not None:
        record_claim_view(request, claim, "edit")
    else:
        record_plan_view(request, measure.plan, "new claim")
    if claim is not None:
        initial_lines = [
            {"date": line.date, "description": line.description, "amount": line.amount}
            for line in claim.lines.all()
        ]
        form = ClaimForm(
            request.POST or None, request.FILES or None, initial={"month": claim.month}
        )
        lines = ClaimLineFormSet(request.POST or None, initial=initial_lines, prefix="lines")
    else:
        form = ClaimForm(request.POST or None, request.FILES or None)
        lines = ClaimLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        args = {
            "by": request.user,
            "month": form.cleaned_data["month"],
            "lines": _lines(lines),
            "receipts": form.cleaned_data["receipts"],
        }
        saved = False
        try:
            if claim is None:
                claim = services.create_claim(measure=measure, **args)
            else:
                services.update_claim(claim=claim, **args)
            saved = True
            if "submit" in request.POST:
                services.submit_claim(claim=claim, by=request.user)
                messages.success(
                    request, _("The claim %(code)s was submitted.") % {"code": claim.code}
                )
            else:
                messages.success(request, _("The claim %(code)s was saved.") % {"code": claim.code})
        except ValidationError as error:
            form.add_error("receipts", error)
        except services.ClaimError as error:
            if saved:
                # Saved, but not submitted: show the claim with the reason.
                show_refusal(request, error)
                return redirect("claim_detail", pk=claim.pk)
            for message in error.messages:
                form.add_error(None, message)
        else:
            return redirect("claim_detail", pk=claim.pk)
    # What the measure's approved amount still leaves: shown before the claim is submitted.
    sums = services.measure_sums([measure.pk]).get(measure.pk) or dict.fromkeys(
        ("claimed", "approved", "paid"), Decimal("0.00")
    )
    remaining = (measure.approved_amount or Decimal(0)) - sums["claimed"]
    return render(
        request,
        "compensations/claim_form.html",
        {
            "form": form,
            "lines": lines,
            "measure": measure,
            "claim": claim,
            "sums": sums,
            "remaining": remaining,
        },
    )


def _claimable_measure(request, measure_pk):
    """The compensation measure a claim of this user is filed on: 404 when not theirs to see,
    403 when they may not file claims on its plan."""
    measure = (
        SupportMeasure.objects.filter(
            pk=measure_pk,
            plan__in=visible_plans(request.user),
            measure_type=SupportMeasure.Type.COMPENSATION,
        )
        .select_related("plan__student", "plan__semester__school_year", "plan__school")
        .first()
    )
    if measure is None:
        raise Http404
    if not can_file_claim(request.user, measure.plan):
        raise PermissionDenied
    return measure


@login_required
@require_http_methods(["GET", "POST"])
def claim_create(request, measure_pk):
    return _claim_form(request, measure=_claimable_measure(request, measure_pk))


@login_required
@require_http_methods(["GET"])
def claim_line_row(request, measure_pk):
    """One empty expense line for the claim form (htmx), numbered after the others."""
    _claimable_measure(request, measure_pk)
    lines = ClaimLineFormSet(prefix="lines")
    total_name = f"{lines.prefix}-TOTAL_FORMS"
    try:
        index = int(request.GET.get(total_name, ""))
    except ValueError:
        index = lines.total_form_count()
    index = max(0, min(index, lines.max_num - 1))
    line = lines.empty_form
    line.prefix = lines.add_prefix(index)
    return render(
        request,
        "compensations/includes/line_row.html",
        {"line": line, "total_name": total_name, "next_total": index + 1, "oob": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_update(request, pk):
    claim = get_claim_or_404(request.user, pk)
    if not can_file_claim(request.user, claim.plan):
        raise PermissionDenied
    if not claim.is_editable:
        messages.error(request, _("Only a claim being prepared or returned can be changed."))
        return redirect("claim_detail", pk=claim.pk)
    return _claim_form(request, measure=claim.measure, claim=claim)


# --- One claim ------------------------------------------------------------------------------


@login_required
def claim_detail(request, pk):
    claim = get_claim_or_404(request.user, pk)
    record_claim_view(request, claim)
    allowed = services.STEPS.allowed(request.user, claim)
    # Who decides a submitted claim, and whether this person touched it (then they may not).
    staff = get_access(request.user).school_ids(Role.SOCIAL_PEDAGOGUE, Role.COORDINATOR)
    submitted = claim.status == ClaimStatus.SUBMITTED and claim.school_id in staff
    sums = services.measure_sums([claim.measure_id]).get(claim.measure_id, {})
    return render(
        request,
        "compensations/claim_detail.html",
        {
            "claim": claim,
            "lines": claim.lines.all(),
            "receipts": claim.receipts.all(),
            "history": claim_history(claim),
            "can_edit": "edit" in allowed,
            "can_decide": "decide" in allowed,
            "payment": payment_status([claim]).get(claim.pk),
            "decider": who_decides(claim) if submitted else None,
            "touched": submitted and touched_claim(request.user, claim),
            "sums": sums,
            # Other apps' sections (payments: whom the claim is paid to).
            "sections": list(filter(None, (add(request, claim) for add in claim_page.values()))),
        },
    )


def claim_history(claim):
    """The claim's story, oldest first, in words: created, each status change, and who added,
    changed or removed which expense line or receipt, or changed the month (from their
    history, a fixed number of queries however many lines).

    The four-eyes record of content changes (``ContentChange``) says only "the lines were
    changed by …"; it is shown where no line or receipt history explains it: changes made
    before that history was kept."""
    entries = [
        _entry(
            claim.created_at,
            _("%(who)s created the claim") % {"who": display_name(claim.submitted_by)},
        )
    ]
    for change in claim.status_changes.select_related("by"):
        text = _("%(from)s → %(to)s, %(who)s") % {
            "from": change.get_from_status_display(),
            "to": change.get_to_status_display(),
            "who": display_name(change.by),
        }
        entries.append(_entry(change.at, text, comment=change.comment))
    lines = list(_records(ClaimLine.history.filter(claim_id=claim.pk)))
    receipts = list(_records(Receipt.history.filter(claim_id=claim.pk)))
    kept_since = min((r.history_date for r in lines + receipts), default=None)
    for change in changes_of(claim):
        if kept_since is None or change.at < kept_since:
            text = _("%(what)s — changed by %(who)s") % {
                "what": change.get_what_display(),
                "who": display_name(change.by),
            }
            entries.append(_entry(change.at, text))
    entries += _line_entries(lines)
    entries += _receipt_entries(receipts)
    entries += _month_entries(_records(CompensationClaim.history.filter(id=claim.pk)))
    entries.sort(key=lambda entry: entry["at"])
    return entries


def _records(history):
    return history.select_related("history_user").order_by("history_date", "history_id")


def _entry(at, text, comment=""):
    return {"at": at, "text": text, "comment": comment}


def _day(day):
    return date_format(day, "j.m.Y")


def _line_entries(records):
    entries, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        values = {
            "who": display_name(record.history_user),
            "line": record.description,
            "date": _day(record.date),
            "amount": eur(record.amount),
        }
        if record.history_type == "+":
            text = _("%(who)s added line “%(line)s”, %(date)s, %(amount)s") % values
        elif record.history_type == "-":
            text = _("%(who)s removed line “%(line)s”, %(date)s, %(amount)s") % values
        elif before is None:  # a line from before its history was kept
            text = _("%(who)s changed line “%(line)s”: now %(date)s, %(amount)s") % values
        else:
            changes = _line_changes(before, record)
            if not changes:
                continue
            text = _("%(who)s changed line “%(line)s”: %(changes)s") % {
                **values,
                "line": before.description,
                "changes": "; ".join(changes),
            }
        entries.append(_entry(record.history_date, text))
    return entries


def _line_changes(before, after):
    changes = []
    if before.date != after.date:
        changes.append(
            _("date %(before)s → %(after)s")
            % {"before": _day(before.date), "after": _day(after.date)}
        )
    if before.description != after.description:
        changes.append(
            _("description “%(before)s” → “%(after)s”")
            % {"before": before.description, "after": after.description}
        )
    if before.amount != after.amount:
        changes.append(
            _("amount %(before)s → %(after)s")
            % {"before": eur(before.amount), "after": eur(after.amount)}
        )
    return changes


def _receipt_entries(records):
    texts = {
        "+": _("%(who)s attached receipt “%(name)s”"),
        "-": _("%(who)s removed receipt “%(name)s”"),
    }
    return [
        _entry(
            record.history_date,
            texts[record.history_type]
            % {"who": display_name(record.history_user), "name": record.original_name},
        )
        for record in records
        if record.history_type in texts
    ]


def _month_entries(records):
    entries, before = [], None
    for record in records:
        if before is not None and record.month != before.month:
            text = _("%(who)s changed the month %(before)s → %(after)s") % {
                "who": display_name(record.history_user),
                "before": date_format(before.month, "m.Y"),
                "after": date_format(record.month, "m.Y"),
            }
            entries.append(_entry(record.history_date, text))
        before = record
    return entries


@login_required
@require_POST
def claim_submit(request, pk):
    claim = get_claim_or_404(request.user, pk)
    if not can_file_claim(request.user, claim.plan):
        raise PermissionDenied
    try:
        services.submit_claim(claim=claim, by=request.user)
    except services.ClaimError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The claim %(code)s was submitted.") % {"code": claim.code})
    return redirect("claim_detail", pk=claim.pk)


def _require_decider(request, claim):
    if not decides_claims_of(request.user, claim):
        raise PermissionDenied


@login_required
@require_POST
def claim_approve(request, pk):
    claim = get_claim_or_404(request.user, pk)
    _require_decider(request, claim)
    try:
        services.approve_claim(claim=claim, by=request.user)
    except services.ClaimError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The claim %(code)s was approved.") % {"code": claim.code})
        if request.POST.get("next") == "queue":
            return redirect("claim_queue")
    return redirect("claim_detail", pk=claim.pk)


def record_claim_view(request, claim, detail=""):
    """A page that shows a claim (its lines, receipts, history) names its pupil in the log."""
    audit.record_view(
        request,
        AuditEvent.Action.VIEW_CLAIM,
        school=claim.school_id,
        obj=claim,
        detail=" ".join(filter(None, [claim.code, detail])),
        student=claim.plan.student_id,
    )


def _decision_page(request, claim, form_class, act, *, title, button, success):
    record_claim_view(request, claim)
    return comment_action(
        request,
        form_class,
        act,
        template="compensations/claim_decision.html",
        context={"claim": claim, "title": title, "button": button},
        success=success,
        done_url=reverse("claim_detail", args=[claim.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_reject(request, pk):
    claim = get_claim_or_404(request.user, pk)
    _require_decider(request, claim)
    return _decision_page(
        request,
        claim,
        ReasonForm,
        lambda reason: services.reject_claim(claim=claim, by=request.user, reason=reason),
        title=_("Reject the claim"),
        button=_("Reject"),
        success=_("The claim was rejected."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_return(request, pk):
    claim = get_claim_or_404(request.user, pk)
    _require_decider(request, claim)
    return _decision_page(
        request,
        claim,
        CorrectionForm,
        lambda comment: services.return_claim(claim=claim, by=request.user, comment=comment),
        title=_("Return the claim for correction"),
        button=_("Return"),
        success=_("The claim was returned for correction."),
    )


# --- Receipts -------------------------------------------------------------------------------


def _get_receipt_or_404(user, public_id):
    receipt = (
        Receipt.objects.filter(public_id=public_id, claim__in=visible_claims(user))
        .select_related("claim__plan", "claim__school")
        .first()
    )
    if receipt is None:
        raise Http404
    return receipt


@login_required
@require_http_methods(["GET"])
def receipt_view(request, public_id):
    receipt = _get_receipt_or_404(request.user, public_id)
    audit.record(
        request,
        AuditEvent.Action.FILE,
        school=receipt.claim.school,
        obj=receipt,
        detail=receipt.claim.code,
        student=receipt.claim.plan.student_id,
    )
    try:
        handle = receipt.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=receipt.content_type,
        as_attachment=request.GET.get("download") == "1",
        filename=receipt.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def receipt_delete(request, public_id):
    receipt = _get_receipt_or_404(request.user, public_id)
    claim = receipt.claim
    if not can_file_claim(request.user, claim.plan):
        raise PermissionDenied
    try:
        services.delete_receipt(receipt=receipt, by=request.user)
    except services.ClaimError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The receipt was removed."))
    return redirect("claim_detail", pk=claim.pk)


# --- For other pages ------------------------------------------------------------------------


def recent_decisions(user, days=30):
    """Decisions on claims this user submitted, for their home page."""
    since = timezone.now() - timedelta(days=days)
    return (
        visible_claims(user)
        .filter(
            submitted_by=user,
            decided_at__gte=since,
            status__in=ClaimStatus.DECIDED,
        )
        .select_related("plan__student")
        .order_by("-decided_at")[:10]
    )

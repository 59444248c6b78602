"""The payment batches' pages: the coordinator builds and sends the month's batch; the payer
(the municipality's accountant, or the school's coordinator where the school pays) downloads
the bank file and records each claim's outcome."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from compensations.models import ClaimStatus, CompensationClaim
from iap_portal import audit
from iap_portal.actions import show_refusal
from iap_portal.forms import parse_ids
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from students.access import get_access, managed_schools
from students.models import Role, School

from . import services
from .access import (
    get_batch_or_404,
    is_payer,
    paid_batches,
    pays_batch,
    require_batch_roles,
    unbatched_scope,
)
from .exports import batch_export
from .forms import BatchCreateForm, IncomingFilterForm, OutcomeForm, PaidForm
from .iban import format_iban, mask_iban
from .models import BatchLine, BatchStatus, LineOutcome, PaymentBatch
from .sepa import bank_file, file_name

DOWNLOADS = {"xml": "application/xml", "xlsx": None, "csv": None}


def _lines(batch):
    return list(
        batch.lines.select_related("claim__measure", "claim__plan__student").order_by(
            "payee_name", "pk"
        )
    )


def _totals(lines):
    """Totals per category and per payee (name and IBAN), for the checks before sending."""
    categories, payees = {}, {}
    for line in lines:
        label = line.claim.measure.get_compensation_category_display()
        row = categories.setdefault(label, {"label": label, "count": 0, "amount": 0})
        row["count"] += 1
        row["amount"] += line.amount
        key = (line.payee_name, line.iban)
        row = payees.setdefault(
            key, {"name": line.payee_name, "iban": mask_iban(line.iban), "count": 0, "amount": 0}
        )
        row["count"] += 1
        row["amount"] += line.amount
    return (
        sorted(categories.values(), key=lambda r: r["label"]),
        sorted(payees.values(), key=lambda r: r["name"]),
    )


def _record_lines(request, what, batch, lines):
    """The page names the lines' payees, who are the pupils' guardians (or the adult pupil):
    the log names the pupils."""
    audit.record_list(
        request,
        f"{what} {batch.code}",
        [line.claim.plan.student_id for line in lines],
        schools=[batch.school_id],
    )


# --- The coordinator: building --------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def batch_list(request):
    require_batch_roles(request.user, Role.COORDINATOR)
    schools = managed_schools(request.user).order_by("name")
    batches = (
        PaymentBatch.objects.filter(school__in=schools)
        .select_related("school")
        .annotate(line_count=Count("lines"))
        .order_by("-month", "-pk")
    )
    page = paginate(request, batches)
    waiting = CompensationClaim.objects.filter(
        school__in=schools, status=ClaimStatus.APPROVED
    ).exclude(Exists(_live_lines()))
    return render(
        request,
        "payments/batch_list.html",
        {
            "page": page,
            "form": BatchCreateForm(schools=list(schools)),
            "waiting": waiting.aggregate(count=Count("pk"), total=Sum("total")),
        },
    )


def _live_lines():
    return BatchLine.objects.filter(claim=OuterRef("pk")).exclude(outcome=LineOutcome.REFUSED)


@login_required
@require_POST
def batch_create(request):
    require_batch_roles(request.user, Role.COORDINATOR)
    schools = list(managed_schools(request.user).order_by("name"))
    form = BatchCreateForm(request.POST, schools=schools)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("batch_list")
    school, month = form.cleaned_data["school"], form.cleaned_data["month"]
    try:
        batch = services.create_batch(school=school, month=month, by=request.user)
    except services.BatchError as error:
        show_refusal(request, error)
        existing = PaymentBatch.objects.filter(
            school=school, payer=school.payer, month=month, status=BatchStatus.OPEN
        ).first()
        return redirect("batch_detail", pk=existing.pk) if existing else redirect("batch_list")
    messages.success(request, _("The payment batch %(code)s was made.") % {"code": batch.code})
    return redirect("batch_detail", pk=batch.pk)


def _candidates(batch):
    """Approved claims of the school that could go into the open batch: in no live batch, of
    its month or before; with each one's payee (or none yet)."""
    claims = list(
        CompensationClaim.objects.filter(
            school_id=batch.school_id, status=ClaimStatus.APPROVED, month__lte=batch.month
        )
        .exclude(Exists(_live_lines()))
        .select_related("measure", "plan__student")
        .order_by("month", "code")[:200]
    )
    payees = services.payees_for(claims)
    status = services.payment_status(claims)
    for claim in claims:
        claim.payee = payees.get(claim.pk)
        claim.refused = (status.get(claim.pk) or {}).get("refused", "")
    return claims


@login_required
@require_http_methods(["GET"])
def batch_detail(request, pk):
    batch = get_batch_or_404(request.user, pk, for_build=True)
    lines = _lines(batch)
    categories, payees = _totals(lines)
    candidates = _candidates(batch) if batch.status == BatchStatus.OPEN else []
    shown = lines + [BatchLine(claim=c) for c in candidates]
    _record_lines(request, "payment batch", batch, shown)
    return render(
        request,
        "payments/batch_detail.html",
        {
            "batch": batch,
            "lines": lines,
            "categories": categories,
            "payees": payees,
            "candidates": candidates,
            "figures": services.reconciliation(batch) if batch.is_locked else None,
            "has_account": services.debtor_account_of(batch) is not None,
            # A school that pays itself: its coordinator opens the payer's page from here.
            "pays": pays_batch(request.user, batch),
        },
    )


@login_required
@require_POST
def batch_add(request, pk):
    batch = get_batch_or_404(request.user, pk, for_build=True)
    ids = parse_ids(request.POST.getlist("claims"))
    if not ids:
        messages.error(request, _("Choose the approved claims to put into the batch."))
        return redirect("batch_detail", pk=batch.pk)
    claims = list(CompensationClaim.objects.filter(pk__in=ids, school_id=batch.school_id))
    try:
        result = services.add_claims(batch=batch, claims=claims, by=request.user)
    except services.BatchError as error:
        show_refusal(request, error)
        return redirect("batch_detail", pk=batch.pk)
    if result.lines:
        messages.success(
            request,
            ngettext(
                "%(count)d claim was put into the batch.",
                "%(count)d claims were put into the batch.",
                len(result.lines),
            )
            % {"count": len(result.lines)},
        )
    for message in result.refused:
        messages.warning(request, message)
    return redirect("batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_remove(request, pk, line_pk):
    batch = get_batch_or_404(request.user, pk, for_build=True)
    line = batch.lines.filter(pk=line_pk).select_related("batch", "claim").first()
    if line is None:
        raise Http404
    try:
        services.remove_line(line=line, by=request.user)
    except services.BatchError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request, _("The claim %(code)s was taken out of the batch.") % {"code": line.claim.code}
        )
    return redirect("batch_detail", pk=batch.pk)


@login_required
@require_http_methods(["GET", "POST"])
def batch_send(request, pk):
    """GET: the confirmation (what will be sent, to whom); POST: send."""
    batch = get_batch_or_404(request.user, pk, for_build=True)
    if request.method == "POST":
        try:
            services.send_batch(batch=batch, by=request.user)
        except services.BatchError as error:
            show_refusal(request, error)
        else:
            messages.success(
                request,
                _("The payment batch %(code)s was sent to the payer.") % {"code": batch.code},
            )
        return redirect("batch_detail", pk=batch.pk)
    if batch.status != BatchStatus.OPEN:
        messages.info(request, _("The batch was sent: it can no longer be changed."))
        return redirect("batch_detail", pk=batch.pk)
    lines = _lines(batch)
    categories, payees = _totals(lines)
    _record_lines(request, "payment batch", batch, lines)
    return render(
        request,
        "payments/batch_send.html",
        {"batch": batch, "lines": lines, "categories": categories, "payees": payees},
    )


# --- The payer: paying ----------------------------------------------------------------------


def _require_payer(user):
    if not is_payer(user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET"])
def batch_incoming(request):
    _require_payer(request.user)
    batches = paid_batches(request.user)
    schools = School.objects.filter(
        pk__in=batches.order_by().values("school_id").distinct()
    ).order_by("name")
    form = IncomingFilterForm(request.GET, schools=schools)
    if form.is_valid():
        data = form.cleaned_data
        if data["school"]:
            batches = batches.filter(school_id=data["school"])
        if data["month"]:
            batches = batches.filter(month=data["month"].replace(day=1))
        if data["status"]:
            batches = batches.filter(status=data["status"])
    else:
        batches = batches.none()
    batches = (
        batches.select_related("school")
        .annotate(
            line_count=Count("lines"),
            paid=Sum("lines__amount", filter=Q(lines__outcome=LineOutcome.PAID)),
            refused=Sum("lines__amount", filter=Q(lines__outcome=LineOutcome.REFUSED)),
        )
        .order_by("status", "-sent_at", "-pk")
    )
    page = paginate(request, batches)
    return render(
        request,
        "payments/batch_incoming.html",
        {
            "page": page,
            "form": form,
            "is_filtered": any(request.GET.get(key) for key in ("school", "month", "status")),
        },
    )


@login_required
@require_http_methods(["GET"])
def batch_payment(request, pk):
    batch = get_batch_or_404(request.user, pk, for_pay=True)
    lines = _lines(batch)
    for line in lines:
        line.batch = batch
        line.iban_full = format_iban(line.iban)
        # The four-eyes refusal the fields tell (who added, sent, approved); the service
        # checks the rest (who filed or changed the claim) when the outcome is recorded.
        line.refusal = services.may_record(request.user, line, touched=False)
    _record_lines(request, "payment batch (payer)", batch, lines)
    return render(
        request,
        "payments/batch_payment.html",
        {
            "batch": batch,
            "lines": lines,
            "figures": services.reconciliation(batch),
            "paid_form": PaidForm(),
            "outcome_form": OutcomeForm(),
            "pending": any(line.outcome == LineOutcome.PENDING for line in lines),
        },
    )


def _show_form_errors(request, form):
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)


@login_required
@require_POST
def batch_record(request, pk, line_pk):
    batch = get_batch_or_404(request.user, pk, for_pay=True)
    line = batch.lines.filter(pk=line_pk).select_related("batch", "claim").first()
    if line is None:
        raise Http404
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        _show_form_errors(request, form)
        return redirect("batch_payment", pk=batch.pk)
    data = form.cleaned_data
    try:
        if data["outcome"] == OutcomeForm.PAID:
            services.record_paid(
                line=line, by=request.user, paid_on=data["paid_on"], reference=data["reference"]
            )
            message = _("The payment of %(code)s was recorded.")
        else:
            services.record_refused(line=line, by=request.user, reason=data["reason"])
            message = _("The refusal of %(code)s was recorded: the claim goes back to the school.")
    except services.BatchError as error:
        show_refusal(request, error)
    else:
        messages.success(request, message % {"code": line.claim.code})
    return redirect("batch_payment", pk=batch.pk)


@login_required
@require_POST
def batch_record_all(request, pk):
    batch = get_batch_or_404(request.user, pk, for_pay=True)
    form = PaidForm(request.POST)
    if not form.is_valid():
        _show_form_errors(request, form)
        return redirect("batch_payment", pk=batch.pk)
    try:
        count = services.record_remaining_paid(
            batch=batch,
            by=request.user,
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
        )
    except services.BatchError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            ngettext("%(count)d payment was recorded.", "%(count)d payments were recorded.", count)
            % {"count": count},
        )
    return redirect("batch_payment", pk=batch.pk)


@login_required
@require_http_methods(["GET"])
def batch_download(request, pk, fmt):
    if fmt not in DOWNLOADS:
        raise Http404
    batch = get_batch_or_404(request.user, pk, for_pay=True)
    lines = _lines(batch)
    audit.record(
        request,
        AuditEvent.Action.EXPORT,
        school=batch.school_id,
        obj=batch,
        detail=f"{batch.code} ({fmt})",
        students=[line.claim.plan.student_id for line in lines],
    )
    if fmt == "xml":
        response = HttpResponse(bank_file(batch, lines), content_type=DOWNLOADS["xml"])
        response["Content-Disposition"] = f'attachment; filename="{file_name(batch, "xml")}"'
        return response
    return batch_export(batch, fmt)


# --- Both: claims not yet batched -----------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def batch_unbatched(request):
    """Approved claims that no live batch holds, approved more than IAP_UNBATCHED_LATE_DAYS
    ago: for the school's coordinator and the payer's accountant (codes, no pupils)."""
    require_batch_roles(request.user)
    days = settings.IAP_UNBATCHED_LATE_DAYS
    since = timezone.now() - timedelta(days=days)
    claims = (
        CompensationClaim.objects.filter(unbatched_scope(request.user), status=ClaimStatus.APPROVED)
        .exclude(Exists(_live_lines()))
        .filter(decided_at__lt=since)
        .select_related("school", "measure")
        .order_by("decided_at", "pk")
    )
    page = paginate(request, claims)
    coordinated = get_access(request.user).coordinated_school_ids
    today = timezone.localdate()
    for claim in page.object_list:
        claim.days_waiting = (today - timezone.localtime(claim.decided_at).date()).days
        claim.linkable = claim.school_id in coordinated
    return render(
        request,
        "payments/batch_unbatched.html",
        {
            "page": page,
            "days": days,
            "totals": claims.aggregate(count=Count("pk"), total=Sum("total")),
        },
    )

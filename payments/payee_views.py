"""The payees' pages: a pupil's payees (a section of the pupil's page), adding, changing and
taking one out of use, the school's organisations, and the claim page's choice of payee.

Only the school's coordinator and social pedagogue reach them (``payments.payees``); a page
that shows a pupil's payee names the pupil in the audit log. IBANs are masked on every page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compensations.access import get_claim_or_404
from compensations.models import ClaimStatus
from iap_portal import audit
from iap_portal.actions import show_refusal
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from students.access import require_roles
from students.models import School

from . import payees
from .iban import mask_iban
from .models import Payee
from .payee_forms import (
    ClaimPayeeForm,
    GuardianPayeeForm,
    OrganisationPayeeForm,
    PayeeForm,
    PupilPayeeForm,
)


def _record_payee_view(request, payee, detail="payee"):
    """A page that shows a pupil's payee (a guardian's account) names the pupil."""
    if payee.student_id:
        audit.record_view(
            request,
            AuditEvent.Action.VIEW_PUPIL,
            school=payee.school_id,
            obj=payee,
            detail=detail,
            student=payee.student_id,
        )


def _record_pupil_view(request, student, detail):
    audit.record_view(
        request,
        AuditEvent.Action.VIEW_PUPIL,
        school=student.school_id,
        obj=student,
        detail=detail,
        student=student,
    )


def _masked(payee_list):
    for payee in payee_list:
        payee.masked_iban = payees.shown_iban(payee.iban)
    return payee_list


# --- Sections of other apps' pages ------------------------------------------------------------


def pupil_page_payees(request, student):
    """The pupil page's payees (students.hooks.pupil_page): only for who keeps them."""
    if not payees.can_keep_payees(request.user, student.school_id):
        return {}
    return {
        "payee_section": {
            "template": "payments/payee_pupil_section.html",
            "payees": _masked(list(payees.pupil_payees(student))),
            "is_adult": payees.is_adult(student),
        }
    }


def claim_page_payee(request, claim):
    """The claim page's payee (compensations.hooks.claim_page): whom the claim is paid to. Who
    keeps the school's payees sees the IBAN masked and may choose; the class teacher who filed
    it sees the payee's name only. Three queries: the choice, the payees in use, the batch."""
    keeper = payees.can_keep_payees(request.user, claim.school_id)
    chosen = payees.chosen_payee(claim)
    candidates = list(payees.claim_payee_choices(claim))
    shown = chosen or payees.default_among(candidates, claim.plan.student_id)
    section = {
        "template": "payments/payee_claim_section.html",
        "payee": shown,
        "chosen": chosen is not None,
        "keeper": keeper,
    }
    if not keeper:
        return section
    if shown is not None:
        shown.masked_iban = payees.shown_iban(shown.iban)
    line = payees.claim_in_live_batch(claim)
    section["batch_line"] = line
    if line is None and claim.status != ClaimStatus.PAID:
        form = ClaimPayeeForm(choices=payees.claim_payee_choices(claim), initial_payee=shown)
        field = form.fields["payee"]
        # The payees are read already: the select lists them without asking again.
        field.widget.choices = [("", field.empty_label)] + [
            (p.pk, field.label_from_instance(p)) for p in candidates
        ]
        section["form"] = form
    return section


# --- A pupil's payees -------------------------------------------------------------------------


def _payee_form_page(request, *, student, kind, form):
    _record_pupil_view(request, student, f"payee: new {kind}")
    refusal = None
    if kind == Payee.Kind.PUPIL and not payees.is_adult(student):
        refusal = payees.adult_refusal(student)
    if request.method == "POST" and refusal is None and form.is_valid():
        data = form.cleaned_data
        try:
            payee = payees.add_payee(
                school=student.school,
                kind=kind,
                by=request.user,
                student=student,
                guardian=data.get("guardian"),
                name=data["name"],
                address=data["address"],
                iban=data["iban"],
            )
        except payees.PayeeError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The payee %(name)s was added.") % {"name": payee.name})
            return redirect("student_detail", pk=student.pk)
    return render(
        request,
        "payments/payee_form.html",
        {"form": form, "student": student, "kind": kind, "refusal": refusal},
    )


@login_required
@require_http_methods(["GET", "POST"])
def payee_guardian_create(request, student_pk):
    student = payees.get_pupil_for_payees_or_404(request.user, student_pk)
    guardians = student.guardians.all()
    if not guardians.exists():
        messages.error(
            request,
            _("The pupil has no guardians recorded: add them on the pupil's page first."),
        )
        return redirect("student_detail", pk=student.pk)
    form = GuardianPayeeForm(request.POST or None, guardians=guardians)
    return _payee_form_page(request, student=student, kind=Payee.Kind.GUARDIAN, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def payee_pupil_create(request, student_pk):
    student = payees.get_pupil_for_payees_or_404(request.user, student_pk)
    form = PupilPayeeForm(request.POST or None, student=student)
    return _payee_form_page(request, student=student, kind=Payee.Kind.PUPIL, form=form)


# --- One payee --------------------------------------------------------------------------------


def _back(payee):
    if payee.student_id:
        return redirect("student_detail", pk=payee.student_id)
    return redirect("payee_organisation_list")


@login_required
@require_GET
def payee_detail(request, pk):
    payee = payees.get_payee_or_404(request.user, pk)
    _record_payee_view(request, payee)
    return render(
        request,
        "payments/payee_detail.html",
        {
            "payee": payee,
            "masked_iban": payees.shown_iban(payee.iban),
            "history": payees.payee_history(payee),
            "batches": payees.used_in_batches(payee),
            "anonymised": payee.iban == payees.ANONYMISED_IBAN,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payee_update(request, pk):
    payee = payees.get_payee_or_404(request.user, pk)
    if payee.iban == payees.ANONYMISED_IBAN:
        raise PermissionDenied
    _record_payee_view(request, payee, "payee: edit")
    data = request.POST or None
    if payee.kind == Payee.Kind.ORGANISATION:
        form = OrganisationPayeeForm(data, payee=payee)
    else:
        form = PayeeForm(data, payee=payee)
    if request.method == "POST" and form.is_valid():
        try:
            payees.change_payee(payee=payee, by=request.user, values=form.values())
        except payees.PayeeError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Changes to the payee were saved."))
            return redirect("payee_detail", pk=payee.pk)
    return render(
        request,
        "payments/payee_form.html",
        {"form": form, "payee": payee, "student": payee.student, "kind": payee.kind},
    )


@login_required
@require_http_methods(["GET", "POST"])
def payee_deactivate(request, pk):
    """GET asks, POST takes the payee out of use (it is never deleted)."""
    payee = payees.get_payee_or_404(request.user, pk)
    _record_payee_view(request, payee, "payee: take out of use")
    if request.method == "POST":
        try:
            payees.set_payee_active(payee=payee, by=request.user, active=False)
        except payees.PayeeError as error:
            show_refusal(request, error)
        else:
            messages.success(
                request, _("The payee %(name)s is no longer in use.") % {"name": payee.name}
            )
        return _back(payee)
    return render(
        request,
        "payments/payee_confirm_deactivate.html",
        {
            "payee": payee,
            "masked_iban": payees.shown_iban(payee.iban),
            "batches": payees.used_in_batches(payee),
            "claims": payee.claim_choices.count(),
        },
    )


@login_required
@require_POST
def payee_reactivate(request, pk):
    payee = payees.get_payee_or_404(request.user, pk)
    try:
        payees.set_payee_active(payee=payee, by=request.user, active=True)
    except payees.PayeeError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The payee %(name)s is in use again.") % {"name": payee.name})
    return redirect("payee_detail", pk=payee.pk)


# --- The school's organisations ---------------------------------------------------------------


def _keeper_schools(user):
    require_roles(user, *payees.PAYEE_KEEPERS)
    return School.objects.filter(pk__in=payees.payee_school_ids(user)).order_by("name")


@login_required
@require_GET
def payee_organisation_list(request):
    schools = _keeper_schools(request.user)
    page = paginate(request, payees.organisations(schools.values("pk")))
    _masked(page.object_list)
    return render(
        request,
        "payments/payee_organisation_list.html",
        {"page": page, "several_schools": len(payees.payee_school_ids(request.user)) > 1},
    )


@login_required
@require_http_methods(["GET", "POST"])
def payee_organisation_create(request):
    schools = _keeper_schools(request.user)
    form = OrganisationPayeeForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payee = payees.add_payee(
                school=data["school"],
                kind=Payee.Kind.ORGANISATION,
                by=request.user,
                name=data["name"],
                registration_number=data["registration_number"],
                address=data["address"],
                iban=data["iban"],
            )
        except payees.PayeeError as error:
            show_refusal(request, error)
        else:
            messages.success(
                request, _("The organisation %(name)s was added.") % {"name": payee.name}
            )
            return redirect("payee_organisation_list")
    return render(
        request, "payments/payee_form.html", {"form": form, "kind": Payee.Kind.ORGANISATION}
    )


# --- The claim's payee ------------------------------------------------------------------------


@login_required
@require_POST
def claim_payee_choose(request, claim_pk):
    claim = get_claim_or_404(request.user, claim_pk)
    if not payees.can_keep_payees(request.user, claim.school_id):
        raise PermissionDenied
    form = ClaimPayeeForm(request.POST, choices=payees.claim_payee_choices(claim))
    if not form.is_valid():
        for error in form.errors.get("payee", [_("Choose whom the claim is paid to.")]):
            messages.error(request, error)
        return redirect("claim_detail", pk=claim.pk)
    try:
        choice = payees.choose_claim_payee(
            claim=claim, payee=form.cleaned_data["payee"], by=request.user
        )
    except payees.PayeeError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("The claim %(code)s is paid to %(name)s (%(iban)s).")
            % {"code": claim.code, "name": choice.payee.name, "iban": mask_iban(choice.payee.iban)},
        )
    return redirect("claim_detail", pk=claim.pk)

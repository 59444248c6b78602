from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from early_warning import services as early_warning
from iap_portal.actions import comment_action, show_refusal
from iap_portal.exports import export_response
from iap_portal.forms import CommentForm, ReasonForm, parse_id, parse_ids
from iap_portal.pagination import paginate
from iap_portal.suppression import SMALL, protect
from iap_portal.users import display_name
from iap_portal.wording import record_change
from students.access import (
    can_manage_school,
    chosen_school,
    get_student_or_404,
    managed_schools,
    require_roles,
)
from students.models import SCHOOL_ROLES, ApprovalLevel, Role, SpecialistType, Student

from . import approvals, ceilings, services
from .access import (
    CATALOGUE_KEEPERS,
    can_approve_plan,
    can_edit_risk_factor,
    can_log_consultation,
    can_prepare_plan,
    get_ngo_project_or_404,
    get_plan_or_404,
    get_risk_factor_or_404,
    get_specialist_type_or_404,
    get_waiting_plan_or_404,
    keeps_national_catalogue,
    keeps_ngo_register,
    municipality_ids,
    my_consultation_measures,
    ngo_register_choice,
    upper_schools,
    visible_ngo_projects,
    visible_plans,
    visible_risk_factors,
)
from .audit import record_plan_list, record_plan_view, record_pupil_view
from .early_signals import prefill_suggestions
from .exports import plans_query
from .forms import (
    ApprovalQueueFilterForm,
    CeilingsForm,
    ConsultationForm,
    EvaluationForm,
    MeasureFormSet,
    NgoProjectForm,
    PlanCreateForm,
    PlanHeaderForm,
    RiskFactorForm,
    RiskFormSet,
    SpecialistTypeForm,
)
from .hooks import claim_sums, plan_budget
from .models import (
    WAITS_AT,
    Consultation,
    NgoProject,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    RiskFactor,
    RiskType,
    SupportMeasure,
    SupportPlan,
)

# --- Lists ----------------------------------------------------------------------------------


@login_required
def plan_list(request):
    require_roles(request.user, *SCHOOL_ROLES)
    export = export_response(request, "plans")
    if export:
        return export
    plan_filter, qs = plans_query(request.user, request.GET)
    page = paginate(request, qs)
    record_plan_list(request, "plans", page.object_list)
    return render(
        request,
        "plans/plan_list.html",
        {
            "filter": plan_filter,
            "page": page,
            "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@login_required
def plan_queue(request):
    require_roles(request.user, Role.COORDINATOR)
    plans = (
        SupportPlan.objects.filter(
            school__in=managed_schools(request.user),
            status=PlanStatus.SUBMITTED,
            approval_level=ApprovalLevel.SCHOOL,
        )
        .select_related("student", "semester__school_year", "preparer", "school")
        .annotate(
            risk_count=Count("risks", distinct=True), measure_count=Count("measures", distinct=True)
        )
        .order_by("submitted_at", "pk")
    )
    page = paginate(request, plans)
    approvals.mark_waiting(page.object_list)
    record_plan_list(request, "plan queue", page.object_list)
    return render(request, "plans/plan_queue.html", {"page": page})


# --- One plan -------------------------------------------------------------------------------


def _measures_with_delivery(plan):
    measures = list(
        plan.measures.select_related("specialist_type", "responsible", "ngo_project")
        .prefetch_related("risks__risk_factor")
        .with_delivery()
        .order_by("pk")
    )
    sums = claim_sums(
        [m.pk for m in measures if m.measure_type == SupportMeasure.Type.COMPENSATION]
    )
    for measure in measures:
        measure.claim_sums = sums.get(measure.pk)
    return measures


@login_required
def plan_detail(request, pk):
    plan = get_plan_or_404(request.user, pk)
    record_plan_view(request, plan)
    measures = _measures_with_delivery(plan)
    risks = list(plan.risks.select_related("risk_factor__risk_type"))
    changes = plan.status_changes.select_related("by").order_by("-at", "-pk")
    history = _history(plan)
    consultations = list(_consultations(plan))
    can_prepare = can_prepare_plan(request.user, plan.student)
    actions = services.allowed_actions(
        request.user,
        plan,
        can_prepare=can_prepare,
        # What ``services.delivered_anything`` asks, from what the page loaded: consultations,
        # or compensation approved (granted claims are in the measures' approved sums).
        delivered=bool(consultations)
        or any(m.claim_sums and m.claim_sums["approved"] for m in measures),
    )
    compensated = any(m.measure_type == SupportMeasure.Type.COMPENSATION for m in measures)
    over = ceilings.over_ceilings(plan) if compensated else []
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "risks": risks,
            "measures": measures,
            "consultations": consultations,
            "evaluation": PlanEvaluation.objects.filter(plan=plan)
            .select_related("evaluated_by", "early_allowed_by")
            .first()
            if plan.status == PlanStatus.EVALUATED
            else None,
            "evaluation_opens_on": plan.evaluation_opens_on
            if plan.status in PlanStatus.STARTED and not services.evaluation_is_open(plan)
            else None,
            "status_changes": changes,
            "history": history,
            "actions": actions,
            "can_edit": can_prepare and not plan.is_locked,
            "can_file_claims": can_prepare
            and plan.first_approved_at is not None
            and plan.status != PlanStatus.INACTIVE,
            "problems": services.submission_problems(plan, over_ceilings=over)
            if plan.status in PlanStatus.EDITABLE
            else [],
            "over_ceilings": over,
            "budget": plan_budget(plan) if "approve" in actions else None,
        },
    )


def _consultations(plan):
    return (
        Consultation.objects.filter(measure__plan=plan)
        .select_related("measure__specialist_type", "provider")
        .order_by("-date", "-pk")
    )


def _history(plan, limit=30):
    """Who changed what and when, in words: field changes of the plan, its risks and its
    measures."""
    entries = []
    for model_history, sentences in (
        (
            plan.history.all(),
            (
                _("%(who)s created the plan"),
                _("%(who)s changed the plan"),
                _("%(who)s deleted the plan"),
            ),
        ),
        (
            PlanRisk.history.filter(plan_id=plan.pk),
            (_("%(who)s added a risk"), _("%(who)s changed a risk"), _("%(who)s removed a risk")),
        ),
        (
            SupportMeasure.history.filter(plan_id=plan.pk),
            (
                _("%(who)s added a measure"),
                _("%(who)s changed a measure"),
                _("%(who)s removed a measure"),
            ),
        ),
    ):
        added, changed_text, removed = sentences
        records = list(model_history.select_related("history_user").order_by("history_date")[:200])
        previous = {}
        for record in records:
            before = previous.get(record.id)
            changed = []
            if before is not None:
                # Compare plain fields only: the many-to-many history costs a query a record.
                delta = record.diff_against(
                    before, excluded_fields=[f.name for f in before._history_m2m_fields]
                )
                changed = [
                    str(record.instance._meta.get_field(c.field).verbose_name)
                    for c in delta.changes
                    if c.field not in {"status", "updated_at"}
                ]
                if not changed:
                    previous[record.id] = record
                    continue
            text = record_change(
                who=display_name(record.history_user),
                history_type=record.history_type,
                added=added,
                changed=changed_text,
                removed=removed,
                fields=changed,
            )
            entries.append({"at": record.history_date, "text": text})
            previous[record.id] = record
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


# --- Creating and editing -------------------------------------------------------------------


def _chosen_opening(request, openings):
    """The free (semester, kind) pair a "Create a plan" link asked for (``?semester=&kind=``)."""
    semester_pk = parse_id(request.GET.get("semester", ""))
    kind = request.GET.get("kind", SupportPlan.Kind.REGULAR)
    for semester, free_kind in openings:
        if (semester_pk is None or semester.pk == semester_pk) and free_kind == kind:
            return semester, free_kind
    return None


def plan_offers(student, openings, today=None):
    """The pupil page's "Create a plan" links: this semester's plan (else the next semester's)
    and, once the regular plan exists, a holiday plan of the same semester; only pairs that
    ``create_plan`` will accept."""
    today = today or timezone.localdate()
    if not openings:
        return []
    first = next((s for s, _kind in openings if s.start_date <= today), openings[0][0])
    free_now = {kind for s, kind in openings if s == first}
    url = reverse("plan_create", args=[student.pk])
    offers = []
    if SupportPlan.Kind.REGULAR in free_now:
        offers.append((_("Create a plan"), url, True))
    else:
        later = next(
            (s for s, kind in openings if s.start_date > first.start_date and kind == "regular"),
            None,
        )
        if later is not None:
            offers.append(
                (
                    _("Create a plan for %(semester)s") % {"semester": later},
                    f"{url}?semester={later.pk}",
                    True,
                )
            )
        if SupportPlan.Kind.HOLIDAY in free_now:
            offers.append((_("Create a holiday plan"), f"{url}?kind=holiday", False))
    return offers


@login_required
def plan_create(request, student_pk):
    student = get_student_or_404(request.user, student_pk)
    if not can_prepare_plan(request.user, student):
        raise PermissionDenied
    record_pupil_view(request, student, "new plan")
    openings = services.plan_openings(student)
    form = PlanCreateForm(
        request.POST or None, openings=openings, chosen=_chosen_opening(request, openings)
    )
    semester = form.fields["semester"].initial
    previous = services.previous_plan(student, semester) if semester else None
    signals = early_warning.signals_for_plan(student, semester) if semester else None
    if request.method == "POST" and form.is_valid():
        semester = form.cleaned_data["semester"]
        try:
            if request.POST.get("copy_from"):
                source_pk = parse_id(request.POST["copy_from"])
                source = (
                    visible_plans(request.user).filter(pk=source_pk, student=student).first()
                    if source_pk
                    else None
                )
                if source is None:
                    raise Http404
                plan = services.copy_plan(source=source, semester=semester, by=request.user)
                messages.success(
                    request,
                    _(
                        "A draft was made from plan %(code)s: "
                        "check the dates and the justifications."
                    )
                    % {"code": source.code},
                )
            else:
                plan = services.create_plan(
                    student=student,
                    semester=semester,
                    kind=form.cleaned_data["kind"],
                    by=request.user,
                    prefill_signals=True,
                )
                messages.success(
                    request, _("The draft plan %(code)s was created.") % {"code": plan.code}
                )
                if plan.prefilled_risks:
                    messages.info(
                        request,
                        _(
                            "The risks the e-journal data points to were added with the "
                            "figures as their justification: check and complete them."
                        ),
                    )
        except services.PlanActionError as error:
            show_refusal(request, error)
        else:
            return redirect("plan_update", pk=plan.pk)
    return render(
        request,
        "plans/plan_create.html",
        {
            "form": form,
            "student": student,
            "openings": openings,
            "previous": previous,
            "signals": signals,
            "suggestions": prefill_suggestions(signals),
        },
    )


def _edit_forms(request, plan):
    data = request.POST if request.method == "POST" else None
    header = PlanHeaderForm(data, instance=plan, prefix="plan")
    risks = RiskFormSet(data, instance=plan, prefix="risks")
    if data is not None and risks.is_valid():
        factor_ids = risks.kept_factor_ids()
    else:
        factor_ids = {r.risk_factor_id for r in plan.risks.all()}
        if data is not None:
            # Offer the factors chosen on the page too, so a re-shown form keeps its links.
            factor_ids |= set(
                parse_ids(
                    v
                    for k, v in data.items()
                    if k.startswith("risks-") and k.endswith("-risk_factor")
                )
            )
    measures = MeasureFormSet(data, instance=plan, prefix="measures", risk_factor_ids=factor_ids)
    return header, risks, measures


def _measure_changes(measures):
    """A valid measure formset as the new and changed measures (unsaved), each with the risk
    factors it addresses, and the saved measures to remove."""
    deleted = measures.deleted_forms
    changed = [
        (form.save(commit=False), list(form.cleaned_data["risk_factors"]))
        for form in measures.forms
        if form not in deleted and form.has_changed()
    ]
    return changed, [form.instance for form in deleted if form.instance.pk]


@login_required
def plan_update(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_prepare_plan(request.user, plan.student):
        raise PermissionDenied
    if plan.is_locked:
        messages.error(request, _("This plan is locked: only its status may change."))
        return redirect("plan_detail", pk=plan.pk)
    record_plan_view(request, plan, "edit")
    header, risks, measures = _edit_forms(request, plan)
    if request.method == "POST":
        if header.is_valid() and risks.is_valid() and measures.is_valid():
            changed_risks = risks.save(commit=False)  # fills risks.deleted_objects
            changed_measures, removed_measures = _measure_changes(measures)
            try:
                services.save_plan_content(
                    plan=header.save(commit=False),
                    by=request.user,
                    risks=changed_risks,
                    removed_risks=risks.deleted_objects,
                    measures=changed_measures,
                    removed_measures=removed_measures,
                )
            except services.PlanActionError as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("The plan was saved."))
                if "continue" in request.POST:
                    return redirect("plan_update", pk=plan.pk)
                return redirect("plan_detail", pk=plan.pk)
        else:
            messages.error(request, _("The plan was not saved: correct the fields marked below."))
    return render(
        request,
        "plans/plan_form.html",
        {"plan": plan, "header": header, "risks": risks, "measures": measures},
    )


@login_required
@require_http_methods(["GET"])
def plan_row(request, pk, kind):
    """One empty risk or measure row for the edit page (htmx), numbered after the others."""
    plan = get_plan_or_404(request.user, pk)
    if not can_prepare_plan(request.user, plan.student) or plan.is_locked:
        raise PermissionDenied
    _header, risks, measures = _edit_forms(request, plan)
    formset = risks if kind == "risk" else measures
    total_name = f"{formset.prefix}-TOTAL_FORMS"
    try:
        index = int(request.GET.get(total_name, ""))
    except ValueError:
        index = formset.total_form_count()
    index = max(0, min(index, 29))
    form = formset.empty_form
    form.prefix = formset.add_prefix(index)
    return render(
        request,
        f"plans/includes/{kind}_row.html",
        {
            "form": form,
            "index": index,
            "total_name": total_name,
            "next_total": index + 1,
            "oob": True,
        },
    )


# --- Transitions ----------------------------------------------------------------------------

SIMPLE_ACTIONS = {
    "submit": (services.submit_plan, _("The plan was submitted for approval.")),
    "approve": (services.approve_plan, _("The plan was approved.")),
    "revise": (
        services.revise_plan,
        _("The plan is open for revision; submit it again when ready."),
    ),
    "resume": (services.resume_plan, _("The plan was resumed.")),
}


def _may_act(user, plan, action):
    if action == "approve":
        return can_manage_school(user, plan.school_id)
    return can_prepare_plan(user, plan.student)


@login_required
@require_POST
def plan_transition(request, pk, action):
    plan = get_plan_or_404(request.user, pk)
    if not _may_act(request.user, plan, action):
        raise PermissionDenied
    function, success = SIMPLE_ACTIONS[action]
    # The plan page showed the budget warning beside the button that confirms it.
    extra = (
        {"over_budget_ok": request.POST.get("over_budget") == "1"} if action == "approve" else {}
    )
    try:
        function(plan=plan, by=request.user, **extra)
    except services.PlanActionError as error:
        show_refusal(request, error)
    else:
        messages.success(request, success)
    if action == "approve" and request.POST.get("next") == "queue":
        return redirect("plan_queue")
    return redirect("plan_detail", pk=plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def plan_return(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_manage_school(request.user, plan.school_id):
        raise PermissionDenied
    return _comment_action(
        request,
        plan,
        CommentForm,
        lambda comment: services.return_plan(plan=plan, by=request.user, comment=comment),
        title=_("Return the plan to the preparer"),
        button=_("Return"),
        success=_("The plan was returned to the preparer."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_suspend(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_prepare_plan(request.user, plan.student):
        raise PermissionDenied
    return _comment_action(
        request,
        plan,
        ReasonForm,
        lambda reason: services.suspend_plan(plan=plan, by=request.user, reason=reason),
        title=_("Suspend the plan"),
        button=_("Suspend"),
        success=_("The plan was suspended."),
        intro=_(
            "Suspend the plan when the pupil has left the programme or is absent for long. "
            "It can be resumed only within this semester."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_delete(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_prepare_plan(request.user, plan.student):
        raise PermissionDenied
    record_plan_view(request, plan)
    if request.method == "POST":
        try:
            services.delete_plan(plan=plan, by=request.user)
        except services.PlanActionError as error:
            show_refusal(request, error)
            return redirect("plan_detail", pk=plan.pk)
        messages.success(
            request, _("The plan %(code)s was deleted (made inactive).") % {"code": plan.code}
        )
        return redirect("student_detail", pk=plan.student_id)
    return render(
        request,
        "plans/plan_confirm_delete.html",
        {"plan": plan, "blocked": services.deletion_problem(plan)},
    )


def _comment_action(request, plan, form_class, act, *, title, button, success, intro=""):
    record_plan_view(request, plan)
    return comment_action(
        request,
        form_class,
        act,
        template="plans/plan_comment_action.html",
        context={"plan": plan, "title": title, "button": button, "intro": intro},
        success=success,
        done_url=reverse("plan_detail", args=[plan.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_allow_early_evaluation(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_manage_school(request.user, plan.school_id):
        raise PermissionDenied
    if request.method == "GET":
        problem = services.refusal_to_allow_early_evaluation(plan, by=request.user)
        if problem:
            messages.error(request, problem)
            return redirect("plan_detail", pk=plan.pk)
    return _comment_action(
        request,
        plan,
        ReasonForm,
        lambda reason: services.allow_early_evaluation(plan=plan, by=request.user, reason=reason),
        title=_("Allow early evaluation"),
        button=_("Allow early evaluation"),
        success=_("Early evaluation was allowed: the plan can be evaluated now."),
        intro=_(
            "The plan can be evaluated from %(date)s; the evaluation locks it. Allow it earlier "
            "only when the plan's support has ended before the semester does. Your name, the "
            "time and the reason are kept in the plan's history and on its evaluation."
        )
        % {"date": services.format_day(plan.evaluation_opens_on)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_evaluate(request, pk):
    plan = get_plan_or_404(request.user, pk)
    if not can_prepare_plan(request.user, plan.student):
        raise PermissionDenied
    if plan.status not in PlanStatus.STARTED:
        messages.error(request, _("Only a plan in progress or suspended can be evaluated."))
        return redirect("plan_detail", pk=plan.pk)
    problem = services.evaluation_problem(plan, by=request.user)
    if problem:
        messages.error(request, problem)
        return redirect("plan_detail", pk=plan.pk)
    record_plan_view(request, plan, "evaluation")
    form = EvaluationForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluate_plan(
                plan=plan,
                by=request.user,
                evaluation=form.save(commit=False),
                risk_outcomes=form.risk_outcomes(),
                measure_notes=form.measure_notes(),
            )
        except services.PlanActionError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The evaluation was saved; the plan is now locked."))
        return redirect("plan_detail", pk=plan.pk)
    return render(
        request,
        "plans/plan_evaluate.html",
        {
            "plan": plan,
            "form": form,
            "measures": _measures_with_delivery(plan),
            "signals": early_warning.signals_around_plan(plan),
            "early": not services.evaluation_is_open(plan),
        },
    )


# --- Consultations --------------------------------------------------------------------------


@login_required
def consultation_list(request):
    """ "My consultations": the measures assigned to me with planned and delivered hours."""
    require_roles(request.user, *SCHOOL_ROLES)
    measures = (
        my_consultation_measures(request.user)
        .select_related("plan__student", "plan__semester__school_year", "specialist_type")
        .with_delivery()
        .order_by("plan__student__last_name", "plan__student__first_name", "pk")
    )
    page = paginate(request, measures)
    record_plan_list(request, "consultations", [m.plan for m in page.object_list])
    return render(request, "plans/consultation_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def consultation_create(request, measure_pk):
    measure = (
        SupportMeasure.objects.filter(
            pk=measure_pk,
            plan__in=visible_plans(request.user),
            measure_type=SupportMeasure.Type.CONSULTATION,
        )
        .select_related("plan__student", "plan__semester", "plan__school", "specialist_type")
        .first()
    )
    if measure is None:
        raise Http404
    if not can_log_consultation(request.user, measure):
        raise PermissionDenied
    record_plan_view(request, measure.plan, "consultation")
    form = ConsultationForm(request.POST or None, measure=measure)
    # Said before the form is filled in, not only after it is sent.
    refusal = services.consultation_refusal(measure.plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.log_consultation(
                measure=measure, by=request.user, consultation=form.save(commit=False)
            )
        except services.PlanActionError as error:
            refusal = " ".join(str(message) for message in error.messages)
        else:
            messages.success(request, _("The consultation was logged."))
            return redirect("consultation_list")
    return render(
        request,
        "plans/consultation_form.html",
        {"form": form, "measure": measure, "refusal": refusal},
    )


# --- Catalogues ----------------------------------------------------------------------------


@login_required
def risk_factor_list(request):
    """The agency's national catalogue; a coordinator sees it and their schools' own factors,
    and changes only the latter."""
    require_roles(request.user, *CATALOGUE_KEEPERS)
    factors = (
        visible_risk_factors(request.user)
        .current()
        .select_related("school")
        .annotate(named_in_plans=Exists(PlanRisk.objects.filter(risk_factor=OuterRef("pk"))))
        .order_by("-is_active", "name", "pk")
    )
    types = list(RiskType.objects.prefetch_related(Prefetch("factors", queryset=factors)))
    for risk_type in types:
        for factor in risk_type.factors.all():
            factor.editable = can_edit_risk_factor(request.user, factor)
    return render(
        request,
        "plans/risk_factor_list.html",
        {"types": types, "keeps_national": keeps_national_catalogue(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def risk_factor_edit(request, pk=None):
    if pk is None:
        require_roles(request.user, *CATALOGUE_KEEPERS)
        factor = RiskFactor()
    else:
        factor = get_risk_factor_or_404(request.user, pk, for_edit=True)
    named_in_plans = factor.pk is not None and factor.is_named_in_plans()
    form = RiskFactorForm(
        request.POST or None,
        instance=factor,
        schools=managed_schools(request.user),
        national=keeps_national_catalogue(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.save_risk_factor(
                factor=factor if factor.pk else None,
                by=request.user,
                risk_type=data["risk_type"],
                name=data["name"],
                name_en=data["name_en"],
                is_active=data["is_active"],
                school=form.catalogue_school,
            )
        except services.CatalogueError as error:
            show_refusal(request, error)
        else:
            if factor.pk and saved.pk != factor.pk:
                messages.success(
                    request,
                    _(
                        "Plans name this factor, so a new version of it was made: the plans "
                        "made so far keep the old name, new plans get the new one."
                    ),
                )
            else:
                messages.success(request, _("The risk catalogue was saved."))
            return redirect("risk_factor_list")
    return render(
        request,
        "plans/risk_factor_form.html",
        {"form": form, "factor": factor, "named_in_plans": named_in_plans},
    )


@login_required
def specialist_type_list(request):
    require_roles(request.user, Role.AGENCY)
    types = SpecialistType.objects.annotate(
        named_in_plans=Exists(SupportMeasure.objects.filter(specialist_type=OuterRef("pk")))
    ).order_by("-is_active", "name")
    return render(request, "plans/specialist_type_list.html", {"specialist_types": types})


@login_required
@require_http_methods(["GET", "POST"])
def specialist_type_edit(request, pk=None):
    if pk is None:
        require_roles(request.user, Role.AGENCY)
        specialist_type = SpecialistType()
    else:
        specialist_type = get_specialist_type_or_404(request.user, pk)
    named_in_plans = specialist_type.pk is not None and services.specialist_type_in_plans(
        specialist_type
    )
    form = SpecialistTypeForm(
        request.POST or None, instance=specialist_type, named_in_plans=named_in_plans
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_specialist_type(
                specialist_type=specialist_type,
                by=request.user,
                name=form.cleaned_data["name"],
                name_en=form.cleaned_data["name_en"],
                is_active=form.cleaned_data["is_active"],
            )
        except services.CatalogueError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The specialist types were saved."))
            return redirect("specialist_type_list")
    return render(
        request,
        "plans/specialist_type_form.html",
        {"form": form, "specialist_type": specialist_type, "named_in_plans": named_in_plans},
    )


# --- Compensation ceilings --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def compensation_ceilings(request):
    require_roles(request.user, Role.COORDINATOR)
    school, schools = chosen_school(request, managed_schools(request.user).order_by("name"))
    form = CeilingsForm(request.POST or None, school=school)
    if request.method == "POST":
        if form.is_valid():
            services.save_ceilings(school=school, amounts=form.cleaned_data, by=request.user)
            messages.success(request, _("The compensation ceilings were saved."))
            return redirect(f"{request.path}?school={school.pk}")
        messages.error(request, _("The ceilings were not saved: correct the fields marked below."))
    return render(
        request,
        "plans/compensation_ceilings.html",
        {
            "form": form,
            "school": school,
            "schools": schools,
            "hard_maximum": ceilings.hard_maximum(),
        },
    )


def pupil_page_plans(request, student):
    """The pupil page's plans section (students.hooks.pupil_page, registered by PlansConfig)."""
    return {
        "plans": visible_plans(request.user)
        .filter(student=student)
        .select_related("semester__school_year")
        .order_by("-semester__start_date", "kind"),
        "plan_offers": plan_offers(student, services.plan_openings(student))
        if student.status == Student.Status.ACTIVE and can_prepare_plan(request.user, student)
        else [],
    }


# --- Approvals above the school -------------------------------------------------------------
# The municipality and IKVD see a plan as its code, school, grade, semester, risk types and
# measures with hours and amounts: never the pupil, never free text (plans.approvals).

UPPER_APPROVERS = (Role.MUNICIPALITY, Role.AGENCY)


@login_required
def approval_queue(request):
    require_roles(request.user, *UPPER_APPROVERS)
    form = ApprovalQueueFilterForm(request.GET or None, schools=upper_schools(request.user))
    page = paginate(request, approvals.upper_queue(request.user, **form.filters()))
    approvals.mark_waiting(page.object_list)
    approvals.mark_budget(page.object_list)
    return render(
        request,
        "plans/approval_queue.html",
        {
            "form": form,
            "page": page,
            "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _seen_plans(values):
    """{plan id: its version as the queue showed it} from the queue's "id|version" values;
    anything else is left out."""
    seen = {}
    for value in values:
        pk, _sep, version = str(value).partition("|")
        plan_id = parse_id(pk)
        if plan_id is not None and version and len(version) <= 40:
            seen[plan_id] = version
    return seen


@login_required
@require_POST
def approval_approve(request):
    require_roles(request.user, *UPPER_APPROVERS)
    seen = _seen_plans(request.POST.getlist("plan"))
    if not seen:
        messages.error(request, _("Choose the plans to approve."))
        return redirect("approval_queue")
    approved, refused = services.approve_plans(
        seen=seen, by=request.user, over_budget_ok=request.POST.get("over_budget") == "1"
    )
    if approved:
        messages.success(
            request,
            ngettext(
                "%(count)d plan was approved.", "%(count)d plans were approved.", len(approved)
            )
            % {"count": len(approved)},
        )
    for code, reasons in refused:
        messages.error(
            request,
            _("%(code)s was not approved: %(reasons)s")
            % {"code": code, "reasons": " ".join(reasons)},
        )
    return redirect("approval_queue")


@login_required
def approval_detail(request, pk):
    require_roles(request.user, *UPPER_APPROVERS)
    plan = get_waiting_plan_or_404(request.user, pk)
    approvals.mark_waiting([plan])
    return render(
        request,
        "plans/approval_detail.html",
        {
            "plan": plan,
            "may_decide": can_approve_plan(request.user, plan),
            "version": approvals.version(plan),
            "budget": plan_budget(plan),
            **approvals.need_to_know(plan),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def approval_return(request, pk):
    require_roles(request.user, *UPPER_APPROVERS)
    plan = get_waiting_plan_or_404(request.user, pk)
    if not can_approve_plan(request.user, plan):
        raise PermissionDenied
    return comment_action(
        request,
        CommentForm,
        lambda comment: services.return_plan(plan=plan, by=request.user, comment=comment),
        template="plans/approval_return.html",
        context={"plan": plan},
        success=_("The plan was returned to the preparer."),
        done_url=reverse("approval_queue"),
    )


@login_required
def approval_overview(request):
    require_roles(request.user, *UPPER_APPROVERS)
    return render(
        request,
        "plans/approval_overview.html",
        {
            "rows": approvals.waiting_by_municipality(request.user),
            "levels": [(level, WAITS_AT[level]) for level in ApprovalLevel],
        },
    )


# --- Youth NGO projects ---------------------------------------------------------------------


def ngo_participation(projects):
    """{project id: (pupils, [(school name, pupils), …])} for these projects, from the counted
    plans (approved at least once, not deleted): two grouped queries for the page.

    The municipality sees counts, protected like the reports' (``iap_portal.suppression``):
    1 or 2 pupils as "<3", and a school's count hidden ("x") where the project's total minus
    the other schools would give a "<3" away."""
    counted = SupportMeasure.objects.filter(
        ngo_project__in=projects, plan__first_approved_at__isnull=False
    ).exclude(plan__status=PlanStatus.INACTIVE)
    values = {
        ("total", project_id): pupils
        for project_id, pupils in counted.values_list("ngo_project_id")
        .annotate(pupils=Count("plan__student_id", distinct=True))
        .order_by()
    }
    parts = {}
    for project_id, school, pupils in (
        counted.values_list("ngo_project_id", "plan__school__name")
        .annotate(pupils=Count("plan__student_id", distinct=True))
        .order_by("ngo_project_id", "plan__school__name")
    ):
        values[("school", project_id, school)] = pupils
        parts.setdefault(project_id, []).append(("school", project_id, school))
    hidden = protect(values, [(("total", pk), keys) for pk, keys in parts.items()])

    def shown(key):
        pupils = values.get(key, 0)
        if key not in hidden:
            return pupils
        return "<3" if 0 < pupils < SMALL else "x"

    return {
        p.pk: (shown(("total", p.pk)), [(k[2], shown(k)) for k in parts.get(p.pk, [])])
        for p in projects
    }


@login_required
def ngo_project_list(request):
    """The municipality's register with each project's participants (counts only, 1–2 as
    "<3"); IKVD sees every municipality's, narrowed to one by ``?municipality=``; for school
    staff the running projects their plans may use, read only."""
    require_roles(request.user, Role.MUNICIPALITY, Role.AGENCY, *SCHOOL_ROLES)
    keeps = keeps_ngo_register(request.user)
    projects = visible_ngo_projects(request.user).select_related("municipality")
    choice = ngo_register_choice(request.user) if keeps else None
    municipalities = None if choice is None else list(choice)
    chosen = next(
        (m for m in municipalities or () if str(m.pk) == request.GET.get("municipality")), None
    )
    if chosen is not None:
        projects = projects.filter(municipality=chosen)
    page = paginate(request, projects)
    if keeps:
        participation = ngo_participation(page.object_list)
        for project in page.object_list:
            project.pupils, project.schools = participation[project.pk]
            project.status_problem = services.ngo_status_problem(
                status=project.status, start_date=project.start_date, end_date=project.end_date
            )
    return render(
        request,
        "plans/ngo_project_list.html",
        {
            "page": page,
            "keeps_register": keeps,
            "municipalities": municipalities,
            "chosen": chosen,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ngo_project_edit(request, pk=None):
    choice = None
    if pk is None:
        require_roles(request.user, Role.MUNICIPALITY, Role.AGENCY)
        project = NgoProject()
        # IKVD (or a coordinator of several municipalities) says whose register it goes to.
        choice = ngo_register_choice(request.user)
    else:
        project = get_ngo_project_or_404(request.user, pk)
    form = NgoProjectForm(request.POST or None, instance=project, municipalities=choice)
    if request.method == "POST" and form.is_valid():
        if project.municipality_id:
            municipality_id = project.municipality_id
        elif choice is not None:
            municipality_id = form.cleaned_data["municipality"].pk
        else:
            municipality_id = min(municipality_ids(request.user))
        try:
            services.save_ngo_project(
                project=project,
                by=request.user,
                municipality_id=municipality_id,
                values={name: form.cleaned_data[name] for name in services.NGO_PROJECT_FIELDS},
            )
        except services.NgoProjectError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The project was saved."))
            return redirect("ngo_project_list")
    return render(request, "plans/ngo_project_form.html", {"form": form, "project": project})

"""Plan status transitions and writes that span models.

Each transition checks who may do it and from which status, then claims the change with a
conditional UPDATE (``filter(pk=…, status=current).update(…)``): two clicks at the same moment
give one transition, and the loser gets a clear message. The status change is recorded in the
same transaction.
"""

import contextlib
from collections.abc import Iterable, Mapping

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iap_portal.actions import (
    ActionRefused,
    Step,
    Steps,
    create_numbered,
    lock_as_read,
    record_change,
    record_status_change,
    require,
    transition,
)
from iap_portal.i18n import format_day
from iap_portal.models import ContentChange
from iap_portal.users import display_name
from students.access import can_manage_school
from students.models import ApprovalLevel, School, Semester, SpecialistType, next_level

from . import approvals, ceilings, notices
from .access import (
    can_approve_plan,
    can_decide_for_school,
    can_edit_risk_factor,
    can_log_consultation,
    can_prepare_plan,
    keeps_national_catalogue,
    ngo_register_municipalities,
    touched_plan,
    upper_scope,
    usable_ngo_projects,
    waiting_for,
)
from .early_signals import prefill_plan_risks
from .hooks import paid_on_plan, plan_budget
from .models import (
    WAITS_AT,
    CompensationCeiling,
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


class PlanActionError(ActionRefused):
    """A plan transition or write that is refused."""


class StatusChanged(PlanActionError):
    def __init__(self):
        super().__init__(_("The plan was changed by someone else meanwhile. Look at it again."))


class OverBudget(PlanActionError):
    """Approving the plan would go over its school's allocation, and the approver has not
    confirmed that they approve it over budget (``over_budget_ok``)."""

    def __init__(self, budget):
        self.budget = budget
        super().__init__(
            budget.warning,
            _("To approve it all the same, confirm that you approve it over budget."),
        )


def _require(condition, message):
    require(condition, message, PlanActionError)


def _transition(plan, *, to, by, comment="", audit_note="", **fields):
    return transition(
        plan, to=to, by=by, changed=StatusChanged, comment=comment, audit_note=audit_note, **fields
    )


def prepares(user, plan) -> bool:
    return can_prepare_plan(user, plan.student)


# The plan's status changes: from where, who may, and the refusals (the plan page's buttons
# come from here too: ``STEPS.allowed``). Deleting also needs nothing delivered or paid.
STEPS = Steps(
    PlanActionError,
    submit=Step(
        PlanStatus.EDITABLE,
        prepares,
        gettext_lazy("You may not submit this plan."),
        gettext_lazy("Only a draft or a plan under revision can be submitted."),
    ),
    approve=Step(
        frozenset({PlanStatus.SUBMITTED}),
        can_approve_plan,
        gettext_lazy(
            "Plans are approved at the level they wait at (the school's coordinator, the "
            "municipality, IKVD), and never by a person who prepared, submitted, changed or "
            "already approved them."
        ),
        gettext_lazy("Only a submitted plan can be approved."),
        status_first=True,
    ),
    return_=Step(
        frozenset({PlanStatus.SUBMITTED}),
        can_approve_plan,
        gettext_lazy(
            "Plans are returned at the level they wait at (the school's coordinator, the "
            "municipality, IKVD), and never by a person who prepared, submitted, changed or "
            "already approved them."
        ),
        gettext_lazy("Only a submitted plan can be returned."),
        status_first=True,
    ),
    revise=Step(
        PlanStatus.ACTIVE,
        prepares,
        gettext_lazy("You may not revise this plan."),
        gettext_lazy("Only an approved plan can be reopened for revision."),
    ),
    suspend=Step(
        PlanStatus.ACTIVE,
        prepares,
        gettext_lazy("You may not suspend this plan."),
        gettext_lazy("Only an approved plan can be suspended."),
    ),
    resume=Step(
        frozenset({PlanStatus.SUSPENDED}),
        prepares,
        gettext_lazy("You may not resume this plan."),
        gettext_lazy("Only a suspended plan can be resumed."),
    ),
    evaluate=Step(
        PlanStatus.STARTED,
        prepares,
        gettext_lazy("You may not evaluate this plan."),
        gettext_lazy("Only a plan in progress or suspended can be evaluated."),
    ),
    # Before the school's evaluation window opens (``evaluation_problem``). A decision on the
    # plan, so four eyes as for an approval: not by whoever prepared, submitted or changed it.
    allow_early_evaluation=Step(
        PlanStatus.STARTED,
        can_decide_for_school,
        gettext_lazy(
            "Early evaluation is allowed by the coordinator, and never by a person who "
            "prepared, submitted or changed the plan."
        ),
        gettext_lazy("Only a plan in progress or suspended can be evaluated."),
        status_first=True,
    ),
    delete=Step(
        frozenset(PlanStatus) - PlanStatus.CLOSED,
        prepares,
        gettext_lazy("You may not delete this plan."),
        gettext_lazy("An evaluated or deleted plan cannot be deleted."),
    ),
)


def allowed_actions(user, plan, *, can_prepare, delivered=None):
    """The status buttons this user sees on this plan (names as the templates know them): the
    steps ``STEPS`` allows, less those the service would refuse for another reason (deleting a
    plan something was delivered or paid on, evaluating before the window). ``delivered``:
    ``delivered_anything(plan)`` when the page knows it already."""
    known = {prepares: can_prepare}
    may_allow_early = early_evaluation_problem(plan) is None
    if not may_allow_early:
        # The only step it would answer is not on offer: spare its queries.
        known[can_decide_for_school] = False
    names = STEPS.allowed(user, plan, known=known)
    refused = {
        "delete": lambda: deletion_problem(plan, delivered=delivered) is not None,
        "evaluate": lambda: evaluation_problem(plan, by=user) is not None,
        "allow_early_evaluation": lambda: not may_allow_early,
    }
    return [
        "return" if name == "return_" else name
        for name in names
        if name not in refused or not refused[name]()
    ]


def semester_has_started(semester, today=None):
    return semester.start_date <= (today or timezone.localdate())


def evaluation_is_open(plan, today=None):
    """Whether the school's evaluation window has opened (``SupportPlan.evaluation_opens_on``)."""
    return (today or timezone.localdate()) >= plan.evaluation_opens_on


def evaluation_problem(plan, *, by):
    """Why ``by`` may not evaluate the plan today as far as the date goes, or None: before the
    window opens only once a coordinator has allowed it, and not by that coordinator (four
    eyes) unless the school allows self-approval."""
    if evaluation_is_open(plan):
        return None
    if plan.early_evaluation_allowed_at is None:
        return _(
            "The plan can be evaluated from %(date)s (the semester ends on %(end)s). Before "
            "then, only once the coordinator has allowed early evaluation."
        ) % {
            "date": format_day(plan.evaluation_opens_on),
            "end": format_day(plan.semester.end_date),
        }
    if plan.early_evaluation_allowed_by_id == by.pk and not plan.school.allow_self_approval:
        return _(
            "You allowed the early evaluation of this plan, so someone else evaluates it "
            "(four eyes). From %(date)s you may evaluate it too."
        ) % {"date": format_day(plan.evaluation_opens_on)}
    return None


def early_evaluation_problem(plan):
    """Why early evaluation of the plan cannot be allowed (whoever asks), or None."""
    if evaluation_is_open(plan):
        return _("The plan can be evaluated already: no permission is needed.")
    if plan.early_evaluation_allowed_at is not None:
        return _("Early evaluation of this plan was allowed already.")
    return None


# --- Creating -------------------------------------------------------------------------------


def plan_code(school, semester, sequence):
    year = semester.school_year.start_year
    number = semester.get_number_display()
    return f"IAP-{school.pk}-{year}/{(year + 1) % 100:02d}-{number}-{sequence:03d}"


def _insert_plan(*, student, semester, kind, preparer):
    def create(sequence):
        return SupportPlan.objects.create(
            student=student,
            school=student.school,
            semester=semester,
            kind=kind,
            preparer=preparer,
            sequence=sequence,
            code=plan_code(student.school, semester, sequence),
        )

    def already_has_one():
        if (
            SupportPlan.objects.live()
            .filter(student=student, semester=semester, kind=kind)
            .exists()
        ):
            raise PlanActionError(
                _("This pupil already has a plan of this kind for this semester.")
            ) from None

    plan = create_numbered(
        SupportPlan,
        scope={"school": student.school, "semester": semester},
        create=create,
        on_conflict=already_has_one,
    )
    _require(plan is not None, _("The plan could not be numbered; try again."))
    return plan


def plan_openings(student, *, today=None):
    """The (semester, kind) pairs a new plan of the pupil may take, as ``create_plan`` would
    accept them: a semester not yet ended, and no live plan of that kind in it. In semester
    order, the regular kind first. The pupil page offers "Create a plan" only for these."""
    today = today or timezone.localdate()
    semesters = list(
        Semester.objects.filter(end_date__gte=today)
        .select_related("school_year")
        .order_by("start_date")
    )
    taken = set(
        SupportPlan.objects.live()
        .filter(student=student, semester__in=semesters)
        .values_list("semester_id", "kind")
    )
    return [
        (semester, kind)
        for semester in semesters
        for kind in SupportPlan.Kind.values
        if (semester.pk, kind) not in taken
    ]


@transaction.atomic
def create_plan(*, student, semester, kind, by, prefill_signals=False):
    """A new draft; with ``prefill_signals`` it starts with the risks the pupil's
    early-warning signals point to (``plans.early_signals.prefill_plan_risks``)."""
    _require(can_prepare_plan(by, student), _("You may not prepare plans for this pupil."))
    _require(
        semester.end_date >= timezone.localdate(),
        _("The semester has ended: a plan can no longer be made for it."),
    )
    plan = _insert_plan(student=student, semester=semester, kind=kind, preparer=by)
    record_status_change(plan, from_status=PlanStatus.DRAFT, to_status=PlanStatus.DRAFT, by=by)
    plan.prefilled_risks = 0
    if prefill_signals:
        plan.prefilled_risks = prefill_plan_risks(plan=plan)
    return plan


def previous_plan(student, semester, kind=SupportPlan.Kind.REGULAR):
    """The pupil's latest live plan of an earlier semester, to copy from."""
    return (
        SupportPlan.objects.live()
        .filter(student=student, kind=kind, semester__start_date__lt=semester.start_date)
        .select_related("semester")
        .order_by("-semester__start_date")
        .first()
    )


def _move_into(day, source, target):
    """Shift a date by the distance between the semesters' starts, kept inside the target."""
    moved = day + (target.start_date - source.start_date)
    return min(max(moved, target.start_date), target.end_date)


@transaction.atomic
def copy_plan(*, source, semester, by):
    """A new draft with the risks and measures of an earlier plan, dates moved along. Each
    risk takes the newest version of its factor; a factor since taken out of use is left out
    (a new plan cannot name it)."""
    plan = create_plan(student=source.student, semester=semester, kind=source.kind, by=by)
    plan.goals = source.goals
    plan.save(update_fields=["goals", "updated_at"])
    risks = list(source.risks.select_related("risk_factor"))
    newest = {
        f.code: f
        for f in RiskFactor.objects.choosable(plan.school_id).filter(
            code__in=[r.risk_factor.code for r in risks]
        )
    }
    risk_map = {}
    for risk in risks:
        factor = newest.get(risk.risk_factor.code)
        if factor is None:
            continue
        risk_map[risk.pk] = PlanRisk.objects.create(
            plan=plan,
            risk_factor=factor,
            level=risk.level,
            justification=risk.justification,
        )
    for measure in source.measures.prefetch_related("risks"):
        copy = SupportMeasure.objects.create(
            plan=plan,
            measure_type=measure.measure_type,
            specialist_type=measure.specialist_type,
            compensation_category=measure.compensation_category,
            description=measure.description,
            responsible=measure.responsible,
            planned_hours=measure.planned_hours,
            planned_amount=measure.planned_amount,
            start_date=_move_into(measure.start_date, source.semester, semester),
            end_date=_move_into(measure.end_date, source.semester, semester),
        )
        copy.risks.set([risk_map[r.pk] for r in measure.risks.all() if r.pk in risk_map])
    return plan


# --- Editing --------------------------------------------------------------------------------


@transaction.atomic
def save_plan_content(
    *,
    plan: SupportPlan,
    by: AbstractBaseUser,
    risks: Iterable[PlanRisk],
    removed_risks: Iterable[PlanRisk],
    measures: Iterable[tuple[SupportMeasure, Iterable[RiskFactor]]],
    removed_measures: Iterable[SupportMeasure],
) -> SupportPlan:
    """Save the plan's header (the fields set on ``plan``), its new and changed risks, its new
    and changed measures each with the risk factors it addresses (of the plan's risks once
    saved), and remove the removed risks and measures."""
    _require(can_prepare_plan(by, plan.student), _("You may not edit this plan."))
    locked = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    _require(not locked.is_locked, _("This plan is locked: only its status may change."))
    plan.save()
    for risk in removed_risks:
        risk.delete()
    for risk in risks:
        _require(
            risk.risk_factor.school_id in (None, plan.school_id),
            _("The risk factor is not in the catalogue of the plan's school."),
        )
        risk.plan = plan
        risk.save()
    by_factor = {risk.risk_factor_id: risk for risk in plan.risks.all()}
    saved, responsible_before = {}, {}
    for pk, kind, project_id, responsible_id in SupportMeasure.objects.filter(
        plan=plan
    ).values_list("pk", "measure_type", "ngo_project_id", "responsible_id"):
        saved[pk] = (kind, project_id)
        responsible_before[pk] = responsible_id
    assigned = []
    for measure, factors in measures:
        _require(
            not ceilings.over_hard_maximum(measure.planned_amount),
            ceilings.hard_maximum_message(),
        )
        problem = measure_project_problem(measure, plan=plan, saved=saved.get(measure.pk))
        _require(problem is None, problem)
        if measure.responsible_id and measure.responsible_id != responsible_before.get(measure.pk):
            assigned.append(measure)
        measure.plan = plan
        measure.save()
        measure.risks.set([by_factor[f.pk] for f in factors])
    for measure in removed_measures:
        _require(
            not measure.consultations.exists(),
            _("A measure with consultations cannot be removed."),
        )
        measure.delete()
    record_change(plan, by=by, what=ContentChange.What.PLAN)
    notices.measures_assigned(plan, assigned, by=by)
    return plan


def measure_project_problem(measure, *, plan, saved=None):
    """Why a "youth NGO project" measure may not be saved so (None: it may): it names a
    running project of the school's municipality, not over yet (``usable_ngo_projects``),
    and its period lies within the project's. A saved measure keeps its project once that
    finished, and one saved before the register (no project) stays valid without one.
    ``saved``: the measure's (type, project id) as saved, None for a new one."""
    if measure.measure_type != SupportMeasure.Type.NGO_PROJECT:
        return None
    project = measure.ngo_project if measure.ngo_project_id else None
    if project is None:
        if saved == (SupportMeasure.Type.NGO_PROJECT, None):
            return None
        return _("Choose the running youth NGO project.")
    if project.municipality_id != plan.school.municipality_id:
        return _("The youth NGO project is not one of the school's municipality.")
    kept = saved is not None and saved[1] == project.pk
    if not kept and not usable_ngo_projects(plan.school_id).filter(pk=project.pk).exists():
        return _("The youth NGO project is not running: choose a running one.")
    if measure.start_date < project.start_date or measure.end_date > project.end_date:
        return _("The period must lie within the project's (%(start)s–%(end)s).") % {
            "start": format_day(project.start_date),
            "end": format_day(project.end_date),
        }
    return None


# --- Transitions ----------------------------------------------------------------------------


def submission_problems(plan, *, over_ceilings=None):
    problems = []
    risks = list(plan.risks.all())
    measures = list(plan.measures.prefetch_related("risks"))
    if not risks:
        problems.append(_("Add at least one risk with its justification."))
    if not measures:
        problems.append(_("Add at least one support measure."))
    for measure in measures:
        if not measure.risks.all():
            problems.append(
                _("The measure “%(measure)s” addresses no risk.") % {"measure": measure.label}
            )
    if not plan.parent_application_date:
        problems.append(_("Record the date the parent's application was received."))
    problems.extend(ceilings.ceiling_problems(plan, measures=measures, over=over_ceilings))
    return problems


@transaction.atomic
def submit_plan(*, plan, by):
    STEPS.check("submit", plan, by)
    # What is checked is what is submitted: an edit at the same moment waits, or is waited for.
    locked = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    _require(locked.status in PlanStatus.EDITABLE, str(STEPS.steps["submit"].wrong_status))
    problems = submission_problems(locked)
    if problems:
        raise PlanActionError(*problems)
    now = timezone.now()
    # Every submission (a revision's too) goes through the whole route again.
    plan = _transition(
        plan, to=PlanStatus.SUBMITTED, by=by, submitted_at=now, level_since=now, **_NEW_ROUND
    )
    notices.plan_waits(plan, by=by)
    return plan


REVISION_WHOLE_ROUTE = gettext_lazy(
    "The revision raises an amount or hours, or adds a measure or a risk: it goes through the "
    "whole route."
)

# A plan's approvals of this round cleared: it (again) starts at the school's level.
_NEW_ROUND = {
    "approval_level": ApprovalLevel.SCHOOL,
    "school_approved_by": None,
    "school_approved_at": None,
    "municipality_approved_by": None,
    "municipality_approved_at": None,
}


def _level_fields(level, by, at):
    """The fields that keep a level's approval (the last level's is ``approved_by``)."""
    if level == ApprovalLevel.AGENCY:
        return {}
    return {f"{level}_approved_by": by, f"{level}_approved_at": at}


def _pass_on(plan, *, by, to_level, own, whole_route=False, budget_comment="", budget_note=""):
    """The plan's level approved it and it goes on to the next level: a conditional UPDATE on
    the plan as read (status, level and last change), one history row, one audit event.
    ``whole_route``: a revision the school's approval alone could have approved, had it only
    lowered amounts (the history says why it goes on)."""
    now = timezone.now()
    level = plan.approval_level
    updated = SupportPlan.objects.filter(
        pk=plan.pk, status=PlanStatus.SUBMITTED, approval_level=level, updated_at=plan.updated_at
    ).update(
        approval_level=to_level, level_since=now, updated_at=now, **_level_fields(level, by, now)
    )
    if updated != 1:
        raise StatusChanged
    comments = [
        _("Approved %(level)s; it now waits %(next)s.")
        % {"level": WAITS_AT[level], "next": WAITS_AT[to_level]}
    ]
    notes = [f"approved at {level}, to {to_level}"]
    if whole_route:
        comments.append(str(REVISION_WHOLE_ROUTE))
        notes.append("revision raises or adds: whole route")
    if own:
        comments.append(_("Self-approval: the school allows it."))
        notes.append("self-approval")
    if budget_comment:
        comments.append(budget_comment)
    if budget_note:
        notes.append(budget_note)
    record_status_change(
        plan,
        from_status=PlanStatus.SUBMITTED,
        to_status=PlanStatus.SUBMITTED,
        by=by,
        at=now,
        comment=" ".join(comments),
        audit_note="; ".join(notes),
    )
    plan.refresh_from_db()
    notices.plan_waits(plan, by=by)
    return plan


@transaction.atomic
def approve_plan(*, plan, by, over_budget_ok=False):
    """Approve the plan at the level it waits at. Planned compensations over the school's
    allocation (``plans.hooks.plan_budget``) are refused (``OverBudget``, with the figures)
    unless the approver confirms ``over_budget_ok``; the approval then says so in the plan's
    history and the audit log, and the budget keeps its figures."""
    # On the plan as the approver read it: one returned, changed and submitted again meanwhile
    # is looked at again; an edit waits for the approval (and then finds the plan locked).
    lock_as_read(plan, changed=StatusChanged)
    STEPS.check("approve", plan, by)
    # A plan submitted before its amounts were checked (or a school's ceiling lowered since)
    # goes back to its preparer rather than being approved above what is allowed.
    problems = ceilings.ceiling_problems(plan)
    if problems:
        raise PlanActionError(*problems, _("Return the plan to its preparer to correct it."))
    # The allocation stays locked until this approval commits: approvals at once are counted
    # one after the other.
    budget = plan_budget(plan, lock=True)
    over_budget = budget is not None and budget.over_by > 0
    if over_budget and not over_budget_ok:
        raise OverBudget(budget)
    budget_comment = budget.warning if over_budget else ""
    budget_note = budget.audit_note if over_budget else ""
    # A school that allows self-approval lets a coordinator approve what they touched; the
    # approval says so in the plan's history and the audit log.
    own = touched_plan(by, plan)
    level = plan.approval_level
    if over_budget:
        budget.record(plan=plan, by=by, level=level)
    following = next_level(plan.school.route, level)
    # A revision that only lowers what was approved may need the school alone (the
    # municipality's setting); the plan's history says which way it went.
    lowered = None
    if (
        following is not None
        and level == ApprovalLevel.SCHOOL
        and plan.first_approved_at is not None
        and plan.school.municipality.revision_lowering_school_only
    ):
        lowered = approvals.lowers_only(plan)
    if following is not None and not lowered:
        return _pass_on(
            plan,
            by=by,
            to_level=following,
            own=own,
            whole_route=lowered is False,
            budget_comment=budget_comment,
            budget_note=budget_note,
        )
    now = timezone.now()
    to = PlanStatus.IN_PROGRESS if semester_has_started(plan.semester) else PlanStatus.APPROVED
    notes = [] if level == ApprovalLevel.SCHOOL else [f"approved at {level}"]
    comments = (
        []
        if level == ApprovalLevel.SCHOOL
        else [_("Approved %(level)s.") % {"level": WAITS_AT[level]}]
    )
    if lowered:
        notes.append("revision lowers only: school level alone")
        comments.append(
            _(
                "The revision only lowers what was approved: the school's approval alone "
                "suffices (the municipality's setting)."
            )
        )
    if own:
        notes.append("self-approval")
        comments.append(_("Self-approval: the school allows it."))
    if over_budget:
        notes.append(budget_note)
        comments.append(budget_comment)
    # Approved at the route's last level: only now is it "approved" (and, the first time,
    # counted in the participation report).
    _transition(
        plan,
        to=to,
        by=by,
        comment=" ".join(str(c) for c in comments),
        audit_note="; ".join(notes),
        approved_by=by,
        first_approved_at=plan.first_approved_at or now,
        approval_level=ApprovalLevel.SCHOOL,
        level_since=None,
        **_level_fields(level, by, now),
    )
    # What is approved now is what claims are checked against until the next approval (a
    # revision's new figures count only once approved); each measure's history keeps it.
    for measure in plan.measures.all():
        measure.approved_hours = measure.planned_hours
        measure.approved_amount = measure.planned_amount
        measure._history_user = by
        measure.save(update_fields=["approved_hours", "approved_amount"])
    notices.plan_approved(plan, by=by)
    return plan


@transaction.atomic
def return_plan(*, plan, by, comment):
    lock_as_read(plan, changed=StatusChanged)
    STEPS.check("return_", plan, by)
    comment = (comment or "").strip()
    _require(comment, _("Say what needs to change: the comment is required."))
    to = PlanStatus.REVISION if plan.first_approved_at else PlanStatus.DRAFT
    level = plan.approval_level
    # Returned at any level, the plan goes back to its preparer and the approvals of this
    # round are cleared (its history keeps them).
    plan = _transition(
        plan,
        to=to,
        by=by,
        comment=comment,
        audit_note="" if level == ApprovalLevel.SCHOOL else f"returned at {level}",
        status_comment=comment,
        level_since=None,
        **_NEW_ROUND,
    )
    notices.plan_returned(plan, by=by, comment=comment)
    return plan


def approve_plans(*, seen: Mapping[int, str], by: AbstractBaseUser, over_budget_ok=False):
    """Approve, each on its own, the plans chosen in a queue (``seen``: plan id → the plan's
    ``updated_at`` as the queue showed it). A plan changed, decided or returned since the
    queue was read is not approved but reported back, and so is one over budget unless the
    approver confirmed ``over_budget_ok``. Returns (approved plans, [(plan code, messages)])."""
    plans = {
        p.pk: p
        for p in waiting_for(by)
        .filter(pk__in=list(seen))
        .select_related("school__municipality", "semester")
    }
    # A plan no longer waiting is named by its code when it is of the approver's scope.
    codes = dict(upper_scope(by).filter(pk__in=list(seen)).values_list("pk", "code"))
    approved, refused = [], []
    for pk, version in seen.items():
        plan = plans.get(pk)
        if plan is None or plan.updated_at.isoformat() != version:
            refused.append((codes.get(pk, str(pk)), StatusChanged().messages))
            continue
        try:
            approved.append(approve_plan(plan=plan, by=by, over_budget_ok=over_budget_ok))
        except PlanActionError as error:
            refused.append((plan.code, error.messages))
    return approved, refused


@transaction.atomic
def revise_plan(*, plan, by):
    STEPS.check("revise", plan, by)
    return _transition(plan, to=PlanStatus.REVISION, by=by)


@transaction.atomic
def suspend_plan(*, plan, by, reason):
    STEPS.check("suspend", plan, by)
    reason = (reason or "").strip()
    _require(reason, _("Give the reason: it is required."))
    return _transition(
        plan,
        to=PlanStatus.SUSPENDED,
        by=by,
        comment=reason,
        status_comment=reason,
        status_before_suspension=plan.status,
    )


@transaction.atomic
def resume_plan(*, plan, by):
    STEPS.check("resume", plan, by)
    _require(
        timezone.localdate() <= plan.semester.end_date,
        _("A plan can be resumed only within its own semester."),
    )
    to = plan.status_before_suspension or PlanStatus.APPROVED
    if to == PlanStatus.APPROVED and semester_has_started(plan.semester):
        to = PlanStatus.IN_PROGRESS
    return _transition(plan, to=to, by=by, status_before_suspension="")


def delivered_anything(plan):
    """Whether anything was delivered or paid on the plan (then it cannot be deleted)."""
    return Consultation.objects.filter(measure__plan=plan).exists() or paid_on_plan(plan)


def deletion_problem(plan, *, delivered=None):
    """Why the plan cannot be deleted beyond its status (``STEPS``), or None: the rule of both
    ``delete_plan`` and the plan page's "Delete" button (which passes ``delivered``, the answer
    of ``delivered_anything`` from what the page loaded)."""
    if delivered_anything(plan) if delivered is None else delivered:
        return _(
            "Consultations were delivered or compensation was approved on this plan: it cannot be "
            "deleted. Suspend it instead."
        )
    return None


@transaction.atomic
def delete_plan(*, plan, by):
    """Make the plan inactive ("Dzēst"); only while nothing was delivered or paid."""
    STEPS.check("delete", plan, by)
    problem = deletion_problem(plan)
    _require(problem is None, problem)
    return _transition(plan, to=PlanStatus.INACTIVE, by=by)


@transaction.atomic
def evaluate_plan(
    *,
    plan: SupportPlan,
    by: AbstractBaseUser,
    evaluation: PlanEvaluation,
    risk_outcomes: Mapping[int, str],
    measure_notes: Mapping[int, str],
) -> SupportPlan:
    """Record the evaluation (new, not yet saved), each risk's outcome and each measure's note
    (by pk), and lock the plan. Before the school's evaluation window opens, only once a
    coordinator allowed it (``allow_early_evaluation``); the evaluation names them."""
    STEPS.check("evaluate", plan, by)
    problem = evaluation_problem(plan, by=by)
    _require(problem is None, problem)
    early = not evaluation_is_open(plan)
    comment = audit_note = ""
    if early:
        allowed_by = plan.early_evaluation_allowed_by
        comment = _("Early evaluation, allowed by %(name)s on %(date)s.") % {
            "name": display_name(allowed_by),
            "date": format_day(timezone.localtime(plan.early_evaluation_allowed_at)),
        }
        audit_note = f"early, allowed by {allowed_by.get_username()}"
        if allowed_by.pk == by.pk:
            comment += " " + _("Self-approval: the school allows it.")
            audit_note += "; self-approval"
    now = timezone.now()
    _transition(
        plan,
        to=PlanStatus.EVALUATED,
        by=by,
        comment=comment,
        audit_note=audit_note,
        evaluated_at=now,
    )
    evaluation.plan = plan
    evaluation.evaluated_by = by
    evaluation.evaluated_at = now
    if early:
        evaluation.early_allowed_by_id = plan.early_evaluation_allowed_by_id
        evaluation.early_allowed_at = plan.early_evaluation_allowed_at
    evaluation.save()
    for risk in plan.risks.all():
        risk.outcome = risk_outcomes[risk.pk]
        risk.save(update_fields=["outcome"])
    for measure in plan.measures.all():
        measure.evaluation_note = measure_notes.get(measure.pk, "")
        measure.save(update_fields=["evaluation_note"])
    return plan


def refusal_to_allow_early_evaluation(plan, *, by):
    """Why ``by`` may not allow the plan's early evaluation, or None (the page asks first)."""
    try:
        STEPS.check("allow_early_evaluation", plan, by)
    except PlanActionError as error:
        return error.messages[0]
    return early_evaluation_problem(plan)


@transaction.atomic
def allow_early_evaluation(*, plan: SupportPlan, by: AbstractBaseUser, reason: str) -> SupportPlan:
    """A coordinator allows the plan to be evaluated before the school's evaluation window
    opens; who, when and why go on the plan, into its status history and the audit log."""
    problem = refusal_to_allow_early_evaluation(plan, by=by)
    _require(problem is None, problem)
    reason = (reason or "").strip()
    _require(reason, _("Give the reason: it is required."))
    now = timezone.now()
    updated = SupportPlan.objects.filter(
        pk=plan.pk, status=plan.status, early_evaluation_allowed_at__isnull=True
    ).update(
        early_evaluation_allowed_by=by,
        early_evaluation_allowed_at=now,
        early_evaluation_reason=reason,
        updated_at=now,
    )
    if updated != 1:
        raise StatusChanged
    # A school that allows self-approval lets a coordinator allow what they touched (and then
    # evaluate it themselves); the history says so.
    own = touched_plan(by, plan)
    record_status_change(
        plan,
        from_status=plan.status,
        to_status=plan.status,
        by=by,
        at=now,
        comment=_("Early evaluation allowed: %(reason)s") % {"reason": reason}
        + (" " + _("Self-approval: the school allows it.") if own else ""),
        audit_note="early evaluation allowed" + ("; self-approval" if own else ""),
    )
    plan.refresh_from_db()
    return plan


def start_plan_if_due(*, plan, by):
    """The first consultation or claim on an approved plan of a begun semester starts it."""
    if plan.status == PlanStatus.APPROVED and semester_has_started(plan.semester):
        with contextlib.suppress(StatusChanged):
            _transition(plan, to=PlanStatus.IN_PROGRESS, by=by)


@transaction.atomic
def start_plans(*, today=None):
    """Move approved plans whose semester has begun to "in progress" (cron)."""
    today = today or timezone.localdate()
    started = 0
    due = SupportPlan.objects.filter(
        status=PlanStatus.APPROVED, semester__start_date__lte=today
    ).select_related("semester")
    for plan in due:
        try:
            _transition(plan, to=PlanStatus.IN_PROGRESS, by=None)
            started += 1
        except StatusChanged:
            continue
    return started


# --- Consultations --------------------------------------------------------------------------


def consultation_problems(*, measure, date, today=None):
    today = today or timezone.localdate()
    problems = {}
    semester = measure.plan.semester
    if date > today:
        problems["date"] = _(
            "A consultation cannot be logged in advance: the date is in the future."
        )
    elif not semester.start_date <= date <= semester.end_date:
        problems["date"] = _("The date is outside the plan's semester (%(start)s–%(end)s).") % {
            "start": format_day(semester.start_date),
            "end": format_day(semester.end_date),
        }
    elif not measure.start_date <= date <= measure.end_date:
        problems["date"] = _("The date is outside the measure's period (%(start)s–%(end)s).") % {
            "start": format_day(measure.start_date),
            "end": format_day(measure.end_date),
        }
    return problems


def consultation_refusal(plan: SupportPlan) -> str | None:
    """Why no consultation can be logged on the plan in its status (None: it can)."""
    if plan.status in PlanStatus.RUNNING:
        return None
    if plan.status == PlanStatus.EVALUATED:
        return _(
            "The plan has been evaluated and is closed: no more consultations can be logged on it."
        )
    if plan.status == PlanStatus.INACTIVE:
        return _("The plan was deleted: no consultations can be logged on it.")
    if plan.status == PlanStatus.SUSPENDED:
        return _("The plan is suspended: consultations can be logged again once it is resumed.")
    return _("The plan is not approved yet: consultations are logged once it is approved.")


@transaction.atomic
def log_consultation(
    *, measure: SupportMeasure, by: AbstractBaseUser, consultation: Consultation
) -> Consultation:
    """Log the consultation (new, not yet saved) on the measure, given by ``by``."""
    _require(can_log_consultation(by, measure), _("This measure is not assigned to you."))
    plan = SupportPlan.objects.select_for_update().get(pk=measure.plan_id)
    refusal = consultation_refusal(plan)
    _require(refusal is None, refusal)
    consultation.measure = measure
    consultation.provider = by
    consultation.save()
    start_plan_if_due(plan=plan, by=by)
    return consultation


# --- Compensation ceilings --------------------------------------------------------------------


@transaction.atomic
def save_ceilings(*, school, amounts: Mapping[str, object], by: AbstractBaseUser) -> None:
    """Set the school's ceiling per category (``None``: back to the national default); each
    change is kept in the ceiling's history."""
    _require(can_manage_school(by, school.pk), _("You may not change this school's ceilings."))
    own = {
        c.category: c for c in CompensationCeiling.objects.select_for_update().filter(school=school)
    }
    for category, amount in amounts.items():
        ceiling = own.get(category)
        if amount is None:
            if ceiling is not None:
                ceiling._history_user = by
                ceiling.delete()
        elif ceiling is None or ceiling.amount != amount:
            ceiling = ceiling or CompensationCeiling(school=school, category=category)
            ceiling.amount = amount
            ceiling._history_user = by
            ceiling.save()


# --- Catalogues -----------------------------------------------------------------------------


class CatalogueError(ActionRefused):
    """A change to the risk catalogue or the specialist types that is refused."""


def new_factor_code(name: str) -> str:
    """A code for a new factor, made from its name and held by no factor so far."""
    base = slugify(name)[:90] or "factor"
    taken = set(RiskFactor.objects.filter(code__startswith=base).values_list("code", flat=True))
    code, number = base, 2
    while code in taken:
        code = f"{base}-{number}"
        number += 1
    return code


@transaction.atomic
def save_risk_factor(
    *,
    factor: RiskFactor | None,
    by: AbstractBaseUser,
    risk_type: RiskType,
    name: str,
    is_active: bool,
    school: School | None = None,
    name_en: str = "",
) -> RiskFactor:
    """Add a factor (``factor`` None; ``school`` None for the national catalogue) or change
    one. A factor that plans name is not renamed in place: a new name or type makes a new
    version with the same code, the old version leaves use and points to it
    (``replaced_by``), and the plans made with it keep showing it. Returns the newest version.
    Taking a factor out of use changes no plan. The English name is a translation of the
    Latvian one: changing only it changes the factor in place."""
    if factor is None:
        require(
            can_edit_risk_factor(by, RiskFactor(school=school)),
            _("You may not add factors to this catalogue."),
            CatalogueError,
        )
        return RiskFactor.objects.create(
            risk_type=risk_type,
            name=name,
            name_en=name_en,
            is_active=is_active,
            school=school,
            code=new_factor_code(name),
        )
    require(
        can_edit_risk_factor(by, factor), _("You may not change this risk factor."), CatalogueError
    )
    locked = RiskFactor.objects.select_for_update().get(pk=factor.pk)
    require(
        locked.replaced_by_id is None,
        _("The risk factor was changed by someone else meanwhile. Look at it again."),
        CatalogueError,
    )
    renamed = (locked.name, locked.risk_type_id) != (name, risk_type.pk)
    if renamed and locked.is_named_in_plans():
        # Out of use first: the code may have only one factor in use.
        RiskFactor.objects.filter(pk=locked.pk).update(is_active=False)
        successor = RiskFactor.objects.create(
            code=locked.code,
            school_id=locked.school_id,
            risk_type=risk_type,
            name=name,
            name_en=name_en,
            is_active=is_active,
        )
        RiskFactor.objects.filter(pk=locked.pk).update(replaced_by=successor)
        return successor
    locked.risk_type, locked.name, locked.is_active = risk_type, name, is_active
    locked.name_en = name_en
    locked.save(update_fields=["risk_type", "name", "name_en", "is_active"])
    return locked


def specialist_type_in_plans(specialist_type: SpecialistType) -> bool:
    return SupportMeasure.objects.filter(specialist_type=specialist_type).exists()


@transaction.atomic
def save_specialist_type(
    *,
    specialist_type: SpecialistType,
    by: AbstractBaseUser,
    name: str,
    is_active: bool,
    name_en: str = "",
) -> SpecialistType:
    """Add (an unsaved ``specialist_type``) or change a specialist type. One that plans name
    is never renamed, since their measures show its name: it is taken out of use and a new
    type added instead. (Versions as for risk factors would also have to move the specialists'
    memberships and would split the reports' hours by name; renaming is rare.) The English
    name, a translation, may change at any time."""
    require(keeps_national_catalogue(by), _("Specialist types are kept by IKVD."), CatalogueError)
    if specialist_type.pk is None:
        return SpecialistType.objects.create(name=name, name_en=name_en, is_active=is_active)
    locked = SpecialistType.objects.select_for_update().get(pk=specialist_type.pk)
    require(
        locked.name == name or not specialist_type_in_plans(locked),
        _(
            "Plans name this specialist type, so it cannot be renamed: take it out of use "
            "and add a new type instead."
        ),
        CatalogueError,
    )
    locked.name, locked.name_en, locked.is_active = name, name_en, is_active
    locked.save(update_fields=["name", "name_en", "is_active"])
    return locked


# --- Youth NGO projects ---------------------------------------------------------------------


class NgoProjectError(ActionRefused):
    """A change to the NGO project register that is refused."""


NGO_PROJECT_FIELDS = (
    "title",
    "ngo_name",
    "ngo_registration_number",
    "contest_round",
    "start_date",
    "end_date",
    "budget",
    "status",
    "report",
)


def ngo_status_problem(*, status, start_date, end_date, today=None):
    """Why the status does not fit the project's dates (None: it fits): planned before its
    first day, running from its first to its last day, finished from its last day on."""
    today = today or timezone.localdate()
    Status = NgoProject.Status
    dates = {"start": format_day(start_date), "end": format_day(end_date)}
    if status == Status.PLANNED and today >= start_date:
        return (
            _(
                "The project started on %(start)s: it is no longer planned. Mark it running (or "
                "finished, once it ended)."
            )
            % dates
        )
    if status == Status.RUNNING and not start_date <= today <= end_date:
        if today < start_date:
            return _("The project starts on %(start)s: until then it is planned.") % dates
        return (
            _(
                "The project ended on %(end)s: mark it finished with its report, or correct its "
                "end date."
            )
            % dates
        )
    if status == Status.FINISHED and today < end_date:
        return (
            _(
                "The project runs until %(end)s: it finishes on its last day. If it ended earlier, "
                "correct its end date."
            )
            % dates
        )
    return None


@transaction.atomic
def save_ngo_project(
    *, project: NgoProject, by: AbstractBaseUser, municipality_id: int, values: Mapping
) -> NgoProject:
    """Add (an unsaved ``project``) or change a project of the municipality's register; a
    finished project needs its report (the form says so, the database holds it), and the
    status must fit the project's dates (``ngo_status_problem``)."""
    require(
        ngo_register_municipalities(by).filter(pk=municipality_id).exists(),
        _("Only the municipality's coordinator or IKVD keeps its register."),
        NgoProjectError,
    )
    require(
        values.get("status") != NgoProject.Status.FINISHED or values.get("report", "").strip(),
        _("A finished project needs its report."),
        NgoProjectError,
    )
    problem = ngo_status_problem(
        status=values.get("status", project.status),
        start_date=values.get("start_date", project.start_date),
        end_date=values.get("end_date", project.end_date),
    )
    require(problem is None, problem, NgoProjectError)
    if project.pk is None:
        return NgoProject.objects.create(municipality_id=municipality_id, **values)
    locked = NgoProject.objects.select_for_update().get(pk=project.pk)
    require(locked.municipality_id == municipality_id, _("Not this register's project."))
    for name, value in values.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*values, "updated_at"])
    return locked

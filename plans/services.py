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
from iap_portal.models import ContentChange

from .access import can_approve_plan, can_log_consultation, can_prepare_plan, touched_plan
from .early_signals import prefill_plan_risks
from .hooks import paid_on_plan
from .models import (
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    RiskFactor,
    SupportMeasure,
    SupportPlan,
)


class PlanActionError(ActionRefused):
    """A plan transition or write that is refused."""


class StatusChanged(PlanActionError):
    def __init__(self):
        super().__init__(_("The plan was changed by someone else meanwhile. Look at it again."))


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
            "Plans are approved by the coordinator, and never by a person who prepared, "
            "submitted or changed them."
        ),
        gettext_lazy("Only a submitted plan can be approved."),
        status_first=True,
    ),
    return_=Step(
        frozenset({PlanStatus.SUBMITTED}),
        can_approve_plan,
        gettext_lazy(
            "Plans are returned by the coordinator, and never by a person who prepared, "
            "submitted or changed them."
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
    delete=Step(
        frozenset(PlanStatus) - PlanStatus.CLOSED,
        prepares,
        gettext_lazy("You may not delete this plan."),
        gettext_lazy("An evaluated or deleted plan cannot be deleted."),
    ),
)


def allowed_actions(user, plan, *, can_prepare, delivered=False):
    """The status buttons this user sees on this plan (names as the templates know them)."""
    names = STEPS.allowed(user, plan, known={prepares: can_prepare})
    return [
        "return" if name == "return_" else name
        for name in names
        if not (name == "delete" and delivered)
    ]


def semester_has_started(semester, today=None):
    return semester.start_date <= (today or timezone.localdate())


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
    """A new draft with the risks and measures of an earlier plan, dates moved along."""
    plan = create_plan(student=source.student, semester=semester, kind=source.kind, by=by)
    plan.goals = source.goals
    plan.save(update_fields=["goals", "updated_at"])
    risk_map = {}
    for risk in source.risks.all():
        risk_map[risk.pk] = PlanRisk.objects.create(
            plan=plan,
            risk_factor=risk.risk_factor,
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
        risk.plan = plan
        risk.save()
    by_factor = {risk.risk_factor_id: risk for risk in plan.risks.all()}
    for measure, factors in measures:
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
    return plan


# --- Transitions ----------------------------------------------------------------------------


def submission_problems(plan):
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
    return _transition(plan, to=PlanStatus.SUBMITTED, by=by, submitted_at=timezone.now())


@transaction.atomic
def approve_plan(*, plan, by):
    # On the plan as the approver read it: one returned, changed and submitted again meanwhile
    # is looked at again; an edit waits for the approval (and then finds the plan locked).
    lock_as_read(plan, changed=StatusChanged)
    STEPS.check("approve", plan, by)
    now = timezone.now()
    to = PlanStatus.IN_PROGRESS if semester_has_started(plan.semester) else PlanStatus.APPROVED
    # A school that allows self-approval lets a coordinator approve what they touched; the
    # approval says so in the plan's history and the audit log.
    own = touched_plan(by, plan)
    _transition(
        plan,
        to=to,
        by=by,
        comment=_("Self-approval: the school allows it.") if own else "",
        audit_note="self-approval" if own else "",
        approved_by=by,
        first_approved_at=plan.first_approved_at or now,
    )
    # What is approved now is what claims are checked against until the next approval (a
    # revision's new figures count only once approved); each measure's history keeps it.
    for measure in plan.measures.all():
        measure.approved_hours = measure.planned_hours
        measure.approved_amount = measure.planned_amount
        measure._history_user = by
        measure.save(update_fields=["approved_hours", "approved_amount"])
    return plan


@transaction.atomic
def return_plan(*, plan, by, comment):
    lock_as_read(plan, changed=StatusChanged)
    STEPS.check("return_", plan, by)
    comment = (comment or "").strip()
    _require(comment, _("Say what needs to change: the comment is required."))
    to = PlanStatus.REVISION if plan.first_approved_at else PlanStatus.DRAFT
    return _transition(plan, to=to, by=by, comment=comment, status_comment=comment)


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


@transaction.atomic
def delete_plan(*, plan, by):
    """Make the plan inactive ("Dzēst"); only while nothing was delivered or paid."""
    STEPS.check("delete", plan, by)
    _require(
        not delivered_anything(plan),
        _(
            "Consultations were delivered or compensation was approved on this plan: it cannot be "
            "deleted. Suspend it instead."
        ),
    )
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
    (by pk), and lock the plan."""
    STEPS.check("evaluate", plan, by)
    now = timezone.now()
    _transition(plan, to=PlanStatus.EVALUATED, by=by, evaluated_at=now)
    evaluation.plan = plan
    evaluation.evaluated_by = by
    evaluation.evaluated_at = now
    evaluation.save()
    for risk in plan.risks.all():
        risk.outcome = risk_outcomes[risk.pk]
        risk.save(update_fields=["outcome"])
    for measure in plan.measures.all():
        measure.evaluation_note = measure_notes.get(measure.pk, "")
        measure.save(update_fields=["evaluation_note"])
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
            "start": f"{semester.start_date:%d.%m.%Y}",
            "end": f"{semester.end_date:%d.%m.%Y}",
        }
    elif not measure.start_date <= date <= measure.end_date:
        problems["date"] = _("The date is outside the measure's period (%(start)s–%(end)s).") % {
            "start": f"{measure.start_date:%d.%m.%Y}",
            "end": f"{measure.end_date:%d.%m.%Y}",
        }
    return problems


@transaction.atomic
def log_consultation(
    *, measure: SupportMeasure, by: AbstractBaseUser, consultation: Consultation
) -> Consultation:
    """Log the consultation (new, not yet saved) on the measure, given by ``by``."""
    _require(can_log_consultation(by, measure), _("This measure is not assigned to you."))
    plan = SupportPlan.objects.select_for_update().get(pk=measure.plan_id)
    _require(
        plan.status in PlanStatus.RUNNING,
        _("Consultations are logged only on an approved plan."),
    )
    consultation.measure = measure
    consultation.provider = by
    consultation.save()
    start_plan_if_due(plan=plan, by=by)
    return consultation

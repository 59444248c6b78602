"""Setting the schools' allocations, and the budget checks that plans and claims ask for
through their hooks (``plans.hooks.plan_budget``, ``plans.hooks.annotate_budget``,
``compensations.hooks.claim_budget_problem``; registered in ``BudgetsConfig.ready``).

A plan's approval compares what it plans with what is not yet planned: the allocation less
the compensations approved in the school's other approved plans of the school year (a
revision's earlier figures are replaced by the ones being approved). Claims are checked
against what is left of the allocation once the claims approved so far are taken off. The
first only warns (the approver may approve over budget, and the approval says so); the
second refuses.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from compensations.models import ClaimStatus, CompensationClaim
from iap_portal.actions import ActionRefused, require
from iap_portal.templatetags.portal import eur
from plans.models import PlanStatus, SupportMeasure
from students.models import School, SchoolYear

from .access import can_set_allocation
from .figures import ZERO, compensation_measures, counted_plans, granted_claims
from .models import Allocation, OverBudgetApproval

CENT = Decimal("0.01")


class AllocationError(ActionRefused):
    """Setting an allocation that is refused."""


# --- Setting allocations --------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationValues:
    """What a school's row of the allocation page asks for (``compensations`` None: no
    allocation; ``consultation_hours`` None: no hours allocated)."""

    compensations: Decimal | None
    consultation_hours: Decimal | None = None


@transaction.atomic
def set_allocations(
    *,
    school_year: SchoolYear,
    values: Mapping[School, AllocationValues],
    by: AbstractBaseUser,
) -> int:
    """Set each school's allocation for the year (an empty amount removes it); rows that
    change nothing are left alone. Every change is kept in the allocation's history with who
    made it. Returns how many allocations changed."""
    for school in values:
        require(
            can_set_allocation(by, school),
            _("You may not set the allocation of %(school)s.") % {"school": school.name},
            AllocationError,
        )
    current = {
        a.school_id: a
        for a in Allocation.objects.select_for_update().filter(
            school_year=school_year, school__in=list(values)
        )
    }
    changed = 0
    for school, wanted in values.items():
        allocation = current.get(school.pk)
        if wanted.compensations is None:
            if allocation is not None:
                allocation._history_user = by
                allocation.delete()
                changed += 1
            continue
        if allocation is not None and (
            allocation.compensations,
            allocation.consultation_hours,
        ) == (wanted.compensations, wanted.consultation_hours):
            continue
        allocation = allocation or Allocation(school=school, school_year=school_year)
        allocation.compensations = wanted.compensations
        allocation.consultation_hours = wanted.consultation_hours
        allocation.set_by = by
        allocation._history_user = by
        allocation.save()
        changed += 1
    return changed


# --- A plan's approval ----------------------------------------------------------------------


@dataclass
class PlanBudget:
    """What approving a plan does to its school's allocation for the plan's school year."""

    school_year: SchoolYear
    allocated: Decimal | None
    planned_elsewhere: Decimal = ZERO  # in the school's other approved plans of the year
    this_plan: Decimal = ZERO  # the plan's planned compensations
    approved_in_claims: Decimal = ZERO

    @property
    def has_allocation(self):
        return self.allocated is not None

    @property
    def planned_with_this(self):
        return self.planned_elsewhere + self.this_plan

    @property
    def unplanned(self):
        """What is not yet planned in the other approved plans."""
        return None if self.allocated is None else self.allocated - self.planned_elsewhere

    @property
    def remaining(self):
        """Allocated − approved in claims."""
        return None if self.allocated is None else self.allocated - self.approved_in_claims

    @property
    def over_by(self):
        if self.allocated is None:
            return ZERO
        return max(self.planned_with_this - self.allocated, ZERO)

    @property
    def is_over(self):
        return self.over_by > 0

    @property
    def warning(self):
        if not self.is_over:
            return ""
        return _(
            "Over budget: this plan plans %(plan)s of compensations; with %(elsewhere)s planned "
            "in the school's other approved plans of %(year)s that makes %(total)s, over the "
            "school's allocation of %(allocated)s by %(over)s."
        ) % {
            "plan": eur(self.this_plan),
            "elsewhere": eur(self.planned_elsewhere),
            "year": self.school_year.name,
            "total": eur(self.planned_with_this),
            "allocated": eur(self.allocated),
            "over": eur(self.over_by),
        }

    @property
    def audit_note(self):
        if not self.is_over:
            return ""
        return (
            f"over budget by {self.over_by} EUR (allocated {self.allocated}, planned elsewhere "
            f"{self.planned_elsewhere}, this plan {self.this_plan})"
        )

    def record(self, *, plan, by, level):
        """Keep the approval over budget with its figures (in the approval's transaction)."""
        return OverBudgetApproval.objects.create(
            plan=plan,
            school_id=plan.school_id,
            school_year=self.school_year,
            level=level,
            by=by,
            allocated=self.allocated,
            planned_elsewhere=self.planned_elsewhere,
            this_plan=self.this_plan,
            over_by=self.over_by,
        )


def over_budget_approvals(school, school_year, limit=20):
    """The school's latest approvals over budget in the year, with the plan's code."""
    return (
        OverBudgetApproval.objects.filter(school=school, school_year=school_year)
        .select_related("plan", "by")
        .order_by("-at", "-pk")[:limit]
    )


def _amount(queryset, field_name):
    """A sum in euros and cents (SQLite sums decimals with more places)."""
    return (queryset.aggregate(total=Sum(field_name))["total"] or ZERO).quantize(CENT)


def plan_budget(plan, lock=False) -> PlanBudget:
    """The plan's budget context (``plans.hooks.plan_budget``). With ``lock`` (inside the
    approval) the allocation stays locked until the approval commits, so approvals at once are
    counted one after the other. Four queries (one when the school has no allocation)."""
    school_year = plan.semester.school_year
    allocations = Allocation.objects.filter(school_id=plan.school_id, school_year=school_year)
    if lock:
        allocations = allocations.select_for_update()
    allocated = allocations.values_list("compensations", flat=True).first()
    budget = PlanBudget(school_year=school_year, allocated=allocated)
    if allocated is None:
        return budget
    budget.planned_elsewhere = _amount(
        compensation_measures(school_year=school_year, schools=[plan.school_id]).exclude(
            plan_id=plan.pk
        ),
        "approved_amount",
    )
    budget.this_plan = _amount(
        SupportMeasure.objects.filter(plan=plan, measure_type=SupportMeasure.Type.COMPENSATION),
        "planned_amount",
    )
    budget.approved_in_claims = _amount(
        granted_claims(school_year=school_year, schools=[plan.school_id]), "total"
    )
    return budget


def annotate_budget(plans):
    """The queue's plans with their school's ``budget_allocated`` for the plan's school year
    and ``budget_own``: what approving the plan adds to the school's planned compensations
    (its planned amounts, less what its earlier approval approved, for a revision). Both are
    lookups by index per plan; the school's totals are read once per school and year
    (``filter_budget``, ``attach_budget``), not once per plan (``plans.hooks.annotate_budget``)."""
    money = DecimalField(max_digits=12, decimal_places=2)
    zero = Value(ZERO, output_field=money)

    def own(field_name):
        return Subquery(
            SupportMeasure.objects.filter(
                plan_id=OuterRef("pk"), measure_type=SupportMeasure.Type.COMPENSATION
            )
            .order_by()
            .values("plan_id")
            .annotate(total=Sum(field_name))
            .values("total"),
            output_field=money,
        )

    return plans.annotate(
        budget_allocated=Subquery(
            Allocation.objects.filter(
                school_id=OuterRef("school_id"),
                school_year_id=OuterRef("semester__school_year_id"),
            ).values("compensations")[:1],
            output_field=money,
        ),
        budget_own=ExpressionWrapper(
            Coalesce(own("planned_amount"), zero)
            - Case(
                When(
                    Q(first_approved_at__isnull=False) & ~Q(status=PlanStatus.INACTIVE),
                    then=Coalesce(own("approved_amount"), zero),
                ),
                default=zero,
            ),
            output_field=money,
        ),
    )


def _planned_totals(pairs):
    """{(school id, school year id): compensations planned in the counted plans}."""
    if not pairs:
        return {}
    rows = (
        SupportMeasure.objects.filter(
            counted_plans(),
            measure_type=SupportMeasure.Type.COMPENSATION,
            plan__school_id__in={school for school, _year in pairs},
            plan__semester__school_year_id__in={year for _school, year in pairs},
        )
        .order_by()
        .values_list("plan__school_id", "plan__semester__school_year_id")
        .annotate(total=Sum("approved_amount"))
    )
    return {(school, year): (total or ZERO) for school, year, total in rows}


def _unplanned(pairs):
    """What is not yet planned of each school's allocation for the year, as one CASE on the
    plan's school and year (the plan's own figure is then compared once, not once per
    school)."""
    money = DecimalField(max_digits=12, decimal_places=2)
    totals = _planned_totals([(school, year) for school, year, _allocated in pairs])
    return Case(
        *(
            When(
                school_id=school,
                semester__school_year_id=year,
                then=Value(allocated - totals.get((school, year), ZERO), output_field=money),
            )
            for school, year, allocated in pairs
        ),
        default=Value(None, output_field=money),
        output_field=money,
    )


def filter_budget(plans, state):
    """The plans of ``annotate_budget`` whose budget is in ``state`` ("none": no allocation
    set, "within", "over"): two queries find the schools and their totals, then each plan's
    own figure is compared with its school's (``plans.hooks.filter_budget``)."""
    if state == "none":
        return plans.filter(budget_allocated__isnull=True)
    with_allocation = plans.filter(budget_allocated__isnull=False)
    pairs = list(
        with_allocation.order_by()
        .values_list("school_id", "semester__school_year_id", "budget_allocated")
        .distinct()
    )
    if not pairs:
        return plans.none()
    with_allocation = with_allocation.alias(budget_unplanned=_unplanned(pairs))
    if state == "over":
        return with_allocation.filter(budget_own__gt=F("budget_unplanned"))
    return with_allocation.filter(budget_own__lte=F("budget_unplanned"))


def attach_budget(plans):
    """Set on each plan of a queue's page (annotated by ``annotate_budget``) its budget:
    ``budget_state`` ("none", "within", "over"), ``budget_over_by``, and its school's
    ``budget_approved`` (in claims) and ``budget_remaining`` for the year. No query when no
    plan's school has an allocation, else two (``plans.hooks.attach_budget``)."""
    allocated = [p for p in plans if p.budget_allocated is not None]
    pairs = {(p.school_id, p.semester.school_year_id) for p in allocated}
    totals = _planned_totals(pairs)
    approved = {}
    if pairs:
        rows = (
            CompensationClaim.objects.filter(
                status__in=ClaimStatus.GRANTED,
                school_id__in={school for school, _year in pairs},
                plan__semester__school_year_id__in={year for _school, year in pairs},
            )
            .order_by()
            .values_list("school_id", "plan__semester__school_year_id")
            .annotate(total=Sum("total"))
        )
        approved = {(school, year): total or ZERO for school, year, total in rows}
    for plan in plans:
        plan.budget_state, plan.budget_over_by = "none", ZERO
        if plan.budget_allocated is None:
            continue
        pair = (plan.school_id, plan.semester.school_year_id)
        unplanned = plan.budget_allocated - totals.get(pair, ZERO)
        plan.budget_over_by = max((plan.budget_own or ZERO) - unplanned, ZERO).quantize(CENT)
        plan.budget_state = "over" if plan.budget_over_by > 0 else "within"
        plan.budget_approved = approved.get(pair, ZERO).quantize(CENT)
        plan.budget_remaining = plan.budget_allocated - plan.budget_approved
    return plans


# --- A claim's approval ---------------------------------------------------------------------


def claim_budget_problem(claim) -> str | None:
    """Why approving the claim would take the school's approved claims of the year over its
    allocation, or None (``compensations.hooks.claim_budget_problem``; inside the approval's
    transaction). The allocation's row is locked first: a second approval at the same moment
    waits for the first to commit and then counts it."""
    school_year_id = claim.plan.semester.school_year_id
    allocated = (
        Allocation.objects.select_for_update()
        .filter(school_id=claim.school_id, school_year_id=school_year_id)
        .values_list("compensations", flat=True)
        .first()
    )
    if allocated is None:
        return None
    already = _amount(
        granted_claims(school_year=school_year_id, schools=[claim.school_id]).exclude(pk=claim.pk),
        "total",
    )
    over = already + claim.total - allocated
    if over <= 0:
        return None
    return _(
        "Approving would exceed the school's allocation for compensations of %(year)s: "
        "allocated %(allocated)s, already approved %(already)s, this claim %(claim)s, over by "
        "%(over)s. Ask whoever sets the school's allocation to raise it first."
    ) % {
        "year": claim.plan.semester.school_year.name,
        "allocated": eur(allocated),
        "already": eur(already),
        "claim": eur(claim.total),
        "over": eur(over),
    }

"""Compensation ceilings: what one pupil's plans may plan per category in a semester before a
justification is needed, and the national maximum no measure may exceed.

The ceilings are a school's settings (``CompensationCeiling``) over national defaults
(``settings.IAP_COMPENSATION_CEILINGS``); the maximum is ``settings.IAP_MEASURE_HARD_MAXIMUM``.
A pupil's total counts every plan of the semester that is not deleted (a regular and a holiday
plan together), so two plans cannot split an amount to stay under the ceiling.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from iap_portal.templatetags.portal import eur

from .models import CompensationCategory, CompensationCeiling, PlanStatus, SupportMeasure


def hard_maximum() -> Decimal:
    return Decimal(str(settings.IAP_MEASURE_HARD_MAXIMUM))


def national_ceilings() -> dict[str, Decimal]:
    defaults = settings.IAP_COMPENSATION_CEILINGS
    return {c: Decimal(str(defaults[c])) for c in CompensationCategory.values if c in defaults}


def ceilings_for(school_id) -> dict[str, Decimal]:
    """The school's ceiling per category: its own where set, else the national default."""
    ceilings = national_ceilings()
    ceilings.update(
        CompensationCeiling.objects.filter(school_id=school_id).values_list("category", "amount")
    )
    return ceilings


def over_hard_maximum(amount) -> bool:
    return amount is not None and amount > hard_maximum()


def hard_maximum_message() -> str:
    return _("No measure may plan more than %(maximum)s (the national maximum).") % {
        "maximum": eur(hard_maximum())
    }


@dataclass
class OverCeiling:
    """A category in which the pupil's plans of the semester plan more than the ceiling."""

    category: str
    total: Decimal
    ceiling: Decimal
    justification: str  # this plan's, from its measures of the category

    @property
    def label(self):
        return CompensationCategory(self.category).label

    @property
    def justified(self) -> bool:
        return bool(self.justification)

    @property
    def message(self) -> str:
        return _(
            "%(category)s: %(total)s planned for this pupil this semester, above the school's "
            "ceiling of %(ceiling)s."
        ) % {"category": self.label, "total": eur(self.total), "ceiling": eur(self.ceiling)}


def over_ceilings(plan) -> list[OverCeiling]:
    """The categories of the plan's compensations in which the pupil's plans of its semester
    are above the school's ceiling (two queries)."""
    rows = list(
        SupportMeasure.objects.filter(
            plan__student_id=plan.student_id,
            plan__semester_id=plan.semester_id,
            measure_type=SupportMeasure.Type.COMPENSATION,
        )
        .exclude(plan__status=PlanStatus.INACTIVE)
        .values_list("plan_id", "compensation_category", "planned_amount", "ceiling_justification")
    )
    own = {category for plan_id, category, _a, _j in rows if plan_id == plan.pk}
    if not own:
        return []
    ceilings = ceilings_for(plan.school_id)
    over = []
    for category in sorted(own, key=CompensationCategory.values.index):
        ceiling = ceilings.get(category)
        total = sum((a or 0 for _p, c, a, _j in rows if c == category), Decimal(0))
        if ceiling is None or total <= ceiling:
            continue
        reasons = [j.strip() for p, c, _a, j in rows if p == plan.pk and c == category]
        over.append(OverCeiling(category, total, ceiling, "\n".join(r for r in reasons if r)))
    return over


def ceiling_problems(plan, *, measures=None, over=None) -> list[str]:
    """Why the plan cannot go on to approval because of its amounts: a measure above the
    national maximum, or a category above the school's ceiling without a justification.
    ``measures`` (the plan's, loaded) and ``over`` (``over_ceilings(plan)``) save queries
    where a page has them already."""
    if measures is None:
        too_large = plan.measures.filter(planned_amount__gt=hard_maximum())
    else:
        too_large = [m for m in measures if over_hard_maximum(m.planned_amount)]
    problems = [f"{measure.label}: {hard_maximum_message()}" for measure in too_large]
    for category in over_ceilings(plan) if over is None else over:
        if not category.justified:
            problems.append(
                f"{category.message} "
                + _("Say why this pupil needs more on a measure of this category.")
            )
    return problems

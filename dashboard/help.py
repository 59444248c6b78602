"""The help pages' text: what each role does, and the sections that answer the questions
people ask where they work (how a plan moves, what a status means, how to file a claim)."""

from django.utils.translation import gettext_lazy as _

from compensations.models import ClaimStatus
from plans.models import PlanStatus
from students.models import Role

# What each role does, in a sentence or two (the top of its help page).
ROLE_INTROS = {
    Role.CLASS_TEACHER: _(
        "You draw up, submit and evaluate the support plans of the pupils of your classes, and "
        "file their compensation claims. Your home page lists what waits for you."
    ),
    Role.SPECIALIST: _(
        "You see the pupils for whom a consultation measure is assigned to you, and log each "
        "consultation you give under “Consultations”."
    ),
    Role.SOCIAL_PEDAGOGUE: _(
        "You decide on the school's compensation claims (approve, return for correction or "
        "reject) and may prepare plans. You never decide on a claim you filed or changed."
    ),
    Role.COORDINATOR: _(
        "You approve or return the school's submitted plans, keep its pupils, classes, staff "
        "and calendar, send approved claims in payment batches and export the reports. You "
        "never approve a plan you prepared or changed."
    ),
    Role.MUNICIPALITY: _(
        "You approve the plans that wait at the municipality (by code, without the pupil's "
        "identity), keep the youth NGO project register and the schools' allocations, and read "
        "the municipality's reports."
    ),
    Role.MUNICIPAL_ACCOUNTANT: _(
        "You receive the schools' payment batches, download the bank file and record each "
        "payment as paid or refused."
    ),
    Role.AGENCY: _(
        "You keep the national catalogues and the approval routes, approve the plans that wait "
        "at IKVD and read the reports of all schools."
    ),
}

# The sections each role's page shows, in order (the templates know them by these names).
ROLE_SECTIONS = {
    Role.CLASS_TEACHER: ["plan_route", "plan_statuses", "claims", "claim_statuses", "reports"],
    Role.SPECIALIST: ["consultations", "plan_statuses"],
    Role.SOCIAL_PEDAGOGUE: ["claims", "claim_statuses", "plan_route", "plan_statuses", "reports"],
    Role.COORDINATOR: ["plan_route", "plan_statuses", "claims", "claim_statuses", "reports"],
    Role.MUNICIPALITY: ["plan_route", "plan_statuses", "reports"],
    Role.MUNICIPAL_ACCOUNTANT: ["payments", "claim_statuses"],
    Role.AGENCY: ["plan_route", "plan_statuses", "reports"],
}

PLAN_STATUS_HELP = {
    PlanStatus.DRAFT: _(
        "Being written: risks, measures and the date of the parent's application. It can be "
        "changed until it is submitted."
    ),
    PlanStatus.SUBMITTED: _(
        "Sent for approval. It waits at the level shown (the school, the municipality or IKVD) "
        "and cannot be changed meanwhile."
    ),
    PlanStatus.APPROVED: _("Approved at the last level of the route: the support may start."),
    PlanStatus.IN_PROGRESS: _(
        "Approved, and the semester has begun (or the first consultation or claim was recorded)."
    ),
    PlanStatus.REVISION: _(
        "Reopened to be changed, by its preparer or because a level returned it. It must be "
        "approved again; until then the last approved hours and amounts apply."
    ),
    PlanStatus.SUSPENDED: _(
        "Support is paused (the pupil left, or is absent for long); the reason is recorded. It "
        "can be resumed within the same semester."
    ),
    PlanStatus.EVALUATED: _("Evaluated after the semester, and locked."),
    PlanStatus.INACTIVE: _(
        "Deleted. A plan can be deleted only while nothing was delivered or paid on it."
    ),
}

CLAIM_STATUS_HELP = {
    ClaimStatus.DRAFT: _("Being filled in: the month, the expenses and the receipts."),
    ClaimStatus.SUBMITTED: _("Sent to the social pedagogue for a decision."),
    ClaimStatus.APPROVED: _("Approved: the coordinator sends it for payment in a payment batch."),
    ClaimStatus.REJECTED: _("Turned down; the reason is on the claim."),
    ClaimStatus.RETURNED: _("Sent back with a comment: correct it and submit it again."),
    ClaimStatus.PAID: _("The payment was recorded."),
}


def plan_statuses():
    return [(status, status.label, PLAN_STATUS_HELP[status]) for status in PlanStatus]


def claim_statuses():
    return [(status, status.label, CLAIM_STATUS_HELP[status]) for status in ClaimStatus]

"""The class teacher's "what to do next": the steps of this semester's work that wait for them,
each as a count with one link (the home page)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from compensations.access import visible_claims
from compensations.models import ClaimStatus
from plans.access import my_consultation_measures
from plans.models import PlanStatus, SupportPlan


@dataclass
class GuideStep:
    key: str
    count: int
    text: str
    link: str
    link_text: str
    # How many of them are late. The deadlines (plans due, evaluations due) fill it in; the
    # home page shows it as a "kavēts" badge beside the step.
    late_count: int = 0


def _list_link(name, **query):
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def teacher_steps(user, taught, flagged, today=None):
    """The steps waiting for a class teacher, in the order the work goes: flagged pupils
    without a submitted plan (``flagged``, loaded by the page), drafts not submitted, returned
    plans, consultations to log, claims to file, evaluations due. Only steps with something to
    do are returned. ``taught`` is a queryset of the teacher's pupils.

    Queries: the plans of open semesters being prepared (one aggregate), the consultation
    measures to log (a count), the claims to file (one aggregate), the started plans that may
    be evaluated."""
    today = today or timezone.localdate()
    steps = []
    if flagged:
        steps.append(
            GuideStep(
                "flagged",
                len(flagged),
                ngettext(
                    "%(count)d pupil is flagged at risk and has no submitted plan.",
                    "%(count)d pupils are flagged at risk and have no submitted plan.",
                    len(flagged),
                )
                % {"count": len(flagged)},
                "#flagged-heading",
                ngettext("See the pupil", "See the pupils", len(flagged)),
            )
        )

    being_prepared = SupportPlan.objects.filter(
        student__in=taught, status__in=PlanStatus.EDITABLE, semester__end_date__gte=today
    ).with_came_from()
    returned = Q(came_from=PlanStatus.SUBMITTED)
    not_returned = Q(came_from__isnull=True) | ~Q(came_from=PlanStatus.SUBMITTED)
    plans = being_prepared.aggregate(
        drafts=Count("pk", filter=not_returned),
        first_draft=Min("pk", filter=not_returned),
        returned=Count("pk", filter=returned),
        first_returned=Min("pk", filter=returned),
    )
    if plans["drafts"]:
        count = plans["drafts"]
        steps.append(
            GuideStep(
                "drafts",
                count,
                ngettext(
                    "%(count)d plan is being prepared and has not been submitted.",
                    "%(count)d plans are being prepared and have not been submitted.",
                    count,
                )
                % {"count": count},
                reverse("plan_detail", args=[plans["first_draft"]])
                if count == 1
                else _list_link("plan_list", status=PlanStatus.DRAFT),
                ngettext("Finish and submit it", "Finish and submit them", count),
            )
        )
    if plans["returned"]:
        count = plans["returned"]
        steps.append(
            GuideStep(
                "returned",
                count,
                ngettext(
                    "%(count)d plan was returned to you for changes.",
                    "%(count)d plans were returned to you for changes.",
                    count,
                )
                % {"count": count},
                reverse("plan_detail", args=[plans["first_returned"]])
                if count == 1
                else _list_link("plan_list"),
                ngettext("See the comment", "See the comments", count),
            )
        )

    to_log = (
        my_consultation_measures(user)
        .filter(start_date__lte=today)
        .with_delivery()
        .filter(
            Q(delivered_minutes__isnull=True) | Q(delivered_minutes__lt=F("planned_hours") * 60)
        )
        .count()
    )
    if to_log:
        steps.append(
            GuideStep(
                "consultations",
                to_log,
                ngettext(
                    "%(count)d consultation measure of yours has hours left to deliver and log.",
                    "%(count)d consultation measures of yours have hours left to deliver and log.",
                    to_log,
                )
                % {"count": to_log},
                reverse("consultation_list"),
                ngettext("Log the consultation", "Log the consultations", to_log),
            )
        )

    claims = (
        visible_claims(user)
        .filter(plan__student__in=taught, status__in=ClaimStatus.EDITABLE)
        .aggregate(
            count=Count("pk"),
            returned=Count("pk", filter=Q(status=ClaimStatus.RETURNED)),
            first=Min("pk"),
        )
    )
    if claims["count"]:
        count = claims["count"]
        status = ClaimStatus.RETURNED if claims["returned"] else ClaimStatus.DRAFT
        steps.append(
            GuideStep(
                "claims",
                count,
                ngettext(
                    "%(count)d compensation claim is being prepared or was returned: file it.",
                    "%(count)d compensation claims are being prepared or were returned: file them.",
                    count,
                )
                % {"count": count},
                reverse("claim_detail", args=[claims["first"]])
                if count == 1
                else _list_link("claim_list", status=status),
                ngettext("Open the claim", "Open the claims", count),
            )
        )

    started = SupportPlan.objects.filter(
        student__in=taught, status__in=PlanStatus.STARTED, semester__start_date__lte=today
    ).select_related("semester", "school")
    due = [plan for plan in started if plan.evaluation_opens_on <= today]
    if due:
        count = len(due)
        steps.append(
            GuideStep(
                "evaluations",
                count,
                ngettext(
                    "%(count)d plan is due for its evaluation.",
                    "%(count)d plans are due for their evaluation.",
                    count,
                )
                % {"count": count},
                reverse("plan_evaluate", args=[due[0].pk])
                if count == 1
                else _list_link("plan_list", status=PlanStatus.IN_PROGRESS),
                ngettext("Evaluate it", "Evaluate them", count),
            )
        )
    return steps

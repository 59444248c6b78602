from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from iap_portal.forms import parse_id
from iap_portal.pagination import paginate
from students.access import get_access
from students.models import SchoolYear

from . import figures, services
from .access import (
    SCHOOL_VIEWERS,
    allocating_schools,
    budget_schools,
    chosen_year,
    require_allocator,
    require_budget_viewer,
    require_upper_viewer,
)
from .forms import AllocationForm
from .models import Allocation


def _years():
    return SchoolYear.objects.order_by("-start_year")


def _no_year(request):
    return render(request, "budgets/no_year.html", status=200)


def _school(request):
    """The school the budget page is about: ``?school=`` among the user's, else the first
    school where the user works, else the first of the municipality's."""
    schools = budget_schools(request.user)
    wanted = request.GET.get("school")
    if wanted is not None:
        school_id = parse_id(wanted)
        school = (
            schools.filter(pk=school_id).select_related("municipality").first()
            if school_id
            else None
        )
        if school is None:
            raise Http404
        return school
    own = get_access(request.user).school_ids(*SCHOOL_VIEWERS)
    first = schools.filter(pk__in=own) if own else schools
    school = first.select_related("municipality").order_by("name", "pk").first()
    if school is None:
        raise Http404
    return school


@login_required
@require_GET
def school_budget(request):
    require_budget_viewer(request.user)
    year = chosen_year(request)
    if year is None:
        return _no_year(request)
    school = _school(request)
    own = get_access(request.user).school_ids(*SCHOOL_VIEWERS)
    history = (
        Allocation.history.filter(school_id=school.pk, school_year_id=year.pk)
        .select_related("history_user")
        .order_by("-history_date")[:20]
    )
    return render(
        request,
        "budgets/school_budget.html",
        {
            "budget": figures.school_budget(school, year),
            "school": school,
            "year": year,
            "years": _years(),
            "other_schools": budget_schools(request.user)
            .filter(pk__in=own)
            .exclude(pk=school.pk)
            .order_by("name")
            if len(own) > 1
            else [],
            "history": history,
            "over_budget_approvals": services.over_budget_approvals(school, year),
        },
    )


@login_required
@require_GET
def budget_table(request):
    require_upper_viewer(request.user)
    year = chosen_year(request)
    if year is None:
        return _no_year(request)
    rows, municipalities, total = figures.budget_table(budget_schools(request.user), year)
    return render(
        request,
        "budgets/budget_table.html",
        {
            "year": year,
            "years": _years(),
            "page": paginate(request, rows),
            "municipalities": municipalities,
            "total": total,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def allocation_list(request):
    require_allocator(request.user)
    year = chosen_year(request)
    if year is None:
        return _no_year(request)
    page = paginate(
        request,
        allocating_schools(request.user).select_related("municipality").order_by("name", "pk"),
    )
    schools = list(page.object_list)
    current = {
        a.school_id: a
        for a in Allocation.objects.filter(school_year=year, school__in=schools).select_related(
            "set_by"
        )
    }
    data = request.POST if request.method == "POST" else None
    forms = [
        AllocationForm(data, school=school, allocation=current.get(school.pk)) for school in schools
    ]
    if request.method == "POST":
        sent = [form for form in forms if form.was_shown]
        if all(form.is_valid() for form in sent):
            try:
                changed = services.set_allocations(
                    school_year=year,
                    values={form.school: form.values() for form in sent},
                    by=request.user,
                )
            except services.AllocationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                if changed:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)d allocation was saved.",
                            "%(count)d allocations were saved.",
                            changed,
                        )
                        % {"count": changed},
                    )
                else:
                    messages.info(request, _("No allocation was changed."))
                query = {"year": year.start_year}
                if page.number > 1:
                    query["page"] = page.number
                return redirect(f"{request.path}?{urlencode(query)}")
        else:
            messages.error(
                request, _("Nothing was saved: correct the amounts marked below and save again.")
            )
    history = (
        Allocation.history.filter(school_year_id=year.pk, school_id__in=[s.pk for s in schools])
        .select_related("history_user", "school")
        .order_by("-history_date")[:20]
    )
    return render(
        request,
        "budgets/allocation_list.html",
        {"year": year, "years": _years(), "page": page, "forms": forms, "history": history},
    )

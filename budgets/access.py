"""Who sees which schools' budgets, and who sets their allocations (built on
``students.access``). A budget holds amounts, no pupil: the school's coordinator and social
pedagogue see their school's, the municipal coordinator those of the municipality's schools,
IKVD every school's. The agency sets any school's allocation, the municipal coordinator those
of its own municipality's schools."""

from django.db.models import Q
from django.http import Http404

from students.access import get_access, require_roles
from students.models import Role, School, SchoolYear

SCHOOL_VIEWERS = (Role.COORDINATOR, Role.SOCIAL_PEDAGOGUE)
UPPER_VIEWERS = (Role.MUNICIPALITY, Role.AGENCY)
ALLOCATORS = (Role.MUNICIPALITY, Role.AGENCY)


def _municipality_ids(user):
    return {m.municipality_id for m in get_access(user).memberships if m.role == Role.MUNICIPALITY}


def budget_schools(user):
    """The schools whose budgets this user sees."""
    access = get_access(user)
    if access.has_role(Role.AGENCY):
        return School.objects.all()
    return School.objects.filter(
        Q(pk__in=access.school_ids(*SCHOOL_VIEWERS))
        | Q(municipality_id__in=_municipality_ids(user))
    )


def allocating_schools(user):
    """The schools whose allocations this user sets."""
    if get_access(user).has_role(Role.AGENCY):
        return School.objects.all()
    return School.objects.filter(municipality_id__in=_municipality_ids(user))


def can_set_allocation(user, school) -> bool:
    if get_access(user).has_role(Role.AGENCY):
        return True
    return school.municipality_id in _municipality_ids(user)


def require_budget_viewer(user):
    require_roles(user, *SCHOOL_VIEWERS, *UPPER_VIEWERS)


def require_upper_viewer(user):
    require_roles(user, *UPPER_VIEWERS)


def require_allocator(user):
    require_roles(user, *ALLOCATORS)


def chosen_year(request):
    """The school year a page is about: ``?year=`` (its first calendar year) when there is
    such a year, else the current one; None when the calendar has no year at all."""
    wanted = request.GET.get("year", "")
    if wanted:
        if not (wanted.isascii() and wanted.isdigit() and len(wanted) == 4):
            raise Http404
        year = SchoolYear.objects.filter(start_year=int(wanted)).first()
        if year is None:
            raise Http404
        return year
    return get_access(request.user).current_year

from django.conf import settings
from django.core.paginator import Paginator


def paginate(request, queryset, per_page=None):
    """The requested page (a bad page number gives the nearest one), with an elided range and
    ``page.query``: the request's query string without the page number, so the page links and
    the export buttons keep the list's filters."""
    paginator = Paginator(queryset, per_page or settings.IAP_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.elided = paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    query = request.GET.copy()
    query.pop("page", None)
    page.query = query.urlencode()
    return page

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from iap_portal.pagination import paginate

from . import services
from .forms import PreferencesForm
from .models import Preference


@login_required
@require_GET
def notification_list(request):
    """The user's notifications of the last 90 days, newest first."""
    page = paginate(request, services.recent(request.user))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_GET
def notification_bell(request):
    """The bell's unread count (loaded by htmx after the page, so no page waits for it).
    Rendered without the request's context processors: the count is its only query."""
    count = services.unread_count(request.user)
    return HttpResponse(render_to_string("notifications/bell.html", {"unread": count}))


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read and open what it is about."""
    notification = get_object_or_404(services.recent(request.user), pk=pk)
    services.mark_read(notification=notification, by=request.user)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts=None
    ):
        return redirect(notification.url)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request):
    marked = services.mark_all_read(by=request.user)
    if marked:
        messages.success(request, _("Every notification is marked read."))
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    current = dict(Preference.objects.filter(user=request.user).values_list("kind", "delivery"))
    form = PreferencesForm(
        request.POST or None,
        current=current,
        initial={"language": services.language_of(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        services.save_preferences(
            user=request.user, choices=form.choices(), language=form.cleaned_data["language"]
        )
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notification_settings")
    return render(request, "notifications/settings.html", {"form": form})


def set_language(request):
    """Django's language switch; a signed-in user's choice is also their e-mails' language."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        chosen = request.POST.get("language") or get_language()
        services.remember_language(user=request.user, language=chosen)
    return response

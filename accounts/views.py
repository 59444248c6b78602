"""Two-factor sign-in's pages, and "log out on every device"."""

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from iap_portal import audit
from iap_portal.models import AuditEvent

from .forms import SetupForm, TokenForm
from .sessions import end_all_sessions
from .throttle import reset_mail_allowed
from .two_factor import (
    BACKUP_NAME,
    ENROLLED,
    OPTIONAL,
    SESSION_KEY,
    TOTP_NAME,
    devices_for,
    is_required,
    new_backup_codes,
    remove_devices,
    state_for,
    throttled,
)


def _next_url(request):
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("home")


def _refuse_code(form, wait, message):
    """A wrong code: say so, or say how long to wait while django-otp throttles guesses."""
    if wait > 0:
        seconds = int(wait) + 1
        message = ngettext(
            "Too many wrong codes. Wait %(seconds)s second and try again.",
            "Too many wrong codes. Wait %(seconds)s seconds and try again.",
            seconds,
        ) % {"seconds": seconds}
    form.add_error("token", message)


def _mark_verified(request, device, state=ENROLLED):
    otp_login(request, device)
    # A new privilege level: a new session key, as at sign-in.
    request.session.cycle_key()
    request.session[SESSION_KEY] = state


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: a code from the app or a backup code."""
    user = request.user
    if request.session.get(SESSION_KEY) != ENROLLED or user.is_verified():
        return redirect(_next_url(request))
    devices = devices_for(user)
    if not devices:  # the authenticator was removed (reset) since this session signed in
        request.session[SESSION_KEY] = state_for(user)
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = throttled(devices)
        device = None
        if wait <= 0:
            with transaction.atomic():
                device = next(
                    (d for d in devices if d.verify_token(form.cleaned_data["token"])), None
                )
        if device is not None:
            used_backup = isinstance(device, StaticDevice)
            audit.record(
                request, AuditEvent.Action.TWO_FACTOR, detail="backup code" if used_backup else "ok"
            )
            _mark_verified(request, device)
            if used_backup:
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(
                    request,
                    _(
                        "You used a backup code; %(left)s are left. Make new ones on the "
                        "two-factor page if you run low."
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
        audit.record(request, AuditEvent.Action.TWO_FACTOR_FAILED)
        _refuse_code(form, wait, _("This code is not right or has already been used."))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Connect an authenticator app: scan the QR code, confirm with one code, get backup codes."""
    user = request.user
    if user_has_device(user, confirmed=True) and not user.is_verified():
        return redirect("two_factor_verify")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.info(request, _("Two-factor sign-in is already on."))
        return redirect("two_factor")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = new_backup_codes(user)
                audit.record(request, AuditEvent.Action.TWO_FACTOR_CHANGE, detail="turned on")
            _mark_verified(request, device)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        _refuse_code(
            form,
            throttled([device]),
            _("This code does not match. Check the time on your phone and enter the newest code."),
        )
    b32 = b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "secret": " ".join(b32[i : i + 4] for i in range(0, len(b32), 4)),
            "required": is_required(user),
            "next": _next_url(request),
        },
    )


@never_cache
@login_required
@require_GET
def qr_code(request):
    """The QR code of the authenticator being set up (never of a confirmed one)."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        raise Http404
    response = HttpResponse(content_type="image/svg+xml")
    write_qrcode_image(device.config_url, response)
    return response


@never_cache
@login_required
@require_GET
def overview(request):
    """The user's own two-factor settings."""
    user = request.user
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    backup_left = StaticToken.objects.filter(device__user=user, device__name=BACKUP_NAME).count()
    return render(
        request,
        "registration/two_factor.html",
        {"totp": totp, "backup_left": backup_left, "required": is_required(user)},
    )


@never_cache
@login_required
@require_POST
def backup_codes(request):
    """Replace the backup codes (the old ones stop working)."""
    user = request.user
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.error(request, _("Turn two-factor sign-in on first."))
        return redirect("two_factor")
    with transaction.atomic():
        codes = new_backup_codes(user)
        audit.record(request, AuditEvent.Action.TWO_FACTOR_CHANGE, detail="new backup codes")
    return render(request, "registration/two_factor_codes.html", {"codes": codes})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def disable(request):
    """Turn two-factor sign-in off (only where the user's roles do not require it)."""
    user = request.user
    if is_required(user):
        messages.error(
            request,
            _("Your role requires two-factor sign-in; it cannot be turned off."),
        )
        return redirect("two_factor")
    if not user_has_device(user, confirmed=True):
        return redirect("two_factor")
    if request.method == "POST":
        with transaction.atomic():
            remove_devices(user)
            audit.record(request, AuditEvent.Action.TWO_FACTOR_CHANGE, detail="turned off")
        request.session[SESSION_KEY] = OPTIONAL
        messages.success(request, _("Two-factor sign-in is off."))
        return redirect("two_factor")
    return render(request, "registration/two_factor_disable.html")


@login_required
@require_http_methods(["GET", "POST"])
def logout_everywhere(request):
    """End every session of this user, on every device (after a lost phone, say)."""
    if request.method == "POST":
        user = request.user
        logout(request)
        end_all_sessions(user)
        messages.success(request, _("You were logged out on every device."))
        return redirect("login")
    return render(request, "registration/logout_everywhere.html")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with a limit of e-mails per address and per account: over it no
    e-mail goes, and the answer is the same page as always (``accounts.throttle``)."""

    def form_valid(self, form):
        if reset_mail_allowed(audit.client_ip(self.request), form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())

"""Two-factor sign-in: a TOTP authenticator app, with one-time backup codes (django-otp).

After the password, a user with a confirmed authenticator must enter a code before any page
opens. Where ``IAP_TWO_FACTOR_REQUIRED`` is on (production), coordinators, social pedagogues,
municipality and agency users (and superusers) must set one up first; for everybody else it is
optional. Whether a session still owes a code is kept in the session itself, decided at sign-in,
so ordinary pages cost no extra queries.
"""

from base64 import b32encode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from students.models import Role

from . import access, audit
from .models import AuditEvent

REQUIRED_ROLES = {Role.COORDINATOR, Role.SOCIAL_PEDAGOGUE, Role.MUNICIPALITY, Role.AGENCY}
SESSION_KEY = "iap_two_factor"
# The states a signed-in session can be in.
ENROLLED = "enrolled"  # has an authenticator: owes a code until verified
MUST_ENROL = "must_enrol"  # required by role but has none: must set one up first
OPTIONAL = "optional"  # nothing owed

# Pages a session that still owes its second factor may open.
PENDING_URL_NAMES = {
    "two_factor_verify",
    "two_factor_setup",
    "two_factor_qr",
    "logout",
    "set_language",
}
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup"


def is_required(user) -> bool:
    if not settings.IAP_TWO_FACTOR_REQUIRED:
        return False
    return user.is_superuser or bool(access.get_access(user).roles & REQUIRED_ROLES)


def state_for(user) -> str:
    if user_has_device(user, confirmed=True):
        return ENROLLED
    return MUST_ENROL if is_required(user) else OPTIONAL


@receiver(user_logged_in)
def _decide_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = state_for(user)


def two_factor_pending(request) -> bool:
    """The session signed in with a password but still owes its second factor."""
    state = request.session.get(SESSION_KEY, OPTIONAL)
    return state != OPTIONAL and not request.user.is_verified()


class TwoFactorMiddleware:
    """Send a signed-in user who owes a second factor to the code (or set-up) page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            state = request.session.get(SESSION_KEY)
            if state is None:  # a session from before two-factor sign-in existed
                state = request.session[SESSION_KEY] = state_for(user)
            if two_factor_pending(request):
                try:
                    match = resolve(request.path_info)
                except Resolver404:
                    match = None
                if match is None or match.url_name not in PENDING_URL_NAMES:
                    target = "two_factor_verify" if state == ENROLLED else "two_factor_setup"
                    return redirect(
                        f"{reverse(target)}?{REDIRECT_FIELD_NAME}={_safe_next(request)}"
                    )
        return self.get_response(request)


def _safe_next(request):
    from urllib.parse import quote

    return quote(request.get_full_path(), safe="/")


def _next_url(request):
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("home")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        help_text=gettext_lazy(
            "The six digits your authenticator app shows now, or one of your backup codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split()).lower()
        if not token.isalnum():
            raise forms.ValidationError(_("A code has only digits and letters."))
        return token


class SetupForm(TokenForm):
    token = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError(_("Enter the six digits the app shows."))
        return token


def _devices(user):
    return [
        *TOTPDevice.objects.devices_for_user(user, confirmed=True),
        *StaticDevice.objects.devices_for_user(user, confirmed=True),
    ]


def _throttled(devices):
    """The longest wait, in seconds, any of the user's devices imposes after failed codes."""
    from django.utils import timezone

    waits = []
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            waits.append((info["locked_until"] - timezone.now()).total_seconds())
    return max(waits, default=0)


def _refuse_code(form, wait, message):
    """A wrong code: say so, or say how long to wait while django-otp throttles guesses."""
    if wait > 0:
        message = _("Too many wrong codes. Wait %(seconds)s seconds and try again.") % {
            "seconds": int(wait) + 1
        }
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
    devices = _devices(user)
    if not devices:  # the authenticator was removed (reset) since this session signed in
        request.session[SESSION_KEY] = state_for(user)
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = _throttled(devices)
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
                codes = _new_backup_codes(user)
                audit.record(request, AuditEvent.Action.TWO_FACTOR_CHANGE, detail="turned on")
            _mark_verified(request, device)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        _refuse_code(
            form,
            _throttled([device]),
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


def _new_backup_codes(user):
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.IAP_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


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
        codes = _new_backup_codes(user)
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


def remove_devices(user):
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reset_for_member(request, pk):
    """A coordinator removes a colleague's authenticator (a lost phone); they set up a new one
    at their next sign-in, and every session of theirs ends."""
    from .sessions import end_all_sessions

    access.require_roles(request.user, Role.COORDINATOR)
    membership = access.get_membership_or_404(request.user, pk)
    member = membership.user
    if member.pk == request.user.pk:
        messages.error(request, _("Change your own two-factor sign-in on your own settings page."))
        return redirect("staff_list")
    if request.method == "POST":
        with transaction.atomic():
            remove_devices(member)
            audit.record(
                request,
                AuditEvent.Action.TWO_FACTOR_CHANGE,
                school=membership.school,
                obj=member,
                detail=f"reset for {member.get_username()}",
            )
        end_all_sessions(member)
        messages.success(
            request,
            _(
                "Two-factor sign-in of %(name)s was reset. They set it up again at their "
                "next sign-in."
            )
            % {"name": member.get_full_name() or member.get_username()},
        )
        return redirect("staff_list")
    return render(request, "registration/two_factor_reset.html", {"membership": membership})

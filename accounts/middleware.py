"""Send a signed-in user who owes a second factor to the code (or set-up) page."""

from urllib.parse import quote

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from .two_factor import ENROLLED, PENDING_URL_NAMES, SESSION_KEY, state_for, two_factor_pending


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
    return quote(request.get_full_path(), safe="/")

"""Limits that no one address (password spraying) and no one account (reset e-mails) can
exceed, beside django-axes' lockout of a username from one address.

Sign-in: axes locks a username at one address after 5 failures (15 minutes), so an attacker
elsewhere cannot lock a real user out. Spraying (a few tries on every account from one
address) never trips that, so failures from one address over all usernames are counted too
(axes' failure log), in widening windows: the wait grows as the failures go on
(``IAP_SIGNIN_FAILURES_PER_ADDRESS``). No CAPTCHA: a school's shared address gets a wait, not
a puzzle, and the limits are far above what a staff room mistypes.

Password reset: a limit per address and per account (``IAP_RESET_MAILS_PER_ADDRESS``,
``IAP_RESET_MAILS_PER_ACCOUNT``, per day); over it no e-mail is sent and the answer is the
same page, so the limit tells nobody whether an address has an account.
"""

import hashlib
from datetime import timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.utils import timezone

from .models import ResetRequest

DAY = timedelta(days=1)


def address_wait(address, now=None) -> timedelta | None:
    """How long sign-ins from this address must wait, or None."""
    if not address:
        return None
    now = now or timezone.now()
    for window, limit in settings.IAP_SIGNIN_FAILURES_PER_ADDRESS:
        times = list(
            AccessFailureLog.objects.filter(ip_address=address, attempt_time__gte=now - window)
            .order_by("-attempt_time")
            .values_list("attempt_time", flat=True)[:limit]
        )
        if len(times) >= limit:
            # Until the oldest of the last ``limit`` failures leaves the window.
            return max(times[-1] + window - now, timedelta(seconds=1))
    return None


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def reset_mail_allowed(address, email, now=None) -> bool:
    """Record a reset request and say whether its e-mail may go."""
    now = now or timezone.now()
    ResetRequest.objects.filter(at__lt=now - DAY).delete()
    key = account_key(email)
    recent = ResetRequest.objects.filter(at__gte=now - DAY)
    by_address = recent.filter(address=address).count() if address else 0
    by_account = recent.filter(account=key).count()
    ResetRequest.objects.create(at=now, address=address, account=key)
    return (
        by_address < settings.IAP_RESET_MAILS_PER_ADDRESS
        and by_account < settings.IAP_RESET_MAILS_PER_ACCOUNT
    )

"""Two-factor sign-in: a TOTP authenticator app, with one-time backup codes (django-otp).

After the password, a user with a confirmed authenticator must enter a code before any page
opens. Where ``IAP_TWO_FACTOR_REQUIRED`` is on (production), coordinators, social pedagogues,
municipality and agency users (and superusers) must set one up first; for everybody else it is
optional. Whether a session still owes a code is kept in the session itself, decided at sign-in,
so ordinary pages cost no extra queries.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from iap_portal.registry import Hook

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


# Whether the user's roles require a second factor: the students app, which knows the roles,
# registers it (StudentsConfig.ready).
required_by_role = Hook("two_factor_required_by_role", default=lambda user: False)


def is_required(user) -> bool:
    if not settings.IAP_TWO_FACTOR_REQUIRED:
        return False
    return user.is_superuser or bool(required_by_role(user))


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


def devices_for(user):
    return [
        *TOTPDevice.objects.devices_for_user(user, confirmed=True),
        *StaticDevice.objects.devices_for_user(user, confirmed=True),
    ]


def throttled(devices):
    """The longest wait, in seconds, any of the user's devices imposes after failed codes."""
    waits = []
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            waits.append((info["locked_until"] - timezone.now()).total_seconds())
    return max(waits, default=0)


def new_backup_codes(user):
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.IAP_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def remove_devices(user):
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()

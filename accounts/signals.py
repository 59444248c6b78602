"""Sign-ins, sign-outs and failed sign-ins go to the audit log (connected in AccountsConfig)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from iap_portal import audit
from iap_portal.models import AuditEvent


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(request, AuditEvent.Action.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(request, AuditEvent.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit.record_failed_sign_in(request, credentials.get("username", ""))

"""Recording to the audit log (sign-ins, views and exports of personal data, downloads,
status changes). Writes happen in the request's transaction."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AuditEvent


def client_ip(request):
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def record(request, action, *, school=None, obj=None, detail="", user=None):
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        school=school,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=str(detail)[:300],
        ip=client_ip(request),
    )


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(request, AuditEvent.Action.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(request, AuditEvent.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    AuditEvent.objects.create(
        username=str(credentials.get("username", ""))[:150],
        action=AuditEvent.Action.LOGIN_FAILED,
        ip=client_ip(request),
    )


def _status_change(sender, instance, created, **kwargs):
    if not created or kwargs.get("raw"):
        return
    subject = getattr(instance, "plan", None) or getattr(instance, "claim", None)
    AuditEvent.objects.create(
        user=instance.by,
        username=instance.by.get_username() if instance.by else "",
        action=AuditEvent.Action.STATUS,
        school_id=subject.school_id,
        object_type=subject._meta.label,
        object_id=str(subject.pk),
        detail=f"{subject}: {instance.from_status} → {instance.to_status}",
    )


def connect_status_signals():
    from compensations.models import ClaimStatusChange
    from plans.models import PlanStatusChange

    for model in (PlanStatusChange, ClaimStatusChange):
        post_save.connect(_status_change, sender=model, dispatch_uid=f"audit-{model._meta.label}")

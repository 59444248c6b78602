from django.conf import settings

from accounts.two_factor import two_factor_pending
from iap_portal.i18n import localized
from students.access import get_access


def portal(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    roles = get_access(user).roles if signed_in else set()
    return {
        "two_factor_pending": signed_in and two_factor_pending(request),
        "programme_name": localized(settings.IAP_PROGRAMME_NAME, settings.IAP_PROGRAMME_NAME_EN),
        "programme_code": settings.IAP_PROGRAMME_CODE,
        "user_roles": roles,
    }

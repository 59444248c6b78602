from django.conf import settings

from .access import get_access


def portal(request):
    user = getattr(request, "user", None)
    roles = get_access(user).roles if user is not None and user.is_authenticated else set()
    return {
        "programme_name": settings.IAP_PROGRAMME_NAME,
        "programme_code": settings.IAP_PROGRAMME_CODE,
        "user_roles": roles,
    }

"""A sign-in check before the password is looked at: an address that failed too often over
all usernames waits (``accounts.throttle``)."""

import math

from django.core.exceptions import PermissionDenied

from iap_portal.clientip import client_ip

from .throttle import address_wait


class AddressThrottleBackend:
    """Listed after axes' backend and before the one that checks passwords. Refusing raises
    PermissionDenied, which ends ``authenticate()``; the axes middleware then answers with
    the lockout page, which names this wait (``request.address_wait_minutes``). It has no
    ``get_user``: it never signs anybody in (and the test client's ``force_login`` takes the
    first backend that has one)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        wait = address_wait(client_ip(request))
        if wait is not None:
            request.address_wait_minutes = max(1, math.ceil(wait.total_seconds() / 60))
            request.axes_locked_out = True
            raise PermissionDenied
        return None

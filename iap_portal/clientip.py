"""The client's real address, behind the TLS proxy the README prescribes.

Without a proxy (``IAP_PROXY_COUNT=0``, the default) it is the socket's address. Behind
``IAP_PROXY_COUNT`` proxies that each append the address they saw to ``X-Forwarded-For``
(nginx's ``$proxy_add_x_forwarded_for``), the client is the entry that the outermost proxy
appended; whatever a client writes into the header itself stands left of it and is ignored.
The header is believed only when the request comes from a trusted proxy
(``IAP_TRUSTED_PROXIES``, by default this machine), so a client reaching the app server
directly cannot name an address. django-ipware picks the entry; django-axes (sign-in
lockout) and the audit log both ask here (``AXES_CLIENT_IP_CALLABLE``).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from ipware.ip import get_client_ip


@lru_cache(maxsize=8)
def _trusted_networks(proxies: tuple[str, ...]):
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def from_trusted_proxy(address) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in _trusted_networks(tuple(settings.IAP_TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.IAP_PROXY_COUNT
    if not hops or not from_trusted_proxy(remote):
        return remote
    # The outermost proxy's entry has ``hops - 1`` proxies after it in the header.
    ip, _public = get_client_ip(
        request,
        proxy_count=hops - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    return ip or remote

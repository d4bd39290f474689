"""Who is on the other end of a request: the one definition of a client's address.

Behind a reverse proxy every request comes from the proxy's address, so a lock-out or an
allow-list keyed on ``REMOTE_ADDR`` would treat all clients as one. ``X-Forwarded-For`` is
believed only when the direct peer is one of ``TRUSTED_PROXIES``; from anyone else it is a
header the client wrote itself, and ignored.
"""

import ipaddress
import logging
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip

logger = logging.getLogger(__name__)

MAX_ADDRESS_LENGTH = 45  # the longest IPv6 text form


@cache
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def address_in(address: str, entries: list[str] | tuple[str, ...]) -> bool:
    """Whether ``address`` is one of ``entries`` (addresses or networks); False if it is none."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in _networks(tuple(entries)))


def client_address(request: HttpRequest | None) -> str:
    """The client's address: the peer's own, or the one a trusted proxy says it saw."""
    if request is None:
        return ""
    peer = request.META.get("REMOTE_ADDR", "")
    if not address_in(peer, settings.TRUSTED_PROXIES):
        return peer[:MAX_ADDRESS_LENGTH]
    # The trusted proxy appends the address it saw to X-Forwarded-For: the right-most entry
    # (proxy_count=0 on a non-strict chain). Entries left of it are the client's own words.
    seen, _routable = get_client_ip(
        request, proxy_count=0, request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False
    )
    if seen is None:
        logger.warning("trusted proxy sent no client address", extra={"proxy": peer})
        return peer[:MAX_ADDRESS_LENGTH]
    return seen[:MAX_ADDRESS_LENGTH]

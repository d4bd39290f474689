"""Where a webhook may be sent, and where a file sent by URL may be fetched from: the one
rule, checked when an endpoint is saved and again before every attempt or fetch (a name can
resolve elsewhere by then).

In production a URL must be https, and none of the addresses its host resolves to may be
loopback, private, link-local (which covers cloud metadata at 169.254.169.254), multicast,
reserved or unspecified. ``WEBHOOK_ALLOW_PRIVATE_URLS`` lifts the address rule and
``WEBHOOK_REQUIRE_HTTPS`` the scheme rule, for local receivers in development and tests.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Cloud metadata services (AWS, GCP and Azure's link-local one, AWS's IPv6 one, Alibaba's):
# refused even where WEBHOOK_ALLOW_PRIVATE_URLS lets local receivers in, since no receiver or
# file lives there, only the host's credentials.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why, in words for the tenant."""


class HostNotFound(UnsafeUrl):
    """The host name does not resolve now (it may later: a delivery tries again)."""


@dataclass(frozen=True)
class Wording:
    """How a refusal explains the rule to the tenant, for what the URL is for."""

    encrypted: str
    credentials: str
    public: str


WEBHOOK = Wording(
    encrypted="so that events travel encrypted",
    credentials="events are signed instead",
    public="webhooks go to public addresses only",
)
FILE = Wording(
    encrypted="so that the file travels encrypted",
    credentials="give a link that needs none",
    public="files are fetched from public addresses only",
)


@dataclass(frozen=True)
class Target:
    """A URL checked, with the addresses it resolved to: the attempt connects to these only."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _forbidden(address: IPAddress) -> bool:
    """Not public: refused unless WEBHOOK_ALLOW_PRIVATE_URLS (metadata is refused before this)."""
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_syntax(url: str, wording: Wording = WEBHOOK) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a URL webhooks may go to, or UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"This is not a URL: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("The URL must start with https:// and name a host.")
    if parts.scheme != "https" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise UnsafeUrl(f"The URL must use https://, {wording.encrypted}.")
    if parts.username or parts.password:
        raise UnsafeUrl(f"Put no user name or password in the URL: {wording.credentials}.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str, wording: Wording = WEBHOOK) -> Target:
    """Check a URL and the addresses its host resolves to now; UnsafeUrl says what is wrong."""
    scheme, host, port, path = check_syntax(url, wording)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise HostNotFound(f"The host {host} could not be found.") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        parsed = _unmapped(ipaddress.ip_address(address.split("%")[0]))  # "fe80::1%eth0" has a zone
        if parsed in METADATA_ADDRESSES:
            raise UnsafeUrl(f"{host} resolves to {address}, a cloud metadata address: never allowed.")
        if not settings.WEBHOOK_ALLOW_PRIVATE_URLS and _forbidden(parsed):
            raise UnsafeUrl(
                f"{host} resolves to {address}, a private, loopback or link-local address: {wording.public}."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)

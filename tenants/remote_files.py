"""A file a tenant sends by URL (the send API's ``file_url``), fetched under the webhooks'
address rules.

Every hop is checked by ``safe_url.resolve`` and connected to the address it approved
(``pinned``), so a URL, or a redirect it answers with, can never reach this host, its private
network or a cloud metadata service. The body is read no further than the tenant's cap, and
the whole fetch, redirects included, has one deadline.
"""

import http.client
import os
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from tenants.formatting import format_size
from tenants.media import upload_too_large
from tenants.webhooks import safe_url
from tenants.webhooks.pinned import CouldNotConnect, Deadline, connect_first

USER_AGENT = "whatsapp-platform-media/1"
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class FetchRefused(ValueError):
    """The file could not be fetched, or may not be; the message says why, for the tenant."""


@dataclass(frozen=True)
class Fetched:
    data: bytes
    file_name: str  # the last part of the URL's path: a label, made safe where it is kept


def fetch(url: str, *, max_bytes: int, timeout: float) -> Fetched:
    """GET the file at ``url``, following at most MAX_REDIRECTS redirects, each one checked."""
    deadline = Deadline(timeout)
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            target = safe_url.resolve(url, safe_url.FILE)
        except safe_url.UnsafeUrl as exc:
            raise FetchRefused(str(exc)) from None
        location, data = _get(target, max_bytes=max_bytes, deadline=deadline, timeout=timeout)
        if location is None:
            return Fetched(data=data, file_name=os.path.basename(unquote(urlsplit(url).path)))
        url = urljoin(url, location)
    raise FetchRefused(f"The URL redirected more than {MAX_REDIRECTS} times; give the file's own URL.")


def _get(
    target: safe_url.Target, *, max_bytes: int, deadline: Deadline, timeout: float
) -> tuple[str | None, bytes]:
    """(the redirect's Location, b"") or (None, the body) from the first address that answers."""

    try:
        connection, sock = connect_first(target, timeout=deadline.left())
    except CouldNotConnect as exc:
        raise FetchRefused(f"Could not connect to {target.host} ({str(exc)[:200]}).") from None
    except TimeoutError:
        raise FetchRefused(f"{target.host} did not send the file within {timeout:g} s.") from None
    try:
        sock.settimeout(deadline.left())
        connection.request("GET", target.path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        sock.settimeout(deadline.left())
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
            return response.getheader("Location", ""), b""
        if response.status != 200:
            raise FetchRefused(f"{target.host} answered {response.status} {response.reason} for the file.")
        declared = response.getheader("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchRefused(upload_too_large(int(declared), max_bytes))
        body = bytearray()
        # read1: one receive at a time, each waiting at most what is left of the deadline, so a
        # server sending a byte at a time cannot hold the request open (read() would wait
        # for a whole chunk). http.client closes the socket once the body is complete.
        while not response.isclosed():
            sock.settimeout(deadline.left())
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchRefused(f"The file is over {format_size(max_bytes)}, the limit.")
        return None, bytes(body)
    except TimeoutError:
        raise FetchRefused(f"{target.host} did not send the file within {timeout:g} s.") from None
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise FetchRefused(
            f"The file could not be fetched from {target.host}: {type(exc).__name__}."
        ) from None
    finally:
        connection.close()

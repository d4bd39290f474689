"""One webhook POST: to the addresses the URL was checked against, signed, bounded in time.

The connection goes to an address ``safe_url.resolve`` just approved (``pinned``: never a
second lookup that could answer differently), TLS still checks the certificate against the
host name, redirects are not followed, and the whole attempt has a deadline.
"""

import http.client
import json
import ssl
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from tenants.webhooks.pinned import CouldNotConnect, Deadline, connect_first
from tenants.webhooks.safe_url import Target
from tenants.webhooks.services import Answer

USER_AGENT = "whatsapp-platform-webhooks/1"
# Read no more of an answer than this: its first bytes are kept, the rest is not needed.
READ_LIMIT = 1024


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(*, webhook_id: str, body: bytes, secrets: list[str], now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; one signature per secret (two while a rotation overlaps)."""
    signatures = " ".join(Webhook(secret).sign(webhook_id, now, body) for secret in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def post(
    target: Target,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    total_timeout: float,
) -> Answer:
    """POST once; the Answer holds the status and first bytes, or what went wrong."""
    started = time.monotonic()
    deadline = Deadline(total_timeout)

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        connection, sock = connect_first(target, timeout=min(connect_timeout, total_timeout))
    except CouldNotConnect as exc:
        return Answer(latency_ms=elapsed_ms(), error=f"could not connect to {target.host}: {exc}"[:300])
    try:
        sock.settimeout(deadline.left())
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        sock.settimeout(deadline.left())
        response = connection.getresponse()
        sock.settimeout(deadline.left())
        excerpt = response.read(READ_LIMIT).decode("utf-8", "replace")
        error = ""
        if 300 <= response.status < 400:
            location = response.getheader("Location", "")[:200]
            error = f"redirect to {location or 'another URL'} not followed: give the final URL"
        return Answer(
            status_code=response.status,
            latency_ms=elapsed_ms(),
            excerpt=excerpt,
            error=error,
            retry_after=_retry_after(response.getheader("Retry-After"), datetime.now(UTC)),
        )
    except TimeoutError:
        return Answer(latency_ms=elapsed_ms(), error=f"no answer within {total_timeout:g} s")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Answer(latency_ms=elapsed_ms(), error=f"{exc.__class__.__name__}: {exc}"[:300])
    finally:
        connection.close()

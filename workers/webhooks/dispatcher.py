"""The dispatcher's loop: claim due deliveries, POST each, record what happened.

Any number of dispatchers may run (on PostgreSQL): each claims with SKIP LOCKED, so no
attempt is made twice. Delivery is at least once: a dispatcher killed between its POST and
recording it leaves the claim to expire, and the delivery goes again with the same
``webhook-id``. A database outage is waited out with backoff, one log line each way.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from config.outage import DATABASE_DOWN, describe
from tenants.models import WebhookDelivery
from tenants.webhooks import services
from tenants.webhooks.safe_url import HostNotFound, UnsafeUrl, resolve
from workers.webhooks import transport

logger = logging.getLogger(__name__)

OUTAGE_RETRY_MAX_SECONDS = 5.0


def claim_hold() -> timedelta:
    """How long a claimed batch is ours: every attempt in it at its longest, and one more.

    A dispatcher killed mid-batch holds what it claimed this long; then another sends it.
    """
    per_attempt = settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS
    return timedelta(seconds=(settings.WEBHOOK_BATCH_SIZE + 1) * per_attempt)


def attempt(delivery: WebhookDelivery) -> services.Answer:
    """One POST of a delivery, to its endpoint's URL as the safe-URL rule allows it now."""
    endpoint = delivery.endpoint
    try:
        target = resolve(endpoint.url)
    except HostNotFound as exc:
        return services.Answer(error=str(exc))
    except UnsafeUrl as exc:
        return services.Answer(error=str(exc), final=True)
    now = timezone.now()
    body = transport.body_bytes(delivery.event.payload)
    headers = transport.signed_headers(
        webhook_id=delivery.event.webhook_id,
        body=body,
        secrets=services.signing_secrets(endpoint, now),
        now=now,
    )
    return transport.post(
        target,
        body=body,
        headers=headers,
        connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
        total_timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )


# /metrics' outcome label of each state an attempt leaves a delivery in.
OUTCOMES: dict[str, str] = {
    WebhookDelivery.State.SUCCEEDED: "succeeded",
    WebhookDelivery.State.RETRYING: "failed",
    WebhookDelivery.State.DEAD: "dead",
}


def outcome_of(state: str) -> str:
    return OUTCOMES.get(state, "failed")


def run_once(*, stopping: Callable[[], bool] = lambda: False) -> int:
    """Claim one batch, POST each delivery, then record them all; the number attempted."""
    batch = services.deliveries_claim(limit=settings.WEBHOOK_BATCH_SIZE, hold=claim_hold())
    attempted: list[services.Attempted] = []
    for delivery in batch:
        if stopping():
            break
        started = timezone.now()
        attempted.append(services.Attempted(delivery, started, attempt(delivery)))
    services.deliveries_record_attempts(attempted=attempted)
    if len(attempted) < len(batch):  # stopping: what was not tried goes back at once
        services.deliveries_release(deliveries=batch[len(attempted) :])
    outcomes = Counter((str(item.delivery.tenant_id), outcome_of(item.delivery.state)) for item in attempted)
    services.deliveries_count_outcomes(dict(outcomes))
    return len(attempted)


def run(*, stopping: Callable[[], bool], poll_seconds: float | None = None) -> None:
    """Deliver until ``stopping()``; sleep ``poll_seconds`` whenever nothing is due."""
    poll = settings.WEBHOOK_POLL_SECONDS if poll_seconds is None else poll_seconds
    outage_since: float | None = None
    delay = 0.5
    logger.info("webhook dispatcher started", extra={"batch": settings.WEBHOOK_BATCH_SIZE})
    while not stopping():
        try:
            done = run_once(stopping=stopping)
        except DATABASE_DOWN as exc:
            if outage_since is None:
                outage_since = time.monotonic()
                logger.error("database unreachable, webhook delivery paused", extra={"error": describe(exc)})
            close_old_connections()
            _sleep(delay, stopping)
            delay = min(OUTAGE_RETRY_MAX_SECONDS, delay * 2)
            continue
        if outage_since is not None:
            logger.warning(
                "database back, webhook delivery resumed",
                extra={"outage_s": round(time.monotonic() - outage_since, 1)},
            )
            outage_since, delay = None, 0.5
        if not done:
            _sleep(poll, stopping)
    logger.info("webhook dispatcher stopped")


def _sleep(seconds: float, stopping: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while not stopping() and time.monotonic() < end:
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))

"""Writes of webhooks: endpoints, the dispatcher's claims and attempts, replays, endpoint health."""

import base64
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from tenants.counters import counter_increment
from tenants.models import (
    Alert,
    Tenant,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.safe_url import UnsafeUrl, resolve
from tenants.webhooks.selectors import WAITING, behind_an_earlier_one

logger = logging.getLogger(__name__)

State = WebhookDelivery.State
# How long a rotated-out secret still signs, so the receiver can change over without a gap.
PREVIOUS_SECRET_VALID = timedelta(hours=24)
# 4xx answers that mean "later", not "never" (Standard Webhooks, RFC 9110).
RETRYABLE_4XX = {408, 409, 425, 429}
EXCERPT_CHARS = 500


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- Endpoints -----------------------------------------------------------------------------


def _clean_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(events.EVENT_TYPES))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event type: {', '.join(unknown)}."})
    if not event_types:
        raise ValidationError({"event_types": "Choose at least one event."})
    return [name for name in events.EVENT_TYPES if name in event_types]


def clean_url(url: str) -> str:
    """The saved URL's rule: the same as the one checked before each attempt."""
    try:
        resolve(url)
    except UnsafeUrl as exc:
        raise ValidationError({"url": str(exc)}) from None
    return url


def endpoint_create(
    *, tenant: Tenant, url: str, event_types: list[str], description: str = "", enabled: bool = True
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        tenant=tenant,
        url=clean_url(url),
        event_types=_clean_event_types(event_types),
        description=description,
        enabled=enabled,
        secret=new_secret(),
    )
    endpoint.full_clean()
    endpoint.save()
    logger.info(
        "webhook endpoint created", extra={"tenant_id": str(tenant.id), "endpoint_id": str(endpoint.id)}
    )
    return endpoint


def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Change url, description, event_types or enabled; a bad value changes nothing."""
    if "url" in fields:
        fields["url"] = clean_url(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = _clean_event_types(fields["event_types"])
    enabling = fields.get("enabled") is True and not endpoint.sending
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    with transaction.atomic():
        if enabling:
            _resume(endpoint)
        endpoint.save()
    return endpoint


def _resume(endpoint: WebhookEndpoint) -> None:
    """Enabled again (after a pause for failing): what waits for it is sent now, in order."""
    endpoint.enabled, endpoint.paused_at, endpoint.paused_reason, endpoint.failing_since = (
        True,
        None,
        "",
        None,
    )
    endpoint.deliveries.filter(state__in=WAITING).update(next_attempt_at=timezone.now(), claimed_until=None)


def endpoint_set_enabled(*, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    return endpoint_update(endpoint=endpoint, enabled=enabled)


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs from now; the old one also signs for 24 h, then stops."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_VALID
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    logger.info(
        "webhook secret rotated",
        extra={"tenant_id": str(endpoint.tenant_id), "endpoint_id": str(endpoint.id)},
    )
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint only, so the tenant sees its receiver answer."""
    event = webhook_emit(
        tenant_id=endpoint.tenant_id,
        event_type=events.TEST,
        data={"endpoint_id": str(endpoint.id), "message": "A test event from your WhatsApp platform."},
        endpoints=[endpoint],
    )
    assert event is not None  # one endpoint was given
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign an attempt now: the current one, and the previous one for 24 h."""
    current = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        current.append(endpoint.previous_secret)
    return current


# --- Replays -------------------------------------------------------------------------------


def deliveries_replay(*, deliveries: QuerySet[WebhookDelivery]) -> int:
    """Send these deliveries again (any state), each with its own webhook-id, as a new round of attempts."""
    return deliveries.update(
        state=State.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )


def delivery_replay(*, delivery: WebhookDelivery) -> None:
    deliveries_replay(deliveries=WebhookDelivery.objects.filter(pk=delivery.pk))
    delivery.refresh_from_db()


def deliveries_replay_failed(
    *, tenant: Tenant, since: datetime, endpoint: WebhookEndpoint | None = None
) -> int:
    """Send again every failed or dead delivery of the tenant created since ``since``."""
    rows = WebhookDelivery.objects.filter(
        tenant=tenant, state__in=[State.RETRYING, State.DEAD], created_at__gte=since
    )
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    return deliveries_replay(deliveries=rows)


# --- The dispatcher's writes ---------------------------------------------------------------


def _due(now: datetime) -> Any:
    return (
        WebhookDelivery.objects.filter(
            state__in=WAITING,
            next_attempt_at__lte=now,
            endpoint__enabled=True,
            endpoint__paused_at__isnull=True,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        # Ordered deliveries go one at a time: only the oldest waiting one of its key is due.
        .exclude(behind_an_earlier_one())
        # Oldest first, by id: the claim walks the index of waiting deliveries and stops at a
        # batch, rather than sorting every waiting one by its time (50 ms at 10,000 waiting).
        .order_by("id")
    )


def deliveries_claim(*, limit: int, hold: timedelta, now: datetime | None = None) -> list[WebhookDelivery]:
    """Take up to ``limit`` due deliveries for this dispatcher until ``now + hold``.

    On PostgreSQL rows another dispatcher is claiming are skipped (FOR UPDATE SKIP LOCKED),
    so two dispatchers never take the same one; a dispatcher that dies holding some lets
    them go when the hold ends, and they are sent again with the same webhook-id.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            _due(now).select_for_update(skip_locked=True, of=("self",)).select_related("event")[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(claimed_until=now + hold)
    endpoints = {e.pk: e for e in WebhookEndpoint.objects.filter(pk__in={row.endpoint_id for row in rows})}
    for row in rows:
        row.endpoint = endpoints[row.endpoint_id]
    return rows


@dataclass(frozen=True)
class Answer:
    """What one POST came to: the receiver's status, or the error that stopped it."""

    status_code: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None  # seconds, from a Retry-After header
    final: bool = False  # never worth trying again (the URL is not allowed)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Worth trying again: no answer, a 3xx or 5xx, or a 4xx that means "later"."""
        code = self.status_code
        if self.final:
            return False
        return code is None or not 400 <= code < 500 or code in RETRYABLE_4XX


def retry_schedule() -> list[float]:
    return [float(seconds) for seconds in settings.WEBHOOK_RETRY_SCHEDULE_SECONDS]


def next_attempt_delay(attempts: int, retry_after: float | None = None) -> timedelta | None:
    """The wait after ``attempts`` failed attempts this round, with ±20 % jitter; None: give up.

    A receiver's Retry-After is honoured (it may ask for a longer or a shorter wait).
    """
    schedule = retry_schedule()
    if attempts > len(schedule):
        return None
    if retry_after is not None:
        return timedelta(seconds=min(retry_after, 86_400.0))
    base = schedule[attempts - 1]
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not secrecy)


@dataclass(frozen=True)
class Attempted:
    """A delivery POSTed once: when, and what came of it."""

    delivery: WebhookDelivery
    started_at: datetime
    answer: Answer


def _next_state(delivery: WebhookDelivery, answer: Answer, now: datetime) -> dict[str, Any]:
    """The delivery's fields after this attempt: delivered, tried again later, or dead."""
    attempts = delivery.attempts + 1
    if answer.succeeded:
        return {"state": State.SUCCEEDED, "attempts": attempts, "next_attempt_at": now, "last_error": ""}
    delay = next_attempt_delay(attempts, answer.retry_after) if answer.retryable else None
    return {
        "state": State.DEAD if delay is None else State.RETRYING,
        "attempts": attempts,
        "next_attempt_at": now if delay is None else now + delay,
        "last_error": (answer.error or f"HTTP {answer.status_code}")[:500],
    }


def deliveries_record_attempts(*, attempted: list[Attempted]) -> None:
    """Record a batch's attempts and what follows from each, in one short transaction.

    Written after the batch's POSTs, not around them: a dispatcher killed before this
    commits has recorded none of them, and they are sent again with the same webhook-id.
    """
    if not attempted:
        return
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery=item.delivery,
                started_at=item.started_at,
                status_code=item.answer.status_code,
                latency_ms=item.answer.latency_ms,
                response_excerpt=item.answer.excerpt[:EXCERPT_CHARS],
                error=item.answer.error[:500],
            )
            for item in attempted
        )
        for item in attempted:
            delivery, answer = item.delivery, item.answer
            fields = _next_state(delivery, answer, now)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                **fields,
                claimed_until=None,
                last_status_code=answer.status_code,
                delivered_at=now if answer.succeeded else None,
                updated_at=now,
            )
            delivery.state, delivery.attempts, delivery.last_error = (
                fields["state"],
                fields["attempts"],
                fields["last_error"],
            )
            _endpoint_health(delivery.endpoint, succeeded=answer.succeeded, now=now)
    for item in attempted:
        if item.delivery.state != State.SUCCEEDED:
            logger.info(
                "webhook delivery failed"
                if item.delivery.state == State.RETRYING
                else "webhook delivery dead",
                extra={
                    "tenant_id": str(item.delivery.tenant_id),
                    "endpoint_id": str(item.delivery.endpoint_id),
                    "delivery_id": item.delivery.pk,
                    "status_code": item.answer.status_code,
                    "attempts": item.delivery.attempts,
                    "reason": item.delivery.last_error[:200],
                },
            )


def deliveries_count_outcomes(outcomes: dict[tuple[str, str], int]) -> None:
    """Add a batch's outcomes, {(tenant id, outcome): count}, to the /metrics counters."""
    for (tenant_id, outcome), count in outcomes.items():
        counter_increment(
            metric="whatsapp_webhook_deliveries_total",
            labels={"tenant_id": tenant_id, "outcome": outcome},
            by=count,
        )


def _endpoint_health(endpoint: WebhookEndpoint, *, succeeded: bool, now: datetime) -> None:
    """A success clears the failing mark; failing for WEBHOOK_DISABLE_AFTER_HOURS pauses it, once."""
    rows = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if succeeded:
        if endpoint.failing_since is not None:
            rows.update(failing_since=None)
            endpoint.failing_since = None
        return
    if endpoint.failing_since is None:
        rows.filter(failing_since__isnull=True).update(failing_since=now)
        endpoint.failing_since = now
        return
    hours = settings.WEBHOOK_DISABLE_AFTER_HOURS
    if now - endpoint.failing_since < timedelta(hours=hours):
        return
    reason = (
        f"It failed every attempt for {hours:g} hours; events are kept and sent when you enable it again."
    )
    # Conditional: two dispatchers can both see it failing, only one pauses it (and alerts).
    if not rows.filter(paused_at__isnull=True).update(paused_at=now, paused_reason=reason):
        return
    endpoint.paused_at, endpoint.paused_reason = now, reason
    Alert.objects.create(
        tenant_id=endpoint.tenant_id,
        kind=Alert.Kind.WEBHOOK,
        reason=f"Webhook endpoint {endpoint.url} paused: failing for {hours:g} hours",
    )
    recipients = list(
        User.objects.filter(tenant_id=endpoint.tenant_id, is_active=True).values_list("email", flat=True)
    )
    url = endpoint.url
    transaction.on_commit(lambda: _email_paused(recipients, url, reason))
    logger.warning(
        "webhook endpoint paused",
        extra={"tenant_id": str(endpoint.tenant_id), "endpoint_id": str(endpoint.id)},
    )


def _email_paused(recipients: list[str], url: str, reason: str) -> None:
    if not recipients:
        return
    try:
        send_mail(
            "Your webhook endpoint was paused",
            f"We stopped sending events to {url}.\n\n{reason}\n\n"
            "Open Webhooks in the portal to see what your receiver answered, and enable it again.",
            None,
            recipients,
        )
    except OSError:
        logger.exception("webhook pause email not sent")


def deliveries_release(*, deliveries: list[WebhookDelivery]) -> None:
    """Give back claimed deliveries that were not attempted (the dispatcher is stopping)."""
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(claimed_until=None)

"""Alerts to staff: one per incident going down, one when it recovers, reminders, flapping.

Alerts are written to an outbox (``Alert``) in the same transaction as the status change that
caused them, and delivered afterwards by ``alerts_deliver`` (email, and a JSON POST to
``ALERT_WEBHOOK_URL`` when set), retried with backoff. A slow webhook never holds up the
change or the stale check.
"""

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tenants.backoff import backoff_delay
from tenants.models import Alert, Incident, Tenant, User, WorkerEvent

logger = logging.getLogger(__name__)

Kind = WorkerEvent.Kind
_DOWN = {(Kind.WORKER_STATUS, "ERROR"), (Kind.TENANT_STATUS, "ERROR")}
_UP = {(Kind.WORKER_STATUS, "RUNNING"), (Kind.TENANT_STATUS, "ACTIVE")}
# A failed delivery is tried again after 5 s, then 10 s, ... at most every 10 min.
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 600.0


def _flapping(tenant_id: uuid.UUID, now: datetime) -> bool:
    since = now - timedelta(hours=1)
    return (
        Incident.objects.filter(tenant_id=tenant_id, opened_at__gte=since).count()
        > settings.ALERT_FLAP_THRESHOLD
    )


def _flap_alerted(tenant_id: uuid.UUID, now: datetime) -> bool:
    since = now - timedelta(hours=1)
    return Alert.objects.filter(tenant_id=tenant_id, kind=Alert.Kind.FLAPPING, created_at__gte=since).exists()


def record_transition(*, tenant_id: uuid.UUID, kind: str, old: str, new: str, reason: str) -> Alert | None:
    """Called inside the transaction of every status change: opens or closes the incident."""
    if (kind, new) in _DOWN:
        return _open_incident(tenant_id=tenant_id, old=old, new=new, reason=reason)
    if (kind, new) in _UP:
        return _close_incident(tenant_id=tenant_id, old=old, new=new, reason=reason)
    return None


def _open_incident(*, tenant_id: uuid.UUID, old: str, new: str, reason: str) -> Alert | None:
    now = timezone.now()
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                tenant_id=tenant_id, reason=reason, opened_at=now, last_alert_at=now
            )
    except IntegrityError:
        return None  # already down: the same incident, no second alert
    if _flapping(tenant_id, now):
        if _flap_alerted(tenant_id, now):
            return None
        reason = f"more than {settings.ALERT_FLAP_THRESHOLD} incidents in an hour; latest: {reason}"
        return Alert.objects.create(
            tenant_id=tenant_id, incident=incident, kind=Alert.Kind.FLAPPING, reason=reason
        )
    return Alert.objects.create(
        tenant_id=tenant_id,
        incident=incident,
        kind=Alert.Kind.DOWN,
        old_status=old,
        new_status=new,
        reason=reason,
    )


def _close_incident(*, tenant_id: uuid.UUID, old: str, new: str, reason: str) -> Alert | None:
    now = timezone.now()
    incident = Incident.objects.filter(tenant_id=tenant_id, closed_at__isnull=True).first()
    if incident is None:
        return None
    closed = Incident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(closed_at=now)
    if not closed or _flap_alerted(tenant_id, now):
        return None  # someone else closed it, or a flapping tenant stays quiet
    took = int((now - incident.opened_at).total_seconds())
    return Alert.objects.create(
        tenant_id=tenant_id,
        incident=incident,
        kind=Alert.Kind.RECOVERED,
        old_status=old,
        new_status=new,
        reason=f"{reason} (down for {took} s)",
    )


def record_down_bulk(*, rows: Iterable[tuple[uuid.UUID, str]], old: str, new: str) -> int:
    """The stale check's set-based version: one incident and one alert per tenant not yet down.

    ``rows`` are (tenant id, reason). A fixed number of queries, whatever their number.
    """
    reasons = dict(rows)
    if not reasons:
        return 0
    now = timezone.now()
    already = set(
        Incident.objects.filter(tenant_id__in=reasons, closed_at__isnull=True).values_list(
            "tenant_id", flat=True
        )
    )
    fresh = {tenant_id: reason for tenant_id, reason in reasons.items() if tenant_id not in already}
    incidents = Incident.objects.bulk_create(
        [Incident(tenant_id=t, reason=r, opened_at=now, last_alert_at=now) for t, r in fresh.items()]
    )
    Alert.objects.bulk_create(
        [
            Alert(
                tenant_id=i.tenant_id,
                incident=i,
                kind=Alert.Kind.DOWN,
                old_status=old,
                new_status=new,
                reason=i.reason,
            )
            for i in incidents
        ]
    )
    return len(incidents)


def alerts_remind(*, now: datetime | None = None) -> int:
    """A reminder for each incident still open ``ALERT_REMINDER_HOURS`` after its last alert."""
    now = now or timezone.now()
    due_before = now - timedelta(hours=settings.ALERT_REMINDER_HOURS)
    reminded = 0
    for incident in Incident.objects.filter(closed_at__isnull=True, last_alert_at__lt=due_before)[:500]:
        # Conditional: two checkers running at once remind once.
        if Incident.objects.filter(pk=incident.pk, last_alert_at=incident.last_alert_at).update(
            last_alert_at=now
        ):
            hours = int((now - incident.opened_at).total_seconds() // 3600)
            Alert.objects.create(
                tenant_id=incident.tenant_id,
                incident=incident,
                kind=Alert.Kind.REMINDER,
                reason=f"still down after {hours} h: {incident.reason}",
            )
            reminded += 1
    return reminded


# --- delivery ------------------------------------------------------------------------------


def _recipients() -> list[str]:
    if settings.ALERT_EMAILS:
        return list(settings.ALERT_EMAILS)
    return list(User.objects.filter(role=User.Role.STAFF, is_active=True).values_list("email", flat=True))


def alert_payload(alert: Alert, tenant: Tenant) -> dict:
    return {
        "kind": alert.kind,
        "tenant_id": str(alert.tenant_id),
        "tenant": tenant.name,
        "old_status": alert.old_status,
        "new_status": alert.new_status,
        "reason": alert.reason,
        "at": alert.created_at.isoformat(),
    }


def _post_webhook(payload: dict) -> None:
    # The URL's scheme is checked (http or https) when the settings load.
    request = urllib.request.Request(  # noqa: S310
        settings.ALERT_WEBHOOK_URL,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


def _deliver_one(alert: Alert) -> None:
    tenant = alert.tenant
    payload = alert_payload(alert, tenant)
    if alert.emailed_at is None:  # a retry for the webhook does not email again
        subject = f"[WhatsApp platform] {tenant.name}: {alert.get_kind_display()}"
        body = "\n".join(f"{key}: {value}" for key, value in payload.items())
        send_mail(subject, body, None, _recipients(), fail_silently=False)
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
    if settings.ALERT_WEBHOOK_URL:
        _post_webhook(payload)


def alerts_deliver(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver due alerts; a failure is retried with backoff, then given up with the reason."""
    now = now or timezone.now()
    delivered = 0
    due = Alert.objects.filter(delivery=Alert.Delivery.PENDING, next_attempt_at__lte=now).order_by("id")
    for alert_id in list(due.values_list("id", flat=True)[:limit]):
        claimed = Alert.objects.filter(pk=alert_id, delivery=Alert.Delivery.PENDING).update(
            delivery=Alert.Delivery.SENDING, attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another deliverer has it
        alert = Alert.objects.select_related("tenant").get(pk=alert_id)
        try:
            _deliver_one(alert)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            _retry_later(alert, f"{type(exc).__name__}: {exc}"[:500], now)
            continue
        Alert.objects.filter(pk=alert_id).update(
            delivery=Alert.Delivery.SENT, delivered_at=timezone.now(), last_error=""
        )
        delivered += 1
        logger.info(
            "alert sent", extra={"tenant_id": str(alert.tenant_id), "alert": alert.kind, "alert_id": alert.id}
        )
    return delivered


def _retry_later(alert: Alert, error: str, now: datetime) -> None:
    give_up = alert.attempts >= settings.ALERT_MAX_ATTEMPTS
    delay = backoff_delay(alert.attempts, base_seconds=RETRY_BASE_SECONDS, cap_seconds=RETRY_CAP_SECONDS)
    Alert.objects.filter(pk=alert.pk).update(
        delivery=Alert.Delivery.FAILED if give_up else Alert.Delivery.PENDING,
        next_attempt_at=now + delay,
        last_error=error,
    )
    logger.warning(
        "alert delivery failed",
        extra={
            "tenant_id": str(alert.tenant_id),
            "alert_id": alert.id,
            "attempts": alert.attempts,
            "error": error,
            "gave_up": give_up,
        },
    )

"""The transactional outbox: an event and its deliveries are written with the fact they report.

Called inside the fact's own transaction (a message logged, a send recorded, a state
changed): if the fact commits, its event is there for the dispatcher; if it rolls back, so
does the event. Nothing is sent from here.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WorkerEvent
from tenants.webhooks import events


def _subscribed(tenant_ids: Iterable[uuid.UUID], event_type: str) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Per tenant, its enabled endpoints that asked for this type (a paused one still queues)."""
    endpoints = WebhookEndpoint.objects.filter(tenant_id__in=tenant_ids, enabled=True).only(
        "id", "tenant_id", "event_types"
    )
    subscribed: dict[uuid.UUID, list[uuid.UUID]] = {}
    for endpoint in endpoints:
        if event_type in endpoint.event_types:
            subscribed.setdefault(endpoint.tenant_id, []).append(endpoint.id)
    return subscribed


def _deliveries(
    written: Iterable[WebhookEvent],
    endpoint_ids: dict[uuid.UUID, list[uuid.UUID]],
    order_key: str,
    at: datetime,
) -> list[WebhookDelivery]:
    """One delivery of each event to each of its tenant's endpoints, due at once."""
    return [
        WebhookDelivery(
            tenant_id=event.tenant_id,
            endpoint_id=endpoint_id,
            event=event,
            event_type=event.type,
            order_key=order_key,
            next_attempt_at=at,
        )
        for event in written
        for endpoint_id in endpoint_ids[event.tenant_id]
    ]


def body(*, event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"type": event_type, "timestamp": at.isoformat(), "data": data}


def webhook_emit(
    *,
    tenant_id: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    order_key: str = "",
    endpoints: Iterable[WebhookEndpoint] | None = None,
    at: datetime | None = None,
) -> WebhookEvent | None:
    """Queue an event for every endpoint of the tenant subscribed to it; None when none is.

    ``order_key``: deliveries sharing it reach an endpoint in the order they were written.
    ``endpoints``: these only, subscribed or not (a test event).
    """
    if endpoints is not None:
        targets = {tenant_id: [endpoint.id for endpoint in endpoints]}
    else:
        targets = _subscribed([tenant_id], event_type)
    if not targets.get(tenant_id):
        return None
    at = at or timezone.now()
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            tenant_id=tenant_id, type=event_type, payload=body(event_type=event_type, data=data, at=at)
        )
        WebhookDelivery.objects.bulk_create(_deliveries([event], targets, order_key, at))
    return event


def webhook_emit_bulk(
    *, event_type: str, data_by_tenant: dict[uuid.UUID, dict[str, Any]], order_key: str = "", at: datetime
) -> int:
    """``webhook_emit`` for many tenants at once, in a fixed number of queries; returns the events written.

    For set-based facts such as the stale check marking a thousand workers in one statement.
    """
    if not data_by_tenant:
        return 0
    targets = _subscribed(data_by_tenant, event_type)
    if not targets:
        return 0
    with transaction.atomic():
        written = WebhookEvent.objects.bulk_create(
            WebhookEvent(
                tenant_id=tenant_id,
                type=event_type,
                payload=body(event_type=event_type, data=data_by_tenant[tenant_id], at=at),
                created_at=at,
            )
            for tenant_id in targets
        )
        WebhookDelivery.objects.bulk_create(_deliveries(written, targets, order_key, at))
    return len(written)


def webhook_emit_transition(*, tenant_id: uuid.UUID, kind: str, old: str, new: str, reason: str) -> None:
    """A session state or worker status change, as ``session.status`` / ``worker.status``.

    Both are ordered (key ``session``): a receiver never learns "connected" before the
    "QR needed" that came first.
    """
    at = timezone.now()
    if kind == WorkerEvent.Kind.SESSION_STATE:
        data = events.session_status(old=old, new=new, reason=reason, at=at)
        event_type = events.SESSION_STATUS
    elif kind == WorkerEvent.Kind.WORKER_STATUS:
        data = events.worker_status(old=old, new=new, reason=reason, at=at)
        event_type = events.WORKER_STATUS
    else:
        return
    webhook_emit(tenant_id=tenant_id, event_type=event_type, data=data, order_key="session", at=at)

"""Reads of webhooks: a tenant's endpoints, its deliveries a page at a time, the backlog."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import BadRequest
from django.db.models import BooleanField, Exists, ExpressionWrapper, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from tenants.models import Tenant, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events

# Not delivered yet and not given up: still to be attempted.
WAITING = (WebhookDelivery.State.PENDING, WebhookDelivery.State.RETRYING)
DELIVERY_PAGE_SIZE = 50
MAX_DELIVERY_PAGE_SIZE = 200
MAX_ID = 2**63 - 1  # a BigAutoField's largest; a bigger number names no delivery


def behind_an_earlier_one() -> Q:
    """The ordering rule: a delivery with an order key waits while an earlier one of its key
    (to the same endpoint) is still waiting. The claim skips these; the pages say so."""
    earlier_waiting = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        order_key=OuterRef("order_key"),
        id__lt=OuterRef("id"),
        state__in=WAITING,
    )
    return ~Q(order_key="") & Q(Exists(earlier_waiting))


def _with_queue_place(rows: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
    """Each row's ``behind_earlier``: true while it waits for an earlier one of its chat."""
    return rows.annotate(
        behind_earlier=ExpressionWrapper(
            Q(state__in=WAITING) & behind_an_earlier_one(), output_field=BooleanField()
        )
    )


def endpoints_of(*, tenant: Tenant) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(tenant=tenant).order_by("created_at"))


def endpoint_of(*, tenant: Tenant, endpoint_id: object) -> WebhookEndpoint | None:
    """The tenant's own endpoint with this id; None for another tenant's or none at all."""
    try:
        key = uuid.UUID(str(endpoint_id))
    except ValueError:
        return None
    return WebhookEndpoint.objects.filter(tenant=tenant, pk=key).first()


def delivery_of(*, tenant: Tenant, delivery_id: object) -> WebhookDelivery | None:
    """The tenant's own delivery, with its event, endpoint and attempts; None otherwise."""
    try:
        number = int(str(delivery_id))
    except ValueError:
        return None
    if not 0 < number <= MAX_ID:
        return None
    return (
        _with_queue_place(WebhookDelivery.objects.filter(tenant=tenant, pk=number))
        .select_related("event", "endpoint")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("started_at", "id"))
        )
        .first()
    )


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    next_cursor: str | None  # pass as ``before`` for the next, older page


def parse_state(value: str | None) -> str | None:
    if not value:
        return None
    state = value.upper()
    if state not in WebhookDelivery.State.values:
        raise BadRequest(f"state must be one of {', '.join(s.lower() for s in WebhookDelivery.State.values)}")
    return state


def parse_event_type(value: str | None) -> str | None:
    if not value:
        return None
    if value not in events.ALL_TYPES:
        raise BadRequest(f"event must be one of {', '.join(events.ALL_TYPES)}")
    return value


def parse_endpoint(*, tenant: Tenant, value: str | None) -> WebhookEndpoint | None:
    """The ``endpoint`` filter: one of the tenant's own endpoints (another tenant's is not found)."""
    if not value:
        return None
    endpoint = endpoint_of(tenant=tenant, endpoint_id=value)
    if endpoint is None:
        raise BadRequest("endpoint must be the id of one of your webhook endpoints")
    return endpoint


def parse_before(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        raise BadRequest("before must be the next_cursor of a page")
    return int(value)


def delivery_page(
    *,
    tenant: Tenant,
    limit: int = DELIVERY_PAGE_SIZE,
    before: int | None = None,
    state: str | None = None,
    event_type: str | None = None,
    endpoint: WebhookEndpoint | None = None,
) -> DeliveryPage:
    """One page of the tenant's deliveries, newest first (keyset paging on the id)."""
    rows: QuerySet[WebhookDelivery] = WebhookDelivery.objects.filter(tenant=tenant)
    if state:
        rows = rows.filter(state=state)
    if event_type:
        rows = rows.filter(event_type=event_type)
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    if before is not None:
        rows = rows.filter(id__lt=before)
    found = list(_with_queue_place(rows).select_related("endpoint").order_by("-id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return DeliveryPage(deliveries=found, next_cursor=str(found[-1].pk) if more and found else None)


@dataclass(frozen=True)
class Backlog:
    tenant_id: str
    endpoint_id: str
    oldest_seconds: float


def undelivered_backlog(*, now: datetime | None = None) -> list[Backlog]:
    """Per endpoint with anything waiting: the age of its oldest undelivered event (/metrics)."""
    now = now or timezone.now()
    rows = (
        WebhookDelivery.objects.filter(state__in=WAITING)
        .values("tenant_id", "endpoint_id")
        .annotate(oldest=Min("created_at"))
    )
    return [
        Backlog(
            tenant_id=str(row["tenant_id"]),
            endpoint_id=str(row["endpoint_id"]),
            oldest_seconds=max(0.0, (now - row["oldest"]).total_seconds()),
        )
        for row in rows
    ]

"""The operations dashboard's one read: every tenant's health, most urgent first.

It covers every tenant with a fixed number of queries, whatever their number: tenants with
their worker and session (plus each one's last session state before the window, as a
correlated subquery), the timeline events of the window, the recent errors and the hourly
message counts. Uptime, restarts and recovery times then come from ``tenants.history``'s
rules, the ones the portal uses for one tenant.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import CharField, Func, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tenants.history import (
    DAY,
    WEEK,
    Recovery,
    recovery_from_events,
    state_at,
    stop_words,
    uptime_from_events,
)
from tenants.models import Tenant, WhatsAppSession, WorkerEvent, WorkerProcess, time_since
from tenants.selectors import HourCount, hourly_messages

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

Kind = WorkerEvent.Kind
State = WhatsAppSession.State
WorkerStatus = WorkerProcess.Status

RECENT_ERRORS = 20

# Session states that need a look even while the worker runs (the dashboard's second group).
TROUBLED_STATES = frozenset(
    {
        State.DEGRADED,
        State.DISCONNECTED,
        State.LOGGED_OUT,
        State.AUTH_FAILURE,
        State.CONFLICT,
        State.PHONE_UNREACHABLE,
    }
)

# Why a tile is near the top; the rank is its position in the ordering.
ATTENTION_ERROR, ATTENTION_SESSION, ATTENTION_STALE, ATTENTION_NO_SCAN, ATTENTION_NONE = 0, 1, 2, 3, 4

@dataclass(frozen=True)
class TenantOverview:
    tenant_id: uuid.UUID
    name: str
    tenant_status: str
    worker_status: str | None  # None: the tenant has no worker row
    session_state: str | None
    heartbeat_age: timedelta | None
    browser_memory_mb: float | None
    attention: int
    stop_words: str  # why a stopped worker needs a person, in words; "" when it doesn't
    uptime_day: float | None
    uptime_week: float | None
    recovery: Recovery


@dataclass(frozen=True)
class OperationsOverview:
    now: datetime
    tenants: list[TenantOverview]  # most urgent first
    workers_by_status: dict[str, int]
    hourly_messages: list[HourCount]
    recent_errors: list[WorkerEvent]  # each with its tenant's name loaded


def attention(
    *,
    tenant_status: str,
    worker_status: str | None,
    session_state: str | None,
    heartbeat_age: timedelta | None,
    stale_after: timedelta,
    stop_reason: str | None = None,
) -> int:
    """Where a tenant sorts on the dashboard: errors, troubled sessions, stale workers,
    workers stopped for want of a scan, the rest."""
    if worker_status == WorkerStatus.ERROR or tenant_status == Tenant.Status.ERROR:
        return ATTENTION_ERROR
    if session_state in TROUBLED_STATES:
        return ATTENTION_SESSION
    # As the stale check sees it: a RUNNING worker that never beat is as stale as a silent one.
    if worker_status == WorkerStatus.RUNNING and (heartbeat_age is None or heartbeat_age > stale_after):
        return ATTENTION_STALE
    if stop_words(worker_status, stop_reason):
        return ATTENTION_NO_SCAN
    return ATTENTION_NONE


# --- Queries ---------------------------------------------------------------------------------


class _Unindexed(Func):
    """A column's value; on SQLite written ``+column`` so that no index is used for it.

    Without statistics SQLite answers "each tenant's last state before the window" from the
    (kind, created_at) index, scanning every tenant's old states once per tenant (0.2 s for
    1,000 tenants with one old state each, and quadratic beyond); the (tenant, created_at)
    index takes one step per tenant. PostgreSQL's planner picks that index by itself.
    """

    arity = 1
    template = "%(expressions)s"

    # Whatever Func.as_sql returns (a list of params on Django 5.2; the stubs follow 6.0's tuple).
    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> "_AsSqlType":
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


class _UnindexedKind(TypedDict):
    """The alias _tenant_events adds, so that the type checker knows its filters' keyword."""

    unindexed_kind: str


def _tenant_events(tenant_ref: str = "pk") -> "QuerySet[WithAnnotations[WorkerEvent, _UnindexedKind]]":
    """The timeline of the outer query's tenant (``tenant_ref`` names its id), newest first."""
    return (
        WorkerEvent.objects.alias(unindexed_kind=_Unindexed("kind", output_field=CharField()))
        .filter(tenant=OuterRef(tenant_ref))
        .order_by("-created_at", "-id")
    )


def last_stop_reason(tenant_ref: str = "pk") -> Subquery:
    """The reason of the tenant's last stop, for a query of tenants (or of rows naming one)."""
    stops = _tenant_events(tenant_ref).filter(
        unindexed_kind=Kind.WORKER_STATUS, new_value=WorkerStatus.STOPPED
    )
    return Subquery(stops.values("reason")[:1])


def _tenants_with_state_before(week_start: datetime) -> list[Mapping[str, Any]]:
    last_state = _tenant_events().filter(unindexed_kind=Kind.SESSION_STATE, created_at__lt=week_start)
    # Plain values, not model instances: a third of the time for 1,000 tenants, and the
    # session's QR image is never read.
    return list(
        Tenant.objects.annotate(
            state_before_week=Subquery(last_state.values("new_value")[:1]), stop_reason=last_stop_reason()
        )
        .order_by()
        .values(
            "id",
            "name",
            "status",
            "state_before_week",
            "stop_reason",
            "worker__status",
            "worker__browser_memory_mb",
            "session__state",
            "session__last_seen_at",
        )
    )


def _timeline(week_start: datetime, now: datetime) -> dict[uuid.UUID, list[tuple[datetime, str, str]]]:
    rows = (
        WorkerEvent.objects.filter(created_at__gte=week_start, created_at__lte=now)
        .filter(
            Q(kind__in=[Kind.SESSION_STATE, Kind.STALE_MARKED])
            | Q(kind=Kind.WORKER_STATUS, new_value__in=[WorkerStatus.ERROR, WorkerStatus.RUNNING])
        )
        .order_by("created_at", "id")
        .values_list("tenant_id", "created_at", "kind", "new_value")
    )
    by_tenant: dict[uuid.UUID, list[tuple[datetime, str, str]]] = defaultdict(list)
    for tenant_id, created_at, kind, new_value in rows:
        by_tenant[tenant_id].append((created_at, kind, new_value))
    return by_tenant


def recent_errors(limit: int = RECENT_ERRORS) -> list[WorkerEvent]:
    return list(
        WorkerEvent.objects.filter(
            Q(kind__in=[Kind.ERROR, Kind.STALE_MARKED])
            | Q(kind=Kind.WORKER_STATUS, new_value=WorkerStatus.ERROR)
        )
        .select_related("tenant")
        .only("id", "kind", "old_value", "new_value", "reason", "created_at", "tenant__id", "tenant__name")
        .order_by("-created_at", "-id")[:limit]
    )


def _overview_of(
    tenant: Mapping[str, Any],
    events: list[tuple[datetime, str, str]],
    *,
    now: datetime,
    stale_after: timedelta,
) -> TenantOverview:
    states = [(moment, value) for moment, kind, value in events if kind == Kind.SESSION_STATE]
    before_week = tenant["state_before_week"]
    before_day, day_events = state_at(before_week, states, now - DAY)
    heartbeat_age = time_since(tenant["session__last_seen_at"], now)
    return TenantOverview(
        tenant_id=tenant["id"],
        name=tenant["name"],
        tenant_status=tenant["status"],
        worker_status=tenant["worker__status"],
        session_state=tenant["session__state"],
        heartbeat_age=heartbeat_age,
        browser_memory_mb=tenant["worker__browser_memory_mb"],
        attention=attention(
            tenant_status=tenant["status"],
            worker_status=tenant["worker__status"],
            session_state=tenant["session__state"],
            heartbeat_age=heartbeat_age,
            stale_after=stale_after,
            stop_reason=tenant["stop_reason"],
        ),
        stop_words=stop_words(tenant["worker__status"], tenant["stop_reason"]),
        uptime_day=uptime_from_events(before_day, day_events, now - DAY, now),
        uptime_week=uptime_from_events(before_week, states, now - WEEK, now),
        recovery=recovery_from_events(events),
    )


def operations_overview(*, now: datetime | None = None) -> OperationsOverview:
    """Every tenant's health, most urgent first, in four queries whatever their number."""
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.STALE_WORKER_THRESHOLD_SECONDS)
    week_start = now - WEEK
    tenants = _tenants_with_state_before(week_start)
    timeline = _timeline(week_start, now)
    overviews = [
        _overview_of(tenant, timeline.get(tenant["id"], []), now=now, stale_after=stale_after)
        for tenant in tenants
    ]
    overviews.sort(key=lambda row: (row.attention, row.name.casefold(), str(row.tenant_id)))
    workers_by_status: dict[str, int] = dict.fromkeys(WorkerStatus.values, 0)
    for row in overviews:
        if row.worker_status is not None:
            workers_by_status[row.worker_status] = workers_by_status.get(row.worker_status, 0) + 1
    return OperationsOverview(
        now=now,
        tenants=overviews,
        workers_by_status=workers_by_status,
        hourly_messages=hourly_messages(now),
        recent_errors=recent_errors(),
    )



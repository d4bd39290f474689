"""The staff's operational reads: the fleet dashboard and a tenant's log files.

The dashboard covers every tenant with a fixed number of queries, whatever their number:
tenants with their worker and session (plus each one's last session state before the
window, as a correlated subquery), the timeline events of the window, the recent errors and
the hourly message counts. Uptime, restarts and recovery times are then computed in Python
by the pure functions below, which follow ``tenants.selectors.session_uptime``'s rules.
"""

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone

from tenants.logfiles import LineFilter, tail
from tenants.logs import rotated_logs, tenant_log_path
from tenants.models import MessageLog, Tenant, WhatsAppSession, WorkerEvent, WorkerProcess

logger = logging.getLogger(__name__)

Kind = WorkerEvent.Kind
State = WhatsAppSession.State
WorkerStatus = WorkerProcess.Status

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
CHART_HOURS = 24
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

# How the worker's reason begins when it stopped because nobody scanned its QR codes
# (workers/runtime.py): a stop that waits for a person, unlike one staff asked for.
QR_NOT_SCANNED = "QR code not scanned"
NO_SCAN_WORDS = "No code was scanned in time"


@dataclass(frozen=True)
class Recovery:
    """A worker's failures over a window: transitions into ERROR, and how long they lasted."""

    failures: int
    recovered: int  # failures that ended with the worker RUNNING again inside the window
    mean_time_to_recover: timedelta | None
    down_since: datetime | None  # set while the last failure has not recovered yet


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
class HourCount:
    hour: datetime  # the start of the hour
    incoming: int
    outgoing: int


@dataclass(frozen=True)
class OperationsOverview:
    now: datetime
    tenants: list[TenantOverview]  # most urgent first
    workers_by_status: dict[str, int]
    hourly_messages: list[HourCount]
    recent_errors: list[WorkerEvent]  # each with its tenant's name loaded


# --- Pure functions --------------------------------------------------------------------------


def state_at(
    before_state: str | None, events: Sequence[tuple[datetime, str]], start: datetime
) -> tuple[str | None, list[tuple[datetime, str]]]:
    """Split a window's events at ``start``: the state just before it, and the events from it.

    ``before_state`` is the state before the first of ``events``; events are oldest first.
    """
    state = before_state
    for index, (moment, value) in enumerate(events):
        if moment >= start:
            return state, list(events[index:])
        state = value
    return state, []


def uptime_from_events(
    before_state: str | None,
    events: Sequence[tuple[datetime, str]],
    start: datetime,
    now: datetime,
) -> float | None:
    """The share of ``start``..``now`` the session was CONNECTED; None if nothing is known.

    ``before_state`` is the last state recorded before ``start`` (None: none was), and
    ``events`` the (time, new state) changes from ``start`` on, oldest first. As in
    ``session_uptime``, time before the first recorded state doesn't count.
    """
    if before_state is None and not events:
        return None
    current = before_state
    since = start if before_state is not None else events[0][0]
    observed_from = since
    connected = timedelta()
    for moment, value in events:
        if current == State.CONNECTED:
            connected += moment - since
        current, since = value, moment
    if current == State.CONNECTED:
        connected += now - since
    observed = now - observed_from
    return connected / observed if observed > timedelta() else None


def is_failure(kind: str, new_value: str) -> bool:
    return kind == Kind.STALE_MARKED or (kind == Kind.WORKER_STATUS and new_value == WorkerStatus.ERROR)


def is_recovery(kind: str, new_value: str) -> bool:
    return kind == Kind.WORKER_STATUS and new_value == WorkerStatus.RUNNING


def recovery_from_events(events: Iterable[tuple[datetime, str, str]]) -> Recovery:
    """Failures and mean time to recover from (time, kind, new value) events, oldest first.

    Every transition into ERROR counts as a failure; an outage runs from the first of them
    until the worker is RUNNING again, so a worker that fails twice on its way back up is one
    outage, measured once.
    """
    failures = 0
    durations: list[timedelta] = []
    down_since: datetime | None = None
    for moment, kind, value in events:
        if is_failure(kind, value):
            failures += 1
            down_since = down_since or moment
        elif is_recovery(kind, value) and down_since is not None:
            durations.append(moment - down_since)
            down_since = None
    mean = sum(durations, timedelta()) / len(durations) if durations else None
    return Recovery(
        failures=failures, recovered=len(durations), mean_time_to_recover=mean, down_since=down_since
    )


def stop_words(worker_status: str | None, stop_reason: str | None) -> str:
    """Why a stopped worker waits for a person, in words, from its last stop's reason; or ""."""
    if worker_status == WorkerStatus.STOPPED and (stop_reason or "").startswith(QR_NOT_SCANNED):
        return NO_SCAN_WORDS
    return ""


def worker_words(worker_status: str | None, session_state: str | None) -> str:
    """A worker's status in words: starting, it spends the whole QR phase waiting for a scan."""
    if worker_status is None:
        return "no worker"
    if worker_status == WorkerStatus.STARTING and session_state == State.QR:
        return State.QR.label
    return WorkerStatus(worker_status).label


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


def hour_buckets(
    counts: Iterable[tuple[datetime, str, int]], *, first_hour: datetime, hours: int = CHART_HOURS
) -> list[HourCount]:
    """One entry per hour from ``first_hour``, zeros included, from (hour, direction, count) rows."""
    by_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour, direction, count in counts:
        by_hour[hour][direction] = count
    buckets = []
    for offset in range(hours):
        hour = first_hour + timedelta(hours=offset)
        found = by_hour.get(hour, {})
        buckets.append(
            HourCount(
                hour=hour,
                incoming=found.get(MessageLog.Direction.IN, 0),
                outgoing=found.get(MessageLog.Direction.OUT, 0),
            )
        )
    return buckets


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

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _tenant_events(tenant_ref: str = "pk") -> QuerySet[WorkerEvent]:
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


def _tenants_with_state_before(week_start: datetime) -> list[dict[str, Any]]:
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


def hourly_messages(now: datetime, tenant: Tenant | None = None) -> list[HourCount]:
    """Messages per hour over the chart's hours, zeros included: all tenants', or one's."""
    first_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=CHART_HOURS - 1
    )
    messages = MessageLog.objects.all() if tenant is None else MessageLog.objects.filter(tenant=tenant)
    rows = (
        messages.filter(created_at__gte=first_hour, created_at__lte=now)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "direction")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("hour", "direction", "n")
    )
    return hour_buckets(rows, first_hour=first_hour)


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
    tenant: dict[str, Any], events: list[tuple[datetime, str, str]], *, now: datetime, stale_after: timedelta
) -> TenantOverview:
    states = [(moment, value) for moment, kind, value in events if kind == Kind.SESSION_STATE]
    before_week = tenant["state_before_week"]
    before_day, day_events = state_at(before_week, states, now - DAY)
    last_seen = tenant["session__last_seen_at"]
    heartbeat_age = now - last_seen if last_seen else None
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


# --- A tenant's log files --------------------------------------------------------------------

# ``<tenant_id>.log.20261129T145500`` (a fraction of a second may follow): the rotated copies.
_ROTATED_SUFFIX = re.compile(r"\d{8}T\d{6}\d*")


def tenant_log_files(tenant_id: uuid.UUID) -> list[Path]:
    """The tenant's current log file, then its rotated copies newest first (as ``tail`` reads)."""
    current = tenant_log_path(tenant_id)
    prefix = f"{current.name}."
    # Only the names rotation gives: a stray ``.bak`` or an editor's swap file is not the log.
    rotated = [
        path for path in rotated_logs(current) if _ROTATED_SUFFIX.fullmatch(path.name.removeprefix(prefix))
    ]
    return [current, *rotated]


@dataclass(frozen=True)
class TenantLog:
    files: list[Path]  # those that exist, in the order read
    records: list[dict]  # oldest first


def tenant_log_tail(*, tenant_id: uuid.UUID, lines: int, line_filter: LineFilter) -> TenantLog:
    paths = tenant_log_files(tenant_id)
    records = tail(paths, lines=lines, line_filter=line_filter)
    return TenantLog(files=[path for path in paths if path.exists()], records=records)

"""The stale-worker check: RUNNING workers whose heartbeat stopped are marked ERROR.

Set-based: the same handful of queries whether 10 or 10,000 workers are checked. Safe when
two copies run at once: on PostgreSQL each claims its rows with ``FOR UPDATE SKIP LOCKED`` and
re-checks the status in the UPDATE; on SQLite the IMMEDIATE transaction serialises them.
A worker is marked, and alerted, once.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants import alerts
from tenants.counters import counter_increment
from tenants.models import Tenant, WorkerEvent, WorkerProcess, seconds_since

logger = logging.getLogger(__name__)

RUNNING, ERROR = WorkerProcess.Status.RUNNING, WorkerProcess.Status.ERROR


@dataclass(frozen=True)
class StaleCheck:
    checked: int
    marked: int
    took_ms: float


def _reason(age: int | None) -> str:
    return "no heartbeat ever recorded" if age is None else f"no heartbeat for {age} s"


def workers_mark_stale(*, now: datetime | None = None, threshold_seconds: int | None = None) -> StaleCheck:
    started = time.perf_counter()
    now = now or timezone.now()
    threshold = threshold_seconds or settings.STALE_WORKER_THRESHOLD_SECONDS
    cutoff = now - timedelta(seconds=threshold)
    with transaction.atomic():
        running = WorkerProcess.objects.filter(status=RUNNING)
        checked = running.count()
        stale = running.filter(
            Q(tenant__session__last_seen_at__lt=cutoff) | Q(tenant__session__last_seen_at__isnull=True)
        )
        rows = list(
            stale.select_for_update(skip_locked=True, of=("self",)).values_list(
                "id", "tenant_id", "process_name", "host", "tenant__session__last_seen_at", "tenant__status"
            )
        )
        marked = _mark(rows, now=now, threshold=threshold)
    took_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "stale check done",
        extra={"checked": checked, "marked": marked, "took_ms": round(took_ms, 1), "threshold_s": threshold},
    )
    return StaleCheck(checked=checked, marked=marked, took_ms=took_ms)


def _mark(rows: list[tuple], *, now: datetime, threshold: int) -> int:
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    WorkerProcess.objects.filter(id__in=ids, status=RUNNING).update(
        status=ERROR, last_error=f"no heartbeat for over {threshold} s (stale check)", updated_at=now
    )
    reasons = {}
    events = []
    for _, tenant_id, process_name, host, last_seen, tenant_status in rows:
        age = seconds_since(last_seen, now)
        reasons[tenant_id] = _reason(age)
        events.append(
            WorkerEvent(
                tenant_id=tenant_id,
                kind=WorkerEvent.Kind.STALE_MARKED,
                old_value=RUNNING,
                new_value=ERROR,
                reason=reasons[tenant_id],
                created_at=now,
            )
        )
        if tenant_status not in (Tenant.Status.ERROR, Tenant.Status.SUSPENDED):
            events.append(
                WorkerEvent(
                    tenant_id=tenant_id,
                    kind=WorkerEvent.Kind.TENANT_STATUS,
                    old_value=tenant_status,
                    new_value=Tenant.Status.ERROR,
                    reason=reasons[tenant_id],
                    created_at=now,
                )
            )
        logger.warning(
            "stale worker marked",
            extra={
                "tenant_id": str(tenant_id),
                "process_name": process_name,
                "host": host,
                "heartbeat_age_s": age,
            },
        )
    Tenant.objects.filter(id__in=reasons).exclude(
        status__in=[Tenant.Status.ERROR, Tenant.Status.SUSPENDED]
    ).update(status=Tenant.Status.ERROR, updated_at=now)
    WorkerEvent.objects.bulk_create(events)
    alerts.record_down_bulk(rows=reasons.items(), old=RUNNING, new=ERROR)
    counter_increment(metric="whatsapp_stale_marked_total", by=len(rows))
    return len(rows)

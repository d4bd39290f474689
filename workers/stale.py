"""The stale-worker check: which RUNNING workers' heartbeat stopped. Marking them ERROR (their
status, timeline, tenant and alert) is ``tenants.services.workers_mark_stale_bulk``'s.

Set-based: the same handful of queries whether 10 or 10,000 workers are checked. Safe when
two copies run at once: on PostgreSQL each claims its rows with ``FOR UPDATE SKIP LOCKED`` and
re-checks the status in the UPDATE; on SQLite the IMMEDIATE transaction serialises them.
A worker is marked, and alerted, once.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants import services as tenant_services
from tenants.models import WorkerProcess
from tenants.services import StaleWorker
from workers.models import StaleCheckClock

logger = logging.getLogger(__name__)

RUNNING = WorkerProcess.Status.RUNNING
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StaleCheck:
    checked: int
    marked: int
    took_ms: float


def reachable_since(now: datetime) -> datetime:
    """Since when this check has reached the database without a gap (its own record of it).

    Called inside the check's transaction; the row is locked, so two checks at once agree.
    """
    clock, created = StaleCheckClock.objects.select_for_update().get_or_create(
        pk=1, defaults={"reached_at": now, "reachable_since": EPOCH}
    )
    if created:
        return clock.reachable_since
    gap = (now - clock.reached_at).total_seconds()
    if gap > settings.STALE_CHECK_MAX_GAP_SECONDS:
        clock.reachable_since = now
        logger.warning(
            "stale check: no round reached the database for a while; silence counts from now",
            extra={"gap_s": round(gap, 1), "max_gap_s": settings.STALE_CHECK_MAX_GAP_SECONDS},
        )
    clock.reached_at = max(now, clock.reached_at)
    clock.save(update_fields=["reached_at", "reachable_since"])
    return clock.reachable_since


def workers_mark_stale(*, now: datetime | None = None, threshold_seconds: int | None = None) -> StaleCheck:
    """Mark RUNNING workers silent for the threshold: silent since their last heartbeat, or,
    after a gap in the check's own rounds (a database outage), since the database returned."""
    started = time.perf_counter()
    now = now or timezone.now()
    threshold = threshold_seconds or settings.STALE_WORKER_THRESHOLD_SECONDS
    with transaction.atomic():
        running = WorkerProcess.objects.filter(status=RUNNING)
        checked = running.count()
        # Nobody could write a heartbeat while the database was out of reach: a heartbeat
        # older than that is not a sign of death until the threshold has passed again.
        grace = now - reachable_since(now) < timedelta(seconds=threshold)
        marked = 0
        if not grace:
            cutoff = now - timedelta(seconds=threshold)
            stale = running.filter(
                Q(tenant__session__last_seen_at__lt=cutoff) | Q(tenant__session__last_seen_at__isnull=True)
            )
            rows = [
                StaleWorker(*row)
                for row in stale.select_for_update(skip_locked=True, of=("self",)).values_list(
                    "id",
                    "tenant_id",
                    "process_name",
                    "host",
                    "tenant__session__last_seen_at",
                    "tenant__status",
                )
            ]
            marked = tenant_services.workers_mark_stale_bulk(
                workers=rows, now=now, threshold_seconds=threshold
            )
    took_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "stale check done",
        extra={
            "checked": checked,
            "marked": marked,
            "took_ms": round(took_ms, 1),
            "threshold_s": threshold,
            "grace": grace,
        },
    )
    return StaleCheck(checked=checked, marked=marked, took_ms=took_ms)

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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants import services as tenant_services
from tenants.models import WorkerProcess
from tenants.services import StaleWorker

logger = logging.getLogger(__name__)

RUNNING = WorkerProcess.Status.RUNNING


@dataclass(frozen=True)
class StaleCheck:
    checked: int
    marked: int
    took_ms: float


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
        rows = [
            StaleWorker(*row)
            for row in stale.select_for_update(skip_locked=True, of=("self",)).values_list(
                "id", "tenant_id", "process_name", "host", "tenant__session__last_seen_at", "tenant__status"
            )
        ]
        marked = tenant_services.workers_mark_stale_bulk(workers=rows, now=now, threshold_seconds=threshold)
    took_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "stale check done",
        extra={"checked": checked, "marked": marked, "took_ms": round(took_ms, 1), "threshold_s": threshold},
    )
    return StaleCheck(checked=checked, marked=marked, took_ms=took_ms)

"""Stale-check benchmark: wall time and query count with 10,000 workers.

    DATABASE_URL=postgres://... python -m tests.bench.stale      (BENCH_WORKERS=10000)

Baseline: the same check over 10 workers in the same run. A set-based check should run the
same number of queries at any size, and its time should grow far slower than the rows.
"""

import os
import time
import uuid

from tests.bench.harness import bench_database, report, setup_django


def main() -> None:
    setup_django()
    with bench_database():
        run()


def make_workers(count: int, *, seen_seconds_ago: float) -> None:
    """Tenants with RUNNING workers, inserted in bulk (the services would take minutes)."""
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import Tenant, WhatsAppSession, WorkerProcess

    now = timezone.now()
    tenants = [Tenant(id=uuid.uuid4(), name=f"bench-{i}", status="ACTIVE") for i in range(count)]
    Tenant.objects.bulk_create(tenants, batch_size=2000)
    WorkerProcess.objects.bulk_create(
        [
            WorkerProcess(tenant=t, process_name=f"wa-worker-{t.id}", status="RUNNING", host="bench")
            for t in tenants
        ],
        batch_size=2000,
    )
    WhatsAppSession.objects.bulk_create(
        [
            WhatsAppSession(
                tenant=t, state="CONNECTED", last_seen_at=now - timedelta(seconds=seen_seconds_ago)
            )
            for t in tenants
        ],
        batch_size=2000,
    )


def measure(label: str) -> tuple[str, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workers.stale import workers_mark_stale

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = workers_mark_stale(threshold_seconds=120)
        took = time.perf_counter() - started
    return label, took, len(queries), result.marked


def clear() -> None:
    from tenants.models import Tenant

    Tenant.objects.all().delete()


def run() -> None:
    from django.db import connection

    count = int(os.environ.get("BENCH_WORKERS", "10000"))
    rows = []
    make_workers(10, seen_seconds_ago=600)
    rows.append(measure("10 workers, all stale (baseline)"))
    clear()
    make_workers(count, seen_seconds_ago=5)
    rows.append(measure(f"{count:,} workers, none stale"))
    clear()
    make_workers(count, seen_seconds_ago=600)
    rows.append(measure(f"{count:,} workers, all stale"))
    base = rows[0][1]
    report(
        f"stale check on {connection.vendor} (wall time, queries, workers marked)",
        [
            (
                label,
                f"{took * 1000:8.1f} ms, {queries} queries, {marked:,} marked",
                f"{took / base:.1f}x time",
            )
            for label, took, queries, marked in rows
        ],
    )


if __name__ == "__main__":
    main()

"""Database retention: old message logs, timeline events, finished outbound messages and
webhook events.

Rows go in small batches, each its own short transaction, so a purge of millions never
holds long locks; two purges at once can't delete a row twice (a delete finds it or not).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tenants.media import media_delete
from tenants.models import MessageLog, WebhookDelivery, WebhookEvent, WorkerEvent
from workers.models import OutboundMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    what: str
    cutoff: datetime
    matched: int  # what a dry run would delete
    deleted: int
    batches: int
    took_ms: float


def _purge(
    *,
    what: str,
    queryset: models.QuerySet,
    field: str,
    days: int,
    batch_size: int,
    dry_run: bool,
    file_fields: tuple[str, ...] = (),
) -> PurgeResult:
    """Delete rows older than ``days`` a batch at a time; ``file_fields`` name the stored files
    that go with a row, removed once its batch is committed (a file never outlives its row
    by more than a moment, and no row is left pointing at a deleted file)."""
    if days < 1:
        raise ValueError("--older-than must be at least 1 day")
    started = time.perf_counter()
    cutoff = timezone.now() - timedelta(days=days)
    old = queryset.filter(**{f"{field}__lt": cutoff})
    if dry_run:
        return PurgeResult(what, cutoff, old.count(), 0, 0, (time.perf_counter() - started) * 1000)
    deleted = batches = 0
    while True:
        ids = list(old.order_by(field).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        files: list[str] = []
        with transaction.atomic():
            rows = queryset.model.objects.filter(pk__in=ids)
            for names in rows.values_list(*file_fields) if file_fields else ():
                files.extend(name for name in names if name)
            deleted += rows.delete()[1].get(queryset.model._meta.label, 0)
        media_delete(files)
        batches += 1
    took_ms = (time.perf_counter() - started) * 1000
    logger.info(
        "purged",
        extra={
            "what": what,
            "deleted": deleted,
            "batches": batches,
            "older_than_days": days,
            "took_ms": round(took_ms),
        },
    )
    return PurgeResult(what, cutoff, deleted, deleted, batches, took_ms)


def message_logs_purge(*, days: int, batch_size: int = 5000, dry_run: bool = False) -> PurgeResult:
    return _purge(
        what="message logs",
        queryset=MessageLog.objects.all(),
        field="created_at",
        days=days,
        batch_size=batch_size,
        dry_run=dry_run,
        file_fields=("media_file", "media_thumbnail"),
    )


def worker_events_purge(*, days: int, batch_size: int = 5000, dry_run: bool = False) -> PurgeResult:
    return _purge(
        what="worker events",
        queryset=WorkerEvent.objects.all(),
        field="created_at",
        days=days,
        batch_size=batch_size,
        dry_run=dry_run,
    )


def outbound_messages_purge(*, days: int, batch_size: int = 5000, dry_run: bool = False) -> PurgeResult:
    finished = OutboundMessage.objects.filter(
        status__in=[OutboundMessage.Status.SENT, OutboundMessage.Status.FAILED]
    )
    return _purge(
        what="sent and failed outbound messages",
        queryset=finished,
        field="updated_at",
        days=days,
        batch_size=batch_size,
        dry_run=dry_run,
        # A failed one's file (a sent one's went to its message log row).
        file_fields=("media_file", "media_thumbnail"),
    )


def webhook_events_purge(*, days: int, batch_size: int = 5000, dry_run: bool = False) -> PurgeResult:
    """Events older than ``days`` with their deliveries and attempts, once every delivery is
    delivered; one still waiting or dead is kept for twice as long, for the tenant to replay."""
    unfinished_recently = WebhookDelivery.objects.filter(
        event=OuterRef("pk"), created_at__gte=timezone.now() - timedelta(days=2 * days)
    ).exclude(state=WebhookDelivery.State.SUCCEEDED)
    return _purge(
        what="webhook events",
        queryset=WebhookEvent.objects.filter(~Exists(unfinished_recently)),
        field="created_at",
        days=days,
        batch_size=batch_size,
        dry_run=dry_run,
    )

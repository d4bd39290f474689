"""The operations dashboard in the admin's look: one tile per tenant, most urgent first.

A plain function view: staff only, read ``tenants.admin.overview``, render. What is here
besides is presentation: colours, wording and which tiles count as needing a look.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from tenants.admin.overview import (
    ATTENTION_ERROR,
    ATTENTION_NO_SCAN,
    ATTENTION_SESSION,
    ATTENTION_STALE,
    OperationsOverview,
    TenantOverview,
    operations_overview,
)
from tenants.admin.registrations import BADGE_COLOURS
from tenants.charts import message_chart
from tenants.formatting import duration, humanize_age, percent
from tenants.history import worker_words
from tenants.models import Tenant, WhatsAppSession, WorkerProcess

logger = logging.getLogger(__name__)

# --- The operations dashboard ----------------------------------------------------------------

_WHY = {
    ATTENTION_ERROR: "error",
    ATTENTION_SESSION: "session",
    ATTENTION_STALE: "stale",
    ATTENTION_NO_SCAN: "no scan",
}


@dataclass(frozen=True)
class Tile:
    row: TenantOverview
    tone: str
    why: str  # why it sorts near the top; "" for a healthy tenant
    tenant_label: str  # "" while ACTIVE, the normal case, to keep the tiles short
    tenant_tone: str
    worker_label: str
    worker_tone: str
    stop_words: str  # why a stopped worker waits for a person; "" for any other
    session_label: str
    session_tone: str
    heartbeat: str
    memory: str
    uptime_day: str
    uptime_week: str
    restarts: str
    change_url: str
    logs_url: str


class _TenantUrls:
    """The change and log URLs of many tenants, resolved once rather than once per tile."""

    _PLACEHOLDER = uuid.UUID(int=0)

    def __init__(self) -> None:
        self._change = reverse("admin:tenants_tenant_change", args=[self._PLACEHOLDER])
        self._logs = reverse("admin-tenant-logs", args=[self._PLACEHOLDER])

    def change(self, tenant_id: uuid.UUID) -> str:
        return self._change.replace(str(self._PLACEHOLDER), str(tenant_id))

    def logs(self, tenant_id: uuid.UUID) -> str:
        return self._logs.replace(str(self._PLACEHOLDER), str(tenant_id))


def _tone(row: TenantOverview) -> str:
    Status, State = WorkerProcess.Status, WhatsAppSession.State
    if row.attention == ATTENTION_ERROR:
        return "bad"
    if row.attention == ATTENTION_SESSION:
        return BADGE_COLOURS.get(row.session_state or "", "warn")
    if row.attention in (ATTENTION_STALE, ATTENTION_NO_SCAN):
        return "warn"
    if row.tenant_status == Tenant.Status.SUSPENDED or row.worker_status in (None, Status.STOPPED):
        return "off"
    if row.worker_status == Status.RUNNING and row.session_state == State.CONNECTED:
        return "ok"
    return "info"  # on its way up or down: starting, QR shown, stopping


def _restarts(row: TenantOverview, now: datetime) -> str:
    recovery = row.recovery
    if not recovery.failures:
        return "none"
    text = f"{recovery.failures}"
    if recovery.mean_time_to_recover is not None:
        text += f", back in {duration(recovery.mean_time_to_recover)} on average"
    if recovery.down_since is not None:
        text += f"; down for {duration(now - recovery.down_since)} now"
    return text


def _tile(row: TenantOverview, urls: _TenantUrls, now: datetime) -> Tile:
    memory = ""
    # A stopped worker keeps its last sample; shown, it would read as a browser still running.
    if row.browser_memory_mb is not None and row.worker_status != WorkerProcess.Status.STOPPED:
        memory = f"{row.browser_memory_mb:.0f} MB"
    active = row.tenant_status == Tenant.Status.ACTIVE
    return Tile(
        row=row,
        tone=_tone(row),
        why=_WHY.get(row.attention, ""),
        tenant_label="" if active else Tenant.Status(row.tenant_status).label,
        tenant_tone=BADGE_COLOURS.get(row.tenant_status, "off"),
        worker_label=worker_words(row.worker_status, row.session_state),
        worker_tone="warn" if row.stop_words else BADGE_COLOURS.get(row.worker_status or "", "off"),
        stop_words=row.stop_words,
        session_label=WhatsAppSession.State(row.session_state).label if row.session_state else "no session",
        session_tone=BADGE_COLOURS.get(row.session_state or "", "off"),
        heartbeat=humanize_age(row.heartbeat_age),
        memory=memory,
        uptime_day=percent(row.uptime_day),
        uptime_week=percent(row.uptime_week),
        restarts=_restarts(row, now),
        change_url=urls.change(row.tenant_id),
        logs_url=urls.logs(row.tenant_id),
    )


def _dashboard_context(overview: OperationsOverview) -> dict[str, Any]:
    urls = _TenantUrls()
    tiles = [_tile(row, urls, overview.now) for row in overview.tenants]
    return {
        "title": "Operations dashboard",
        "overview": overview,
        "tiles": tiles,
        "attention": {
            why.replace(" ", "_"): sum(1 for tile in tiles if tile.why == why) for why in _WHY.values()
        },
        "worker_counts": _worker_counts(overview),
        "chart": message_chart(overview.hourly_messages),
        "errors": [(event, urls.logs(event.tenant_id)) for event in overview.recent_errors],
        "stale_seconds": settings.STALE_WORKER_THRESHOLD_SECONDS,
    }


def _worker_counts(overview: OperationsOverview) -> list[tuple[str, str, int]]:
    """Workers by status, with those waiting for a scan apart from the other starting ones."""
    qr = WhatsAppSession.State.QR
    words = [worker_words(row.worker_status, row.session_state) for row in overview.tenants]
    waiting = words.count(qr.label)
    counts = []
    for status, count in overview.workers_by_status.items():
        label, tone = WorkerProcess.Status(status).label, BADGE_COLOURS.get(status, "off")
        if status == WorkerProcess.Status.STARTING:
            counts += [(label, tone, count - waiting), (qr.label, BADGE_COLOURS[qr], waiting)]
        else:
            counts.append((label, tone, count))
    return counts


@staff_member_required
def operations(request: HttpRequest) -> HttpResponse:
    context = _dashboard_context(operations_overview())
    return render(request, "admin/operations.html", {**admin.site.each_context(request), **context})



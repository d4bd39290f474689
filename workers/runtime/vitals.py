"""Heartbeat and vitals: proof that the session answers, and what its browser costs.

Only a page where wa-js answers a round trip (WhatsApp's own ``conn.isMainReady``) proves
the session alive: a frozen page stops the heartbeat, and the stale check notices.
"""

import time
from datetime import UTC, datetime

from tenants import services as tenant_services
from tenants.models import WhatsAppSession
from workers import services
from workers.procinfo import tree_cpu_seconds, tree_pss_mib
from workers.runtime.context import Context
from workers.whatsapp.client import BrowserGone

State = WhatsAppSession.State


class Vitals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._last_cpu: tuple[float, float] | None = None

    def maybe_heartbeat(self) -> None:
        ctx = self.ctx
        if ctx.session.state not in (State.CONNECTED, State.PHONE_UNREACHABLE):
            return
        now = time.monotonic()
        if now < ctx.next_heartbeat:
            return
        ctx.next_heartbeat = now + ctx.config.heartbeat_seconds
        health = ctx.client.page_health()
        if not health.get("mainReady"):
            raise BrowserGone("WhatsApp Web stopped answering (wa-js: main view not ready)")
        vitals = self.measure(health)
        if tenant_services.worker_heartbeat(worker=ctx.worker, session=ctx.session, vitals=vitals):
            ctx.log.info("worker back after being marked down", extra={"event": "recovered"})
        ctx.log.debug("heartbeat", extra={"event": "heartbeat", "memory_mb": vitals.memory_mb})
        self._restart_if_too_big(vitals)

    def measure(self, health: dict) -> tenant_services.Vitals:
        pid = self.ctx.client.browser_root_pid()
        memory_mb = tree_pss_mib(pid) if pid else None
        cpu_seconds, at = (tree_cpu_seconds(pid) if pid else 0.0), time.monotonic()
        cpu_percent = None
        if self._last_cpu is not None and pid:
            spent, elapsed = cpu_seconds - self._last_cpu[0], at - self._last_cpu[1]
            cpu_percent = round(max(0.0, spent) / elapsed * 100, 1) if elapsed > 0 else None
        self._last_cpu = (cpu_seconds, at) if pid else None
        last_event_ms = health.get("lastEventAt")
        return tenant_services.Vitals(
            chat_list_ok=True,
            last_page_event_at=datetime.fromtimestamp(last_event_ms / 1000, tz=UTC)
            if last_event_ms
            else None,
            memory_mb=round(memory_mb, 1) if memory_mb is not None else None,
            cpu_percent=cpu_percent,
        )

    def _restart_if_too_big(self, vitals: tenant_services.Vitals) -> None:
        """Chromium grows over hours: past the limit, restart it while nothing is being sent."""
        ctx = self.ctx
        limit = ctx.config.max_memory_mb
        if not limit or vitals.memory_mb is None or vitals.memory_mb <= limit:
            return
        if services.outbound_due_count(tenant=ctx.tenant):
            return  # not a quiet moment: the queue first
        reason = f"browser memory {vitals.memory_mb:.0f} MB over the {limit} MB limit"
        ctx.log.warning(
            "restarting the browser",
            extra={"event": "memory_restart", "memory_mb": vitals.memory_mb, "limit_mb": limit},
        )
        tenant_services.worker_record_error(worker=ctx.worker, reason=reason)
        ctx.client.stop()
        ctx.client.start()
        self._last_cpu = None

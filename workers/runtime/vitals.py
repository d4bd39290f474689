"""Heartbeat and vitals: proof that the session answers, and what its browser costs.

Only a page where wa-js answers a round trip (WhatsApp's own ``conn.isMainReady``) proves
the session alive: a frozen page stops the heartbeat, and the stale check notices.
"""

import time
from datetime import UTC, datetime

from tenants import services as tenant_services
from tenants.models import WhatsAppSession, WorkerEvent
from workers import services
from workers.procinfo import cpu_seconds as cpu_seconds_of
from workers.procinfo import process_tree, pss_kib
from workers.runtime.context import Context
from workers.whatsapp.client import BrowserGone

State = WhatsAppSession.State
Recovery = WorkerEvent.MemoryRecovery


class Vitals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._last_cpu: tuple[float, float] | None = None
        # The last memory recovery was a page reload for the tree's size (not the heap's).
        self._reloaded_for_tree = False

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
        self._recover_memory(vitals)

    def measure(self, health: dict) -> tenant_services.Vitals:
        roots = self.ctx.client.browser_root_pids()
        tree = process_tree(*roots)  # one walk of /proc for both figures
        memory_mb = sum(pss_kib(pid) for pid in tree) / 1024 if roots else None
        cpu_seconds, at = sum(cpu_seconds_of(pid) for pid in tree), time.monotonic()
        cpu_percent = None
        if self._last_cpu is not None and roots:
            spent, elapsed = cpu_seconds - self._last_cpu[0], at - self._last_cpu[1]
            cpu_percent = round(max(0.0, spent) / elapsed * 100, 1) if elapsed > 0 else None
        self._last_cpu = (cpu_seconds, at) if roots else None
        last_event_ms = health.get("lastEventAt")
        return tenant_services.Vitals(
            chat_list_ok=True,
            last_page_event_at=datetime.fromtimestamp(last_event_ms / 1000, tz=UTC)
            if last_event_ms
            else None,
            memory_mb=round(memory_mb, 1) if memory_mb is not None else None,
            cpu_percent=cpu_percent,
        )

    def _recover_memory(self, vitals: tenant_services.Vitals) -> None:
        """Past a memory limit, at a quiet moment: reload the page (its heap starts afresh,
        the session stays linked); a tree still too big after a reload: restart the browser."""
        ctx = self.ctx
        heap_mb = ctx.client.page_heap_mb() if ctx.config.max_page_heap_mb else None
        heap_over = heap_mb is not None and heap_mb > ctx.config.max_page_heap_mb
        limit = ctx.config.max_memory_mb
        tree_over = bool(limit) and vitals.memory_mb is not None and vitals.memory_mb > limit
        if not heap_over and not tree_over:
            self._reloaded_for_tree = False
            return
        if services.outbound_due_count(tenant=ctx.tenant):
            return  # not a quiet moment: the queue first
        if tree_over and self._reloaded_for_tree:
            action, reason = (
                Recovery.BROWSER_RESTART,
                f"browser memory {vitals.memory_mb:.0f} MB over the {limit} MB limit after a page reload",
            )
        elif heap_over:
            action, reason = (
                Recovery.PAGE_RELOAD,
                f"page heap {heap_mb:.0f} MB over the {ctx.config.max_page_heap_mb} MB limit",
            )
        else:
            action, reason = (
                Recovery.PAGE_RELOAD,
                f"browser memory {vitals.memory_mb:.0f} MB over the {limit} MB limit",
            )
        ctx.log.warning(
            "reloading the page" if action == Recovery.PAGE_RELOAD else "restarting the browser",
            extra={
                "event": f"memory_{action.value}",
                "memory_mb": vitals.memory_mb,
                "heap_mb": heap_mb,
                "reason": reason,
            },
        )
        tenant_services.worker_record_memory_recovery(worker=ctx.worker, action=action, reason=reason)
        if action == Recovery.PAGE_RELOAD:
            ctx.client.reload_page()
            self._reloaded_for_tree = tree_over
        else:
            ctx.client.stop()
            ctx.client.start()
            self._reloaded_for_tree = False
        self._last_cpu = None

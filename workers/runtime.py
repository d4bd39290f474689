"""One tenant's worker: keeps its WhatsApp Web session alive and tells the truth about it.

A single loop drives everything (Selenium is not thread-safe): wait for what the page shows,
handle it, heartbeat when due, send the next queued message when the rate limit allows.
Every state change goes through the services, so the database, the timeline and the
tenant's log file say the same thing.

When the database stops answering, the worker keeps its browser and session: what the page
shows meanwhile, and what was sent, is kept as writes the database is owed, and written in
order, with the times it happened, once the database answers again.
"""

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.logging import mask_message_id
from config.outage import DATABASE_DOWN, describe
from tenants import services as tenant_services
from tenants.logs.handler import tenant_file_handler
from tenants.models import Tenant, WhatsAppSession, WorkerProcess
from workers import services
from workers.models import OutboundMessage
from workers.procinfo import tree_cpu_seconds, tree_pss_mib
from workers.qr import qr_png_data_uri
from workers.ratelimit import RateLimitPolicy, SendRateLimiter
from workers.whatsapp import events
from workers.whatsapp.client import BrowserGone, ClientError, SendError, WhatsAppClient

logger = logging.getLogger(__name__)

State = WhatsAppSession.State
Status = WorkerProcess.Status

EXIT_OK = 0  # stopped on request, or waiting for a person (no restart wanted)
EXIT_FAILED = 1  # the supervisor should restart it

DATABASE_RETRY_MAX_SECONDS = 5.0
# Page events kept during an outage; past this the page keeps them until the database returns.
OWED_LIMIT = 10_000
# How long a stopping worker keeps trying to write what it owes before giving up.
STOP_CATCH_UP_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerConfig:
    heartbeat_seconds: float
    qr_max_refreshes: int
    conflict_takeover_seconds: float
    browser_restarts: int
    max_send_attempts: int
    rate_limit: RateLimitPolicy
    max_memory_mb: int = 0  # 0: no limit

    @classmethod
    def from_settings(cls) -> "WorkerConfig":
        return cls(
            heartbeat_seconds=settings.HEARTBEAT_INTERVAL_SECONDS,
            qr_max_refreshes=settings.QR_MAX_REFRESHES,
            conflict_takeover_seconds=settings.CONFLICT_TAKEOVER_SECONDS,
            browser_restarts=settings.WORKER_BROWSER_RESTARTS,
            max_send_attempts=settings.OUTBOUND_MAX_ATTEMPTS,
            max_memory_mb=settings.WORKER_MAX_MEMORY_MB,
            rate_limit=RateLimitPolicy(
                per_minute=settings.OUTBOUND_PER_MINUTE,
                burst=settings.OUTBOUND_BURST,
                min_gap_seconds=settings.OUTBOUND_MIN_GAP_SECONDS,
                jitter_seconds=settings.OUTBOUND_JITTER_SECONDS,
                daily_cap=settings.OUTBOUND_DAILY_CAP,
            ),
        )


class StopWorker(Exception):
    def __init__(self, reason: str, exit_code: int) -> None:
        super().__init__(reason)
        self.reason, self.exit_code = reason, exit_code


class SeenWindow:
    """The ids of the last ``size`` messages handled, so a re-render isn't handled twice."""

    def __init__(self, size: int = 2000) -> None:
        self._order: deque[str] = deque(maxlen=size)
        self._ids: set[str] = set()

    def __contains__(self, wa_message_id: str) -> bool:
        return wa_message_id in self._ids

    def add(self, wa_message_id: str) -> bool:
        if wa_message_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(wa_message_id)
        self._ids.add(wa_message_id)
        return True


class Outage:
    """The database stopped answering: since when, why, and when to try it again."""

    def __init__(self, error: Exception) -> None:
        self.started = time.monotonic()
        self.error = describe(error)
        self.delay = 0.5
        self.next_try = self.started + self.delay

    def failed_again(self) -> None:
        self.delay = min(DATABASE_RETRY_MAX_SECONDS, self.delay * 2)
        self.next_try = time.monotonic() + self.delay

    def seconds(self) -> float:
        return time.monotonic() - self.started


def _shows_a_qr_code(owed: Callable[[], object]) -> bool:
    return isinstance(owed, partial) and bool(owed.args) and isinstance(owed.args[0], events.QrCode)


class Worker:
    def __init__(
        self,
        *,
        tenant: Tenant,
        client: WhatsAppClient,
        config: WorkerConfig,
        log: logging.Logger | logging.LoggerAdapter,
    ) -> None:
        self.tenant = tenant
        self.worker = WorkerProcess.objects.get(tenant=tenant)
        self.session = WhatsAppSession.objects.get(tenant=tenant)
        self.client = client
        self.config = config
        self.log = log
        self.limiter = SendRateLimiter(config.rate_limit)
        self.seen = SeenWindow()
        self.stop_requested = False
        self._next_heartbeat = 0.0
        self._next_suspension_check = 0.0
        self._takeover_at: float | None = None
        self._restarts = 0
        self._thread_failure: str | None = None
        self._last_cpu: tuple[float, float] | None = None
        self._log_trouble = ""
        self._outage: Outage | None = None
        # Writes for what already happened (page events, sends), kept while the database is down.
        self._owed: deque[Callable[[], object]] = deque()

    # --- lifecycle -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Called from a signal handler: finish the current step, then stop."""
        self.stop_requested = True

    def fail_from_thread(self, args: threading.ExceptHookArgs) -> None:
        """An exception nobody caught in another thread ends the worker as a failure."""
        self.log.error(
            "unhandled error in a thread",
            # The hook's own (type, value, traceback), which logging takes as is; typeshed's
            # exc_info triple does not allow the None value ExceptHookArgs is typed with.
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
            extra={"event": "thread_crashed", "thread": getattr(args.thread, "name", "?")},
        )
        self._thread_failure = f"crashed in a thread: {args.exc_type.__name__}: {args.exc_value}"[:500]
        self.stop_requested = True

    def run(self) -> int:
        try:
            self._start()
            while not self.stop_requested:
                self._step()
            if self._thread_failure:
                raise StopWorker(self._thread_failure, EXIT_FAILED)
            reason, code = "stopped on request (SIGTERM/SIGINT)", EXIT_OK
        except StopWorker as stop:
            reason, code = stop.reason, stop.exit_code
        except Exception as exc:
            self.log.exception("worker crashed", extra={"event": "worker_crashed"})
            reason, code = f"crashed: {type(exc).__name__}: {exc}"[:500], EXIT_FAILED
        self._shutdown(reason, code)
        return code

    def _start(self) -> None:
        self._note_unclean_end()
        tenant_services.worker_set_status(
            worker=self.worker, status=Status.STARTING, pid=os.getpid(), reason="worker process started"
        )
        tenant_services.session_set_state(
            session=self.session, state=State.STARTING, reason="opening WhatsApp Web"
        )
        services.outbound_fail_interrupted(tenant=self.tenant)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.limiter.sent_today = services.outbound_sent_since(tenant=self.tenant, since=midnight)
        self.log.info("worker starting", extra={"event": "worker_starting", "pid": os.getpid()})
        try:
            self.client.start()
        except BrowserGone as exc:
            self._recover_browser(str(exc))

    def _note_unclean_end(self) -> None:
        """A previous process that never said it stopped was killed or crashed: say so."""
        previous = WorkerProcess.objects.get(pk=self.worker.pk)
        if previous.status in (Status.STARTING, Status.RUNNING, Status.STOPPING):
            reason = (
                f"the previous worker process (pid {previous.pid}) ended without stopping: killed or crashed"
            )
            tenant_services.worker_record_error(worker=self.worker, reason=reason)
            self.log.warning(
                "previous worker ended uncleanly",
                extra={"event": "unclean_end", "previous_pid": previous.pid},
            )

    def _shutdown(self, reason: str, code: int) -> None:
        failed = code != EXIT_OK
        try:
            self._catch_up_before_stopping()
        except Exception:  # a replay that fails for another reason must not keep the browser alive
            self.log.exception("could not write what was owed", extra={"event": "catch_up_failed"})
        if not failed:
            self._if_database_answers(
                partial(
                    tenant_services.worker_set_status,
                    worker=self.worker,
                    status=Status.STOPPING,
                    reason=reason,
                )
            )
        self.client.stop()
        self._if_database_answers(
            partial(
                tenant_services.session_set_state, session=self.session, state=State.STOPPED, reason=reason
            )
        )
        self._if_database_answers(
            partial(
                tenant_services.worker_set_status,
                worker=self.worker,
                status=Status.ERROR if failed else Status.STOPPED,
                reason=reason,
            )
        )
        self.log.info(
            "worker stopped", extra={"event": "worker_stopped", "reason": reason, "exit_code": code}
        )

    def _catch_up_before_stopping(self) -> None:
        """Stopping during an outage: keep trying to write what is owed, for a while."""
        if self._outage is None:  # nothing is owed outside an outage
            return
        deadline = time.monotonic() + STOP_CATCH_UP_SECONDS
        while not self._try_catch_up():
            if time.monotonic() >= deadline:
                self.log.error(
                    "stopping with the database still down; writes lost",
                    extra={"event": "database_down_at_stop", "unwritten": len(self._owed)},
                )
                return
            time.sleep(1.0)

    def _if_database_answers(self, write: Callable[[], object]) -> None:
        """While stopping: write if the database answers, and say once if it does not."""
        if self._outage is not None:
            return
        try:
            write()
        except DATABASE_DOWN as exc:
            self._outage = Outage(exc)
            self.log.error(
                "database unreachable while stopping; final status not recorded",
                extra={"event": "database_down_at_stop", "error": self._outage.error},
            )

    # --- the loop --------------------------------------------------------------------------

    def _step(self) -> None:
        if self._outage is not None:
            self._ride_out_outage()
            return
        try:
            try:
                self._handle_all(self.client.poll(timeout=self._poll_timeout()))
                self._maybe_take_over()
                self._report_log_trouble()
                self._maybe_heartbeat()
                self._stop_if_suspended()
                self._maybe_send()
            except BrowserGone as exc:
                self._recover_browser(str(exc))
        except DATABASE_DOWN as exc:
            self._database_lost(exc)

    def _handle_all(self, found: list[events.Event]) -> None:
        """Handle every event drained from the page; those the database can't take are owed."""
        for index, event in enumerate(found):
            try:
                self.handle(event)
            except DATABASE_DOWN:
                self._owe_events(found[index:])
                raise

    # --- the database going away -----------------------------------------------------------

    def _database_lost(self, error: Exception) -> None:
        """Said once per outage; the browser and session are left as they are."""
        self._outage = Outage(error)
        self._drop_connection()
        self.log.error(
            "database unreachable; keeping the session and retrying",
            extra={"event": "database_down", "error": self._outage.error, "owed": len(self._owed)},
        )

    def _ride_out_outage(self) -> None:
        """Keep draining the page (its events are owed) until it is time to try the database."""
        outage = self._outage
        assert outage is not None
        wait = min(1.0, max(0.0, outage.next_try - time.monotonic()))
        if len(self._owed) < OWED_LIMIT:
            try:
                self._owe_events(self.client.poll(timeout=wait))
            except BrowserGone:
                time.sleep(wait)  # recovered (and recorded) once the database is back
        else:
            time.sleep(wait)
        if self.stop_requested or time.monotonic() < outage.next_try:
            return
        if self._try_catch_up():
            self._next_heartbeat = 0.0  # prove liveness at once: the stale check may be close

    def _try_catch_up(self) -> bool:
        """One attempt to write what is owed; when it works, say once that the database is back."""
        outage, owed = self._outage, len(self._owed)
        assert outage is not None
        try:
            self._catch_up()
        except DATABASE_DOWN:
            outage.failed_again()
            return False
        seconds = round(outage.seconds(), 1)
        self.log.info(
            "database back; caught up",
            extra={"event": "database_back", "outage_seconds": seconds, "caught_up": owed},
        )
        # The error (hosts, ports) is for operators' logs, not the tenant-visible timeline.
        reason = f"database unreachable for {seconds:.0f} s; caught up {owed} writes"
        try:
            tenant_services.worker_record_error(worker=self.worker, reason=reason)
        except DATABASE_DOWN as exc:
            self._database_lost(exc)
            return False
        return True

    def _owe_events(self, found: list[events.Event]) -> None:
        for event in found:
            if isinstance(event, events.QrCode):
                # Codes rotate: only the one on screen is worth storing when the database returns
                # (and stale ones would use up the QR_MAX_REFRESHES budget).
                self._owed = deque(owed for owed in self._owed if not _shows_a_qr_code(owed))
            self._owed.append(partial(self.handle, event))

    def _catch_up(self) -> None:
        """Write what is owed, oldest first; raises (keeping the rest) if the database is down."""
        self._drop_connection()
        connection.ensure_connection()
        # What failed half-way may have changed these in memory only: start from the truth.
        for row in (self.tenant, self.worker, self.session):
            row.refresh_from_db()
        while self._owed:
            try:
                self._owed[0]()
            except DATABASE_DOWN:
                raise  # still owed: tried again next time
            except Exception:
                self._owed.popleft()  # done with, one way or another: never replayed forever
                raise
            self._owed.popleft()
        # A claim that committed as the database went away left its message SENDING without
        # handing it to the browser (every send that was handed over has just been settled).
        services.outbound_requeue_unsent(tenant=self.tenant)
        self._outage = None

    def _record(self, write: Callable[[], object]) -> None:
        """A write for something that has happened: owed, not lost, if the database is down."""
        try:
            write()
        except DATABASE_DOWN:
            self._owed.append(write)
            raise

    @staticmethod
    def _drop_connection() -> None:
        with contextlib.suppress(*DATABASE_DOWN):  # it was broken: closing it is all that was wanted
            connection.close()

    def _poll_timeout(self) -> float:
        if self.session.state == State.CONNECTED and self.limiter.wait_seconds() == 0:
            return 0.2  # something may be waiting to be sent
        return 1.0

    def _recover_browser(self, reason: str) -> None:
        """Restart a lost browser, with backoff; give up after too many losses in a row."""
        while True:
            # A session that was connected is "connected but dead" until a new browser proves it.
            was_up = self.session.state in (State.CONNECTED, State.PHONE_UNREACHABLE, State.DEGRADED)
            state = State.DEGRADED if was_up else State.DISCONNECTED
            # Recorded first: with the database down this ends here, and runs again once it is back.
            tenant_services.session_set_state(session=self.session, state=state, reason=reason)
            tenant_services.worker_record_error(worker=self.worker, reason=f"browser lost: {reason}")
            self._restarts += 1
            self.log.warning(
                "browser lost", extra={"event": "browser_lost", "reason": reason, "restart": self._restarts}
            )
            self.client.stop(graceful=False)
            if self._restarts > self.config.browser_restarts:
                raise StopWorker(f"browser lost {self._restarts} times in a row: {reason}", EXIT_FAILED)
            time.sleep(min(30.0, 2.0 ** (self._restarts - 1)))
            try:
                self.client.start()
                return
            except BrowserGone as exc:  # the new browser is no better: another loss
                reason = str(exc)

    # --- page events -----------------------------------------------------------------------

    def handle(self, event: events.Event) -> None:
        handler = getattr(self, f"on_{type(event).__name__}")
        handler(event)

    def on_QrCode(self, event: events.QrCode) -> None:
        if self.session.qr_refresh_count >= self.config.qr_max_refreshes:
            self._stop_for_qr()
        count = tenant_services.session_record_qr(
            session=self.session, value=event.value, data_uri=qr_png_data_uri(event.value)
        )
        self.log.info(
            "qr code shown",
            extra={"event": "qr", "qr_refresh_count": count, "qr_max": self.config.qr_max_refreshes},
        )

    def on_QrExpired(self, event: events.QrExpired) -> None:
        self._stop_for_qr()

    def _stop_for_qr(self) -> None:
        count = self.session.qr_refresh_count
        reason = f"QR code not scanned after {count} codes; start the worker again for new codes"
        raise StopWorker(reason, EXIT_OK)

    def on_Authenticated(self, event: events.Authenticated) -> None:
        self.log.info("qr code scanned, loading the account", extra={"event": "authenticated"})

    def on_Ready(self, event: events.Ready) -> None:
        if services.tenant_is_suspended(self.tenant):  # never turn a suspended tenant ACTIVE
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)
        self._restarts = 0
        self._takeover_at = None
        tenant_services.session_set_state(
            session=self.session, state=State.CONNECTED, reason="chat list shown"
        )
        tenant_services.worker_set_status(
            worker=self.worker, status=Status.RUNNING, reason="session connected"
        )
        activated = tenant_services.tenant_mark_active(tenant=self.tenant, reason="session connected")
        if activated.new == Tenant.Status.SUSPENDED:  # suspended while the session connected
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)
        self.log.info("session ready", extra={"event": "ready"})
        self._next_heartbeat = 0.0

    def on_IncomingMessage(self, event: events.IncomingMessage) -> None:
        if event.wa_message_id in self.seen:
            return
        result = services.inbound_message_handle(
            tenant=self.tenant,
            wa_message_id=event.wa_message_id,
            from_number=event.from_number,
            text=event.text,
            received_at=event.seen_at,
        )
        self.seen.add(event.wa_message_id)  # only once it is logged: a failed write is retried
        if result.created:
            self.log.info(
                "message received",
                extra={
                    "event": "message_in",
                    "wa_message_id": mask_message_id(event.wa_message_id),
                    "reply_queued": result.reply is not None,
                },
            )

    def on_Conflict(self, event: events.Conflict) -> None:
        reason = "WhatsApp is open in another window"
        tenant_services.session_set_state(session=self.session, state=State.CONFLICT, reason=reason)
        tenant_services.worker_record_error(worker=self.worker, reason=reason)
        if self.config.conflict_takeover_seconds > 0:
            self._takeover_at = time.monotonic() + self.config.conflict_takeover_seconds

    def _maybe_take_over(self) -> None:
        if self._takeover_at is not None and time.monotonic() >= self._takeover_at:
            self._takeover_at = None
            self.log.info("taking the session back", extra={"event": "conflict_takeover"})
            self.client.take_over()

    def on_PhoneUnreachable(self, event: events.PhoneUnreachable) -> None:
        tenant_services.session_set_state(
            session=self.session,
            state=State.PHONE_UNREACHABLE,
            reason="WhatsApp is trying to reach the phone",
        )

    def on_PhoneReachable(self, event: events.PhoneReachable) -> None:
        tenant_services.session_set_state(
            session=self.session, state=State.CONNECTED, reason="phone reachable again"
        )

    def on_LoggedOut(self, event: events.LoggedOut) -> None:
        self._needs_a_person(State.LOGGED_OUT, "logged out from the phone; scan a new QR code to link again")

    def on_AuthFailure(self, event: events.AuthFailure) -> None:
        self._needs_a_person(State.AUTH_FAILURE, f"authentication failed: {event.reason}")

    def on_Disconnected(self, event: events.Disconnected) -> None:
        tenant_services.session_set_state(session=self.session, state=State.DISCONNECTED, reason=event.reason)

    def _needs_a_person(self, state: str, reason: str) -> None:
        tenant_services.session_set_state(session=self.session, state=state, reason=reason)
        tenant_services.worker_record_error(worker=self.worker, reason=reason)
        tenant_services.tenant_set_status(tenant=self.tenant, status=Tenant.Status.ERROR, reason=reason)
        self.log.warning("session needs a person", extra={"event": state.lower(), "reason": reason})

    # --- heartbeat and sending -------------------------------------------------------------

    def _maybe_heartbeat(self) -> None:
        if self.session.state not in (State.CONNECTED, State.PHONE_UNREACHABLE):
            return
        now = time.monotonic()
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + self.config.heartbeat_seconds
        # Only a page whose chat list answers proves the session alive.
        health = self.client.page_health()
        if not health.get("chatListAnswers"):
            raise BrowserGone("the chat list stopped answering")
        vitals = self._browser_vitals(health)
        if tenant_services.worker_heartbeat(worker=self.worker, session=self.session, vitals=vitals):
            self.log.info("worker back after being marked down", extra={"event": "recovered"})
        self.log.debug("heartbeat", extra={"event": "heartbeat", "memory_mb": vitals.memory_mb})
        self._restart_if_too_big(vitals)

    def _stop_if_suspended(self) -> None:
        """Suspension stops the worker through supervisord; this is for when that failed."""
        now = time.monotonic()
        if now < self._next_suspension_check:
            return
        self._next_suspension_check = now + self.config.heartbeat_seconds
        if services.tenant_is_suspended(self.tenant):
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)

    def _report_log_trouble(self) -> None:
        """The log file failing is news for the worker's status (it is not in the log...)."""
        handler = tenant_file_handler(self.tenant.id)
        trouble = handler.failing if handler else ""
        if trouble and trouble != self._log_trouble:
            tenant_services.worker_record_error(
                worker=self.worker, reason=f"log file not writable: {trouble}"
            )
        self._log_trouble = trouble

    def _browser_vitals(self, health: dict) -> tenant_services.Vitals:
        pid = self.client.browser_root_pid()
        memory_mb = tree_pss_mib(pid) if pid else None
        cpu_seconds, at = (tree_cpu_seconds(pid) if pid else 0.0), time.monotonic()
        cpu_percent = None
        if self._last_cpu is not None and pid:
            spent, elapsed = cpu_seconds - self._last_cpu[0], at - self._last_cpu[1]
            cpu_percent = round(max(0.0, spent) / elapsed * 100, 1) if elapsed > 0 else None
        self._last_cpu = (cpu_seconds, at) if pid else None
        last_event_ms = health.get("lastEventAt") or health.get("lastMutationAt")
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
        limit = self.config.max_memory_mb
        if not limit or vitals.memory_mb is None or vitals.memory_mb <= limit:
            return
        if services.outbound_due_count(tenant=self.tenant):
            return  # not a quiet moment: the queue first
        reason = f"browser memory {vitals.memory_mb:.0f} MB over the {limit} MB limit"
        self.log.warning(
            "restarting the browser",
            extra={"event": "memory_restart", "memory_mb": vitals.memory_mb, "limit_mb": limit},
        )
        tenant_services.worker_record_error(worker=self.worker, reason=reason)
        self.client.stop()
        self.client.start()
        self._last_cpu = None

    def _maybe_send(self) -> None:
        if self.session.state != State.CONNECTED or self.stop_requested:
            return
        wait = self.limiter.wait_seconds()
        if wait is None or wait > 0:
            return
        message = services.outbound_claim_next(tenant=self.tenant)
        if message is None:
            return
        self.limiter.record_send()
        # From here on the browser may have acted: every outcome is recorded, or owed.
        failed = partial(
            services.outbound_mark_failed, message=message, max_attempts=self.config.max_send_attempts
        )
        try:
            wa_message_id = self.client.send_text(message.to_number, message.text)
        except SendError as exc:
            self._record(partial(failed, reason=str(exc), permanent=exc.permanent))
            return
        except BrowserGone:
            self._settle_interrupted_send(message, failed)
            raise
        except ClientError as exc:
            self._record(partial(failed, reason=str(exc), permanent=False))
            return
        self.log.info(
            "message sent",
            extra={
                "event": "message_out",
                "wa_message_id": mask_message_id(wa_message_id),
                "outbound_id": str(message.id),
            },
        )
        self._record(
            partial(
                services.outbound_mark_sent, message=message, wa_message_id=wa_message_id, at=timezone.now()
            )
        )

    def _settle_interrupted_send(self, message: OutboundMessage, failed: Callable[..., object]) -> None:
        if self.client.send_clicked:
            reason = "browser lost after Send was pressed; not retried so it cannot arrive twice"
            self._record(partial(failed, reason=reason, permanent=True))
        else:
            self._record(partial(services.outbound_requeue, message=message))

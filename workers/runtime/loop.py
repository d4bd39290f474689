"""One tenant's worker: keeps its WhatsApp Web session alive and tells the truth about it.

A single loop drives everything (Selenium is not thread-safe): wait for what wa-js reports,
hand each event to the handlers, heartbeat when due (vitals), send the next queued message
when the pace allows (sender). When the database stops answering, the worker keeps its
browser and session: what happens meanwhile is kept in the outage buffer as typed records
and written in order, with the times it happened, once the database answers again.
"""

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator

from django.db import connection

from config.outage import DATABASE_DOWN
from tenants import services as tenant_services
from tenants.logs.handler import tenant_file_handler
from tenants.models import LINKABLE_STATES, Tenant, WhatsAppSession, WorkerProcess
from workers import services
from workers.runtime.context import EXIT_FAILED, EXIT_OK, Context, PageClient, StopWorker, WorkerConfig
from workers.runtime.handlers import Handlers
from workers.runtime.launch import LaunchQueue, StoppedWaiting
from workers.runtime.outage import (
    Journaled,
    Outage,
    OutageBuffer,
    Owed,
    OwedEvent,
    OwedFailure,
    OwedRequeue,
    OwedSent,
)
from workers.runtime.sender import Sender
from workers.runtime.vitals import Vitals
from workers.whatsapp import events
from workers.whatsapp.client import BrowserGone, ClientError

State = WhatsAppSession.State
Status = WorkerProcess.Status

# How long a stopping worker keeps trying to write what it owes before giving up.
STOP_CATCH_UP_SECONDS = 10.0
# How often a worker showing a QR code looks whether the tenant asked for a pairing code.
LINK_REQUEST_CHECK_SECONDS = 1.0


class Worker:
    def __init__(
        self,
        *,
        tenant: Tenant,
        client: PageClient,
        config: WorkerConfig,
        log: logging.Logger | logging.LoggerAdapter,
        journal: Journaled | None = None,
        launch: LaunchQueue | None = None,
    ) -> None:
        self.ctx = Context(
            tenant=tenant,
            worker=WorkerProcess.objects.get(tenant=tenant),
            session=WhatsAppSession.objects.get(tenant=tenant),
            client=client,
            config=config,
            log=log,
        )
        self.log = log
        self.handlers = Handlers(self.ctx)
        self.vitals = Vitals(self.ctx)
        self.sender = Sender(self.ctx, record=self._record)
        # What an outage leaves owed, with a copy on disk (journal) that outlives the process.
        self.owed = OutageBuffer(journal=journal)
        self.launch = launch
        self.stop_requested = False
        self._next_suspension_check = 0.0
        self._next_link_check = 0.0
        self._thread_failure: str | None = None
        self._log_trouble = ""
        self._outage: Outage | None = None

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
                self.step()
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
        ctx = self.ctx
        self._note_unclean_end()
        tenant_services.worker_set_status(
            worker=ctx.worker, status=Status.STARTING, pid=os.getpid(), reason="worker process started"
        )
        tenant_services.session_set_state(
            session=ctx.session, state=State.STARTING, reason="opening WhatsApp Web"
        )
        self.sender.start()
        self.log.info("worker starting", extra={"event": "worker_starting", "pid": os.getpid()})
        with self._launch_slot():
            try:
                ctx.client.start()
            except BrowserGone as exc:
                self._recover_browser(str(exc))
        self._replay_journal()

    @contextlib.contextmanager
    def _launch_slot(self) -> Iterator[None]:
        """The browser launches when the host's line lets it (WORKER_START_CONCURRENCY)."""
        if self.launch is None:
            yield
            return

        def show(position: int | None) -> None:
            tenant_services.worker_set_start_position(worker=self.ctx.worker, position=position)
            if position is not None:
                self.log.info(
                    "waiting in line to launch the browser",
                    extra={"event": "launch_waiting", "position": position},
                )

        try:
            with self.launch.slot(on_position=show, stopping=lambda: self.stop_requested):
                yield
        except StoppedWaiting:
            raise StopWorker("stopped on request while in line to start", EXIT_OK) from None

    def _replay_journal(self) -> None:
        """What a worker stopped during an outage could not write: first, before anything new."""
        journal = self.owed.journal
        records = journal.load() if journal is not None else []
        if not records:
            return
        self.owed.restore(records)
        self.log.info(
            "journal found; writing it first", extra={"event": "journal_replay", "records": len(records)}
        )
        failed = 0
        while True:  # each failure has dropped its record (OutageBuffer.replay): this ends
            try:
                self.owed.replay(self._write)  # oldest first; deletes the journal once all are in
                break
            except DATABASE_DOWN as exc:  # down again: owed as in any outage, the journal kept
                self._database_lost(exc)
                return
            except Exception:
                # That record is dropped (never replayed forever: a crash here would otherwise
                # restart the worker into the same record); the rest are still written.
                failed += 1
                self.log.exception("journal record not written", extra={"event": "journal_record_failed"})
        self.log.info(
            "journal written",
            extra={"event": "journal_replayed", "records": len(records) - failed, "failed": failed},
        )

    def _note_unclean_end(self) -> None:
        """A previous process that never said it stopped was killed or crashed: say so."""
        previous = WorkerProcess.objects.get(pk=self.ctx.worker.pk)
        if previous.status in (Status.STARTING, Status.RUNNING, Status.STOPPING):
            reason = (
                f"the previous worker process (pid {previous.pid}) ended without stopping: killed or crashed"
            )
            tenant_services.worker_record_error(worker=self.ctx.worker, reason=reason)
            self.log.warning(
                "previous worker ended uncleanly",
                extra={"event": "unclean_end", "previous_pid": previous.pid},
            )

    def _shutdown(self, reason: str, code: int) -> None:
        ctx = self.ctx
        failed = code != EXIT_OK
        try:
            self._catch_up_before_stopping()
        except Exception:  # a replay that fails for another reason must not keep the browser alive
            self.log.exception("could not write what was owed", extra={"event": "catch_up_failed"})
        if not failed:
            self._if_database_answers(
                lambda: tenant_services.worker_set_status(
                    worker=ctx.worker, status=Status.STOPPING, reason=reason
                )
            )
        ctx.client.stop()
        self._if_database_answers(
            lambda: tenant_services.session_set_state(session=ctx.session, state=State.STOPPED, reason=reason)
        )
        self._if_database_answers(
            lambda: tenant_services.worker_set_status(
                worker=ctx.worker, status=Status.ERROR if failed else Status.STOPPED, reason=reason
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
                self.owed.sync()
                if self.owed.journal is not None:
                    self.log.error(
                        "stopping with the database still down; what is owed is kept in the journal",
                        extra={"event": "database_down_at_stop", "journaled": len(self.owed)},
                    )
                else:
                    self.log.error(
                        "stopping with the database still down; writes lost",
                        extra={"event": "database_down_at_stop", "unwritten": len(self.owed)},
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

    def step(self) -> None:
        if self._outage is not None:
            self._ride_out_outage()
            return
        ctx = self.ctx
        try:
            try:
                self._handle_all(self._take(self._poll_timeout()))
                self._maybe_take_over()
                self._maybe_request_link_code()
                self._report_log_trouble()
                self.vitals.maybe_heartbeat()
                self._stop_if_suspended()
                if ctx.session.state == State.CONNECTED and not self.stop_requested:
                    self.sender.maybe_send()
            except BrowserGone as exc:
                self._recover_browser(str(exc))
        except DATABASE_DOWN as exc:
            self._database_lost(exc)

    def _take(self, timeout: float) -> list[events.Event]:
        """Drain the page's events. Their chats are marked read at once: the worker now holds
        the messages (to log, or owed during an outage), and blue ticks tell the customer so."""
        found = self.ctx.client.poll(timeout=timeout)
        for chat_id in dict.fromkeys(e.chat_id for e in found if isinstance(e, events.IncomingMessage)):
            self.ctx.client.mark_read(chat_id)
        return found

    def _handle_all(self, found: list[events.Event]) -> None:
        """Handle every event drained from the page; those the database can't take are owed."""
        for index, event in enumerate(found):
            try:
                self.handlers.handle(event)
            except DATABASE_DOWN:
                self.owed.add_events(found[index:])
                raise

    def _poll_timeout(self) -> float:
        if self.ctx.session.state == State.CONNECTED and self.sender.ready_to_send():
            return 0.2  # something may be waiting to be sent
        return 1.0

    def _maybe_take_over(self) -> None:
        ctx = self.ctx
        if ctx.takeover_at is not None and time.monotonic() >= ctx.takeover_at:
            ctx.takeover_at = None
            self.log.info("taking the session back", extra={"event": "conflict_takeover"})
            try:
                ctx.client.take_over()
            except ClientError as exc:
                tenant_services.worker_record_error(
                    worker=ctx.worker, reason=f"could not take the session back: {exc}"
                )

    def _maybe_request_link_code(self) -> None:
        """A tenant asked to link by phone number (portal, API): ask WhatsApp for the code."""
        ctx = self.ctx
        if ctx.session.state not in LINKABLE_STATES:
            return
        now = time.monotonic()
        if now < self._next_link_check:
            return
        self._next_link_check = now + LINK_REQUEST_CHECK_SECONDS
        ctx.session.refresh_from_db(fields=["link_phone", "link_code", "link_code_error"])
        # A number waiting without a code is a request not yet answered (each new request, even
        # for the same number, clears the code; an answer or a refusal ends the wait).
        phone = ctx.session.link_phone
        if not phone or ctx.session.link_code:
            return
        try:
            code = ctx.client.request_link_code(phone)
        except ClientError as exc:
            self.handlers.handle(events.LinkCodeError(reason=str(exc)))
            return
        self.handlers.handle(events.LinkCode(code=code))

    def _stop_if_suspended(self) -> None:
        """Suspension stops the worker through supervisord; this is for when that failed."""
        now = time.monotonic()
        if now < self._next_suspension_check:
            return
        self._next_suspension_check = now + self.ctx.config.heartbeat_seconds
        if services.tenant_is_suspended(self.ctx.tenant):
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)

    def _report_log_trouble(self) -> None:
        """The log file failing is news for the worker's status (it is not in the log...)."""
        handler = tenant_file_handler(self.ctx.tenant.id)
        trouble = handler.failing if handler else ""
        if trouble and trouble != self._log_trouble:
            tenant_services.worker_record_error(
                worker=self.ctx.worker, reason=f"log file not writable: {trouble}"
            )
        self._log_trouble = trouble

    def _recover_browser(self, reason: str) -> None:
        """Restart a lost browser, with backoff; give up after too many losses in a row."""
        ctx = self.ctx
        while True:
            # A session that was connected is "connected but dead" until a new browser proves it.
            was_up = ctx.session.state in (State.CONNECTED, State.PHONE_UNREACHABLE, State.DEGRADED)
            state = State.DEGRADED if was_up else State.DISCONNECTED
            # Recorded first: with the database down this ends here, and runs again once it is back.
            tenant_services.session_set_state(session=ctx.session, state=state, reason=reason)
            tenant_services.worker_record_error(worker=ctx.worker, reason=f"browser lost: {reason}")
            ctx.browser_losses += 1
            self.log.warning(
                "browser lost",
                extra={"event": "browser_lost", "reason": reason, "restart": ctx.browser_losses},
            )
            ctx.client.stop(graceful=False)
            if ctx.browser_losses > ctx.config.browser_restarts:
                raise StopWorker(f"browser lost {ctx.browser_losses} times in a row: {reason}", EXIT_FAILED)
            time.sleep(min(30.0, 2.0 ** (ctx.browser_losses - 1)))
            try:
                ctx.client.start()
                return
            except BrowserGone as exc:  # the new browser is no better: another loss
                reason = str(exc)

    # --- writes, now or owed ---------------------------------------------------------------

    def _record(self, owed: Owed) -> None:
        """A write for something that has happened: owed, not lost, if the database is down."""
        try:
            self._write(owed)
        except DATABASE_DOWN:
            self.owed.add(owed)
            raise

    def _write(self, owed: Owed) -> None:
        match owed:
            case OwedEvent(event=event):
                self.handlers.handle(event)
            case OwedSent(message=message, sent=sent, at=at):
                self.sender.write_sent(message, sent, at)
            case OwedFailure(message=message, reason=reason, permanent=permanent):
                self.sender.write_failure(message, reason, permanent)
            case OwedRequeue(message=message):
                services.outbound_requeue(message=message)

    # --- the database going away -----------------------------------------------------------

    def _database_lost(self, error: Exception) -> None:
        """Said once per outage; the browser and session are left as they are."""
        self._outage = Outage(error)
        self._drop_connection()
        self.log.error(
            "database unreachable; keeping the session and retrying",
            extra={"event": "database_down", "error": self._outage.error, "owed": len(self.owed)},
        )

    def _ride_out_outage(self) -> None:
        """Keep draining the page (its events are owed) until it is time to try the database."""
        outage = self._outage
        assert outage is not None
        wait = min(1.0, max(0.0, outage.next_try - time.monotonic()))
        if not self.owed.full:
            try:
                self.owed.add_events(self._take(wait))
            except BrowserGone:
                time.sleep(wait)  # recovered (and recorded) once the database is back
        else:
            time.sleep(wait)
        self.owed.sync()  # the batch: at most a second of records is ever only in memory
        if self.stop_requested or time.monotonic() < outage.next_try:
            return
        if self._try_catch_up():
            self.ctx.next_heartbeat = 0.0  # prove liveness at once: the stale check may be close

    def _try_catch_up(self) -> bool:
        """One attempt to write what is owed; when it works, say once that the database is back."""
        outage, owed = self._outage, len(self.owed)
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
            tenant_services.worker_record_error(worker=self.ctx.worker, reason=reason)
        except DATABASE_DOWN as exc:
            self._database_lost(exc)
            return False
        return True

    def _catch_up(self) -> None:
        """Write what is owed, oldest first; raises (keeping the rest) if the database is down."""
        ctx = self.ctx
        self._drop_connection()
        connection.ensure_connection()
        # What failed half-way may have changed these in memory only: start from the truth.
        for row in (ctx.tenant, ctx.worker, ctx.session):
            row.refresh_from_db()
        self.owed.replay(self._write)
        # A claim that committed as the database went away left its message SENDING without
        # handing it to the browser (every send that was handed over has just been settled).
        services.outbound_requeue_unsent(tenant=ctx.tenant)
        self._outage = None

    @staticmethod
    def _drop_connection() -> None:
        with contextlib.suppress(*DATABASE_DOWN):  # it was broken: closing it is all that was wanted
            connection.close()

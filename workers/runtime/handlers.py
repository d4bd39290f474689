"""What each event from WhatsApp Web does: one ``match`` on the event's type.

Every state change goes through the services, so the database, the timeline and the
tenant's log file say the same thing.
"""

import time
from collections import deque
from datetime import timedelta
from typing import assert_never

from config.logging import mask_message_id
from tenants import services as tenant_services
from tenants.media import StoredMedia, media_cap, media_not_kept, media_store, too_large
from tenants.models import Tenant, WhatsAppSession, WorkerProcess
from tenants.selectors import LINK_CODE_EXPIRED, incoming_logged
from workers import services
from workers.qr import qr_png_data_uri
from workers.runtime.context import EXIT_OK, Context, StopWorker
from workers.whatsapp import events
from workers.whatsapp.client import BrowserGone, CallFailed

State = WhatsAppSession.State
Status = WorkerProcess.Status

# How long a pairing code is valid: wa-js refreshes it after this (LINK_CODE_TTL_MS).
LINK_CODE_SECONDS = 195


class SeenWindow:
    """The ids of the last ``size`` messages handled, so one shown twice isn't handled twice."""

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


class Handlers:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen = SeenWindow()

    def handle(self, event: events.Event) -> None:
        ctx = self.ctx
        match event:
            case events.QrCode():
                self._qr_code(event)
            case events.QrExpired():
                self._stop_for_qr()
            case events.Authenticated():
                ctx.log.info("code accepted, loading the account", extra={"event": "authenticated"})
            case events.Ready():
                self._ready()
            case events.IncomingMessage():
                self._incoming(event)
            case events.GroupMembers():
                tenant_services.group_membership_record(
                    tenant=ctx.tenant,
                    group_id=event.group_id,
                    group_name=event.group_name,
                    action=event.action,
                    count=event.count,
                    includes_me=event.includes_me,
                )
            case events.Ack():
                services.outbound_record_ack(
                    tenant=ctx.tenant, wa_message_ids=list(event.wa_message_ids), ack=event.ack, at=event.at
                )
            case events.LinkCode():
                expires = event.at + timedelta(seconds=LINK_CODE_SECONDS)
                tenant_services.session_record_link_code(
                    session=ctx.session, code=event.code, expires_at=expires
                )
                ctx.log.info("pairing code shown", extra={"event": "link_code"})
            case events.LinkCodeExpired():
                tenant_services.session_end_link_code(session=ctx.session, reason=LINK_CODE_EXPIRED)
            case events.LinkCodeError():
                tenant_services.session_end_link_code(
                    session=ctx.session, reason=f"WhatsApp refused the pairing code: {event.reason}"
                )
            case events.Conflict():
                reason = "WhatsApp is open in another window"
                tenant_services.session_set_state(session=ctx.session, state=State.CONFLICT, reason=reason)
                tenant_services.worker_record_error(worker=ctx.worker, reason=reason)
                if ctx.config.conflict_takeover_seconds > 0:
                    ctx.takeover_at = time.monotonic() + ctx.config.conflict_takeover_seconds
            case events.Blocked():
                state = State.UPDATE_NEEDED if event.mode == "DEPRECATED_VERSION" else State.BLOCKED
                self._needs_a_person(state, event.reason)
            case events.PhoneUnreachable():
                tenant_services.session_set_state(
                    session=ctx.session,
                    state=State.PHONE_UNREACHABLE,
                    reason=f"WhatsApp is trying to reach the phone (stream {event.info})",
                )
            case events.PhoneReachable():
                tenant_services.session_set_state(
                    session=ctx.session, state=State.CONNECTED, reason="connected again"
                )
            case events.LoggedOut():
                self._needs_a_person(
                    State.LOGGED_OUT, "logged out from the phone; scan a new QR code to link again"
                )
            case events.AuthFailure():
                self._needs_a_person(State.AUTH_FAILURE, f"authentication failed: {event.reason}")
            case events.Disconnected():
                tenant_services.session_set_state(
                    session=ctx.session, state=State.DISCONNECTED, reason=event.reason
                )
            case _:
                assert_never(event)  # mypy: every event type has its case

    def _qr_code(self, event: events.QrCode) -> None:
        ctx = self.ctx
        if ctx.session.qr_refresh_count >= ctx.config.qr_max_refreshes:
            self._stop_for_qr()
        count = tenant_services.session_record_qr(
            session=ctx.session, value=event.value, data_uri=qr_png_data_uri(event.value)
        )
        ctx.log.info(
            "qr code shown",
            extra={"event": "qr", "qr_refresh_count": count, "qr_max": ctx.config.qr_max_refreshes},
        )

    def _stop_for_qr(self) -> None:
        count = self.ctx.session.qr_refresh_count
        reason = f"QR code not scanned after {count} codes; start the worker again for new codes"
        raise StopWorker(reason, EXIT_OK)

    def _ready(self) -> None:
        ctx = self.ctx
        if services.tenant_is_suspended(ctx.tenant):  # never turn a suspended tenant ACTIVE
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)
        ctx.browser_losses = 0
        ctx.takeover_at = None
        tenant_services.session_set_state(session=ctx.session, state=State.CONNECTED, reason="WhatsApp ready")
        tenant_services.worker_set_status(
            worker=ctx.worker, status=Status.RUNNING, reason="session connected"
        )
        activated = tenant_services.tenant_mark_active(tenant=ctx.tenant, reason="session connected")
        if activated.new == Tenant.Status.SUSPENDED:  # suspended while the session connected
            raise StopWorker("stopped: the tenant was suspended", EXIT_OK)
        ctx.log.info("session ready", extra={"event": "ready"})
        ctx.next_heartbeat = 0.0

    def _incoming(self, event: events.IncomingMessage) -> None:
        ctx = self.ctx
        if event.wa_message_id in self.seen:
            return
        if event.media is not None and incoming_logged(tenant=ctx.tenant, wa_message_id=event.wa_message_id):
            self.seen.add(event.wa_message_id)  # shown again after a restart: not fetched again
            return
        phone = events.phone_of(event.sender_id) or ctx.client.resolve_phone(event.sender_id)
        media = self._fetch_media(event) if event.media is not None else None
        try:
            result = self._log_incoming(event, phone, media)
        except BaseException:
            if media is not None:
                media.discard()  # not logged: the retry fetches it again
            raise
        if media is not None and not result.created:
            media.discard()  # another process logged it first, with its own copy
        self.seen.add(event.wa_message_id)  # only once it is logged: a failed write is retried
        if result.created:
            ctx.log.info(
                "message received",
                extra={
                    "event": "message_in",
                    "wa_message_id": mask_message_id(event.wa_message_id),
                    "group": event.is_group,
                    "lid": event.sender_id.endswith("@lid"),
                    "media": event.kind if event.media is not None else None,
                    "media_kept": bool(media and media.file),
                    "reply_queued": result.reply is not None,
                },
            )

    def _fetch_media(self, event: events.IncomingMessage) -> StoredMedia:
        """Download and keep the message's file, or say why not; never fails the message."""
        ctx, info = self.ctx, event.media
        assert info is not None
        cap = media_cap(ctx.tenant)
        if info.size is not None and info.size > cap:  # not even fetched
            reason = too_large(info.size, cap)
        else:
            try:
                data = ctx.client.download_media(event.wa_message_id)
            except CallFailed as exc:
                reason = f"not kept: WhatsApp could not download it ({str(exc)[:200]})"
            except BrowserGone as exc:
                # The message is logged all the same; the loop finds the browser gone on its
                # next call and restarts it.
                reason = f"not kept: the browser stopped answering ({str(exc)[:200]})"
            else:
                return media_store(
                    tenant=ctx.tenant, data=data, claimed_type=info.mime_type, file_name=info.file_name
                )
        ctx.log.warning(
            "media not kept",
            extra={
                "event": "media_not_kept",
                "wa_message_id": mask_message_id(event.wa_message_id),
                "reason": reason,
            },
        )
        return media_not_kept(
            reason=reason, claimed_type=info.mime_type, size=info.size, file_name=info.file_name
        )

    def _log_incoming(
        self, event: events.IncomingMessage, phone: str, media: StoredMedia | None
    ) -> services.InboundResult:
        return services.inbound_message_handle(
            tenant=self.ctx.tenant,
            message=services.Incoming(
                wa_message_id=event.wa_message_id,
                chat_id=event.chat_id,
                sender_id=event.sender_id,
                from_number=phone,
                text=event.text,
                is_group=event.is_group,
                message_type=event.kind,
                quoted_wa_message_id=event.quoted_id,
                wa_timestamp=event.timestamp,
                received_at=event.seen_at,
                group_name=event.group_name,
                mentions_me=event.mentions_me,
                media=media,
            ),
        )

    def _needs_a_person(self, state: str, reason: str) -> None:
        ctx = self.ctx
        tenant_services.session_set_state(session=ctx.session, state=state, reason=reason)
        tenant_services.worker_record_error(worker=ctx.worker, reason=reason)
        tenant_services.tenant_set_status(tenant=ctx.tenant, status=Tenant.Status.ERROR, reason=reason)
        ctx.log.warning("session needs a person", extra={"event": state.lower(), "reason": reason})

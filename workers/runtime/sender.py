"""The outbound queue's sender: the tenant's pace, one claim at a time, exactly once.

A message is claimed, handed to WhatsApp through wa-js, and recorded SENT with its first
ack; later acks arrive as events (handlers). One handed over but never acknowledged within
OUTBOUND_ACK_TIMEOUT_SECONDS is flagged "not confirmed", never silently called sent.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime

from config.logging import mask_message_id
from workers import services
from workers.models import OutboundMessage
from workers.ratelimit import SendRateLimiter
from workers.runtime.context import Context
from workers.runtime.outage import Owed, OwedFailure, OwedRequeue, OwedSent
from workers.whatsapp.client import BrowserGone, ClientError, SendError
from workers.whatsapp.events import OutgoingFile, SentMessage

# How often the sender looks for sends WhatsApp never acknowledged.
UNCONFIRMED_CHECK_SECONDS = 5.0


class FileGone(SendError):
    permanent = True  # trying again would not bring it back


class Sender:
    def __init__(self, ctx: Context, record: Callable[[Owed], None]) -> None:
        self.ctx = ctx
        # Writes an outcome now, or keeps it for when the database is back (the loop's).
        self.record = record
        self.limiter = SendRateLimiter(ctx.config.rate_limit)
        self._next_unconfirmed_check = 0.0

    def start(self) -> None:
        ctx = self.ctx
        services.outbound_fail_interrupted(tenant=ctx.tenant)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.limiter.sent_today = services.outbound_sent_since(tenant=ctx.tenant, since=midnight)

    def ready_to_send(self) -> bool:
        return self.limiter.wait_seconds() == 0

    def maybe_send(self) -> None:
        self._flag_unconfirmed()
        wait = self.limiter.wait_seconds()
        if wait is None or wait > 0:
            return
        message = services.outbound_claim_next(tenant=self.ctx.tenant)
        if message is None:
            return
        self.limiter.record_send()
        self.send(message)

    def send(self, message: OutboundMessage) -> None:
        """From the claim on, the browser may act: every outcome is recorded, or owed."""
        client = self.ctx.client
        try:
            if message.media_file:
                sent = client.send_file(message.to_number, self._file_of(message))
            else:
                sent = client.send_text(message.to_number, message.text)
        except SendError as exc:
            self.record(OwedFailure(message, str(exc), exc.permanent))
            return
        except BrowserGone:
            self._settle_interrupted(message)
            raise
        except ClientError as exc:
            self.record(OwedFailure(message, str(exc), False))
            return
        self.ctx.log.info(
            "message sent",
            extra={
                "event": "message_out",
                "wa_message_id": mask_message_id(sent.wa_message_id),
                "outbound_id": str(message.id),
                "ack": sent.ack,
            },
        )
        self.record(OwedSent(message, sent))

    @staticmethod
    def _file_of(message: OutboundMessage) -> OutgoingFile:
        try:
            with message.media_file.open("rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise FileGone(f"the file to send is gone: {type(exc).__name__}") from exc
        return OutgoingFile(
            data=data,
            kind=message.media_kind or "document",
            mime_type=message.media_mime_type,
            file_name=message.media_file_name,
            caption=message.text,
        )

    def _settle_interrupted(self, message: OutboundMessage) -> None:
        if self.ctx.client.send_handed_over:
            reason = (
                "browser lost after the message was handed to WhatsApp; not retried so it cannot arrive twice"
            )
            self.record(OwedFailure(message, reason, True))
        else:
            self.record(OwedRequeue(message))

    def write_sent(self, message: OutboundMessage, sent: SentMessage, at: datetime) -> None:
        services.outbound_mark_sent(message=message, wa_message_id=sent.wa_message_id, at=at, ack=sent.ack)

    def write_failure(self, message: OutboundMessage, reason: str, permanent: bool) -> None:
        services.outbound_mark_failed(
            message=message,
            reason=reason,
            permanent=permanent,
            max_attempts=self.ctx.config.max_send_attempts,
        )

    def _flag_unconfirmed(self) -> None:
        now = time.monotonic()
        if now < self._next_unconfirmed_check:
            return
        self._next_unconfirmed_check = now + UNCONFIRMED_CHECK_SECONDS
        services.outbound_flag_unconfirmed(
            tenant=self.ctx.tenant, timeout_seconds=self.ctx.config.ack_timeout_seconds
        )

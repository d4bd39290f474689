"""The event types a webhook endpoint can subscribe to, and the payload of each.

Every body is ``{"type": ..., "timestamp": ..., "data": {...}}`` (the Standard Webhooks
shape). A payload carries only the tenant's own data and never a login credential: a QR code
or pairing code is fetched from the API (``qr_url``, ``link_code_url``) with the tenant's key.
"""

from datetime import datetime
from typing import Any

from tenants.media import api_url
from tenants.models import Ack, MessageLog, WhatsAppSession, WorkerProcess

MESSAGE_RECEIVED = "message.received"
MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
MESSAGE_ACK = "message.ack"
SESSION_STATUS = "session.status"
WORKER_STATUS = "worker.status"
TEST = "webhook.test"

EVENT_TYPES: dict[str, str] = {
    MESSAGE_RECEIVED: "A message arrived, in a one-to-one chat or a group.",
    MESSAGE_SENT: "WhatsApp took a message from the outbound queue.",
    MESSAGE_FAILED: "A queued message could not be sent and will not be tried again.",
    MESSAGE_ACK: "A sent message's ticks moved: sent, delivered, read, failed or not confirmed.",
    SESSION_STATUS: "The WhatsApp session changed state (login needed, connected, logged out, ...).",
    WORKER_STATUS: "The tenant's worker process started, stopped or failed.",
}
# What "send a test event" sends; it is not subscribed to, every endpoint can get it.
ALL_TYPES = [*EVENT_TYPES, TEST]

# Ack values as words: the same words the portal shows under "Ticks".
ACK_WORDS = {
    Ack.ERROR: "failed",
    Ack.PENDING: "pending",
    Ack.SERVER: "sent",
    Ack.DEVICE: "delivered",
    Ack.READ: "read",
    Ack.PLAYED: "played",
}
NOT_CONFIRMED = "not_confirmed"

QR_URL = "/api/portal/tenant/current/qr"
LINK_CODE_URL = "/api/portal/tenant/current/link-code"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_received(log: MessageLog) -> dict[str, Any]:
    return {
        "log_id": str(log.id),
        "message_id": log.wa_message_id,
        "chat_id": log.chat_id,
        "from": log.from_number or None,
        "sender_id": log.sender_id,
        "group_id": log.chat_id if log.is_group else None,
        "group_name": (log.group_name or None) if log.is_group else None,
        "mentions_me": log.mentions_me,
        "type": log.message_type,
        "text": log.message_text,
        "media": media_of(log),
        "quoted_message_id": log.quoted_wa_message_id or None,
        "timestamp": _iso(log.wa_timestamp or log.created_at),
    }


def media_of(log: MessageLog) -> dict[str, Any] | None:
    """A media message's file as the tenant's program sees it (the API serves the same)."""
    if not log.has_media:
        return None
    return {
        "url": api_url(log) if log.media_file else None,
        "mime_type": log.media_mime_type,
        "size": log.media_size,
        "file_name": log.media_file_name,
        "note": log.media_note,
    }


def chat_of(recipient: str) -> str:
    """The order key's chat for an outgoing message: the same one its answers come from."""
    return recipient if "@" in recipient else f"{recipient}@c.us"


def outbound(
    *, outbound_id: object, to: str, message_id: str = "", idempotency_key: str | None = None
) -> dict[str, Any]:
    return {
        "outbound_id": str(outbound_id),
        "to": to,
        "chat_id": chat_of(to),
        "message_id": message_id or None,
        "idempotency_key": idempotency_key,
    }


def ack_words(ack: int | None) -> str:
    return ACK_WORDS.get(Ack(ack), "pending") if ack is not None else "pending"


def session_status(*, old: str, new: str, reason: str, at: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "state": new.lower(),
        "previous": old.lower(),
        "state_label": WhatsAppSession.State(new).label,
        "reason": reason,
        "at": at.isoformat(),
    }
    if new == WhatsAppSession.State.QR:
        # The code itself is a login credential: the tenant's program fetches it with its key.
        data.update(qr_url=QR_URL, link_code_url=LINK_CODE_URL)
    return data


def worker_status(*, old: str, new: str, reason: str, at: datetime) -> dict[str, Any]:
    return {
        "status": new.lower(),
        "previous": old.lower(),
        "status_label": WorkerProcess.Status(new).label,
        "reason": reason,
        "at": at.isoformat(),
    }


# One example body per type, for the OpenAPI document's `webhooks` section and the portal.
EXAMPLES: dict[str, dict[str, Any]] = {
    MESSAGE_RECEIVED: {
        "log_id": "4f0c5e4e-1d7b-4a53-9a61-3b3f7c0f2a10",
        "message_id": "false_15551230001@c.us_3EB0C767D26A1D0F5A",
        "chat_id": "15551230001@c.us",
        "from": "15551230001",
        "sender_id": "15551230001@c.us",
        "group_id": None,
        "group_name": None,
        "mentions_me": False,
        "type": "image",
        "text": "Like this one, for Saturday?",
        "media": {
            "url": "/api/portal/tenant/current/logs/4f0c5e4e-1d7b-4a53-9a61-3b3f7c0f2a10/media",
            "mime_type": "image/jpeg",
            "size": 48213,
            "file_name": "cake.jpg",
            "note": "",
        },
        "quoted_message_id": None,
        "timestamp": "2026-12-06T09:30:00+00:00",
    },
    MESSAGE_SENT: {
        **outbound(
            outbound_id="9b1d2c3e-0000-4000-8000-000000000001",
            to="15551230001",
            message_id="true_15551230001@c.us_3EB0A1B2C3D4E5F6",
            idempotency_key="order-1042",
        ),
        "source": "API",
        "sent_at": "2026-12-06T09:30:02+00:00",
    },
    MESSAGE_FAILED: {
        **outbound(outbound_id="9b1d2c3e-0000-4000-8000-000000000002", to="15559990000"),
        "error": "This number is not on WhatsApp.",
        "attempts": 1,
    },
    MESSAGE_ACK: {
        **outbound(
            outbound_id="9b1d2c3e-0000-4000-8000-000000000001",
            to="15551230001",
            message_id="true_15551230001@c.us_3EB0A1B2C3D4E5F6",
        ),
        "ack": "read",
        "at": "2026-12-06T09:31:10+00:00",
        "error": "",
    },
    SESSION_STATUS: {
        "state": "logged_out",
        "previous": "connected",
        "state_label": "Logged out",
        "reason": "the phone removed this linked device",
        "at": "2026-12-06T10:00:00+00:00",
    },
    WORKER_STATUS: {
        "status": "running",
        "previous": "starting",
        "status_label": "Running",
        "reason": "",
        "at": "2026-12-06T09:00:05+00:00",
    },
}

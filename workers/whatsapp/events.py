"""What the WhatsApp client reports about the session, as plain values (no Selenium here).

Each comes from a wa-js event (or the bridge's snapshot of the page when it arrives); the
client translates them, the worker's handlers act on them.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class QrCode:
    value: str  # a login credential: store it, never log it


@dataclass(frozen=True)
class QrExpired:
    """WhatsApp stopped offering codes (conn.qrcode_idle)."""


@dataclass(frozen=True)
class Authenticated:
    """A code was scanned or entered: the page is loading the account."""


@dataclass(frozen=True)
class Ready:
    """WhatsApp's main view is ready (conn.main_ready)."""


@dataclass(frozen=True)
class MediaInfo:
    """What WhatsApp says of a message's file before it is downloaded (the sender's claims)."""

    mime_type: str
    file_name: str
    size: int | None


@dataclass(frozen=True)
class IncomingMessage:
    wa_message_id: str  # serialized: false_<chat>_<id>[_<participant>]
    chat_id: str  # as WhatsApp gives it: <digits>@c.us, <id>@lid or <id>@g.us
    sender_id: str  # the person who wrote: the chat, or the participant in a group
    is_group: bool
    kind: str  # WhatsApp's message type: chat, image, ptt, ...
    text: str
    timestamp: datetime | None  # WhatsApp's own time, to the second
    quoted_id: str = ""
    group_name: str = ""
    mentions_me: bool = False
    media: MediaInfo | None = None
    # When the worker saw it: the time it is logged at, even if written later.
    seen_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)


@dataclass(frozen=True)
class GroupMembers:
    """People joined or left a group the number is in (group.participant_changed)."""

    group_id: str
    group_name: str
    action: str  # add, remove, leaver, join, promote, demote
    count: int
    includes_me: bool  # this number itself was added or removed


@dataclass(frozen=True)
class Ack:
    """WhatsApp's acknowledgement of messages we sent (chat.msg_ack_change)."""

    wa_message_ids: tuple[str, ...]
    ack: int  # -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played
    at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)


@dataclass(frozen=True)
class LinkCode:
    code: str  # the 8-character pairing code: a login credential, never logged
    at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)


@dataclass(frozen=True)
class LinkCodeExpired:
    pass


@dataclass(frozen=True)
class LinkCodeError:
    reason: str


@dataclass(frozen=True)
class Disconnected:
    reason: str


@dataclass(frozen=True)
class AuthFailure:
    reason: str


@dataclass(frozen=True)
class Conflict:
    """The session was opened in another window (stream mode CONFLICT)."""


@dataclass(frozen=True)
class Blocked:
    """WhatsApp refuses the session until a person acts (TOS block, proxy block, old version)."""

    mode: str  # the stream mode: TOS_BLOCK, SMB_TOS_BLOCK, PROXYBLOCK, DEPRECATED_VERSION
    reason: str


@dataclass(frozen=True)
class PhoneUnreachable:
    info: str = "OFFLINE"


@dataclass(frozen=True)
class PhoneReachable:
    pass


@dataclass(frozen=True)
class LoggedOut:
    pass


Event = (
    QrCode
    | QrExpired
    | Authenticated
    | Ready
    | IncomingMessage
    | GroupMembers
    | Ack
    | LinkCode
    | LinkCodeExpired
    | LinkCodeError
    | Disconnected
    | AuthFailure
    | Conflict
    | Blocked
    | PhoneUnreachable
    | PhoneReachable
    | LoggedOut
)

EVENT_TYPES: tuple[type, ...] = Event.__args__

# What each blocking stream mode means, in words a tenant can act on.
BLOCKED_REASONS = {
    "TOS_BLOCK": "WhatsApp blocked this number for breaking its terms of service",
    "SMB_TOS_BLOCK": "WhatsApp blocked this business number for breaking its terms of service",
    "PROXYBLOCK": "WhatsApp refuses connections from this server's network (proxy block)",
    "DEPRECATED_VERSION": "WhatsApp says this WhatsApp Web version is too old; update wa-js",
}


def phone_of(wa_id: str) -> str:
    """The phone number in a person's id (``15551234567@c.us``); "" for a LID, group or other."""
    user, _, server = (wa_id or "").partition("@")
    user = user.split(":")[0]  # a device suffix: 15551234567:12@c.us
    return user if server in ("c.us", "s.whatsapp.net") and user.isdigit() else ""


def chat_id_for(recipient: str) -> str:
    """The WhatsApp id to send to: a bare phone number becomes ``<digits>@c.us``."""
    return recipient if "@" in recipient else f"{recipient}@c.us"


@dataclass(frozen=True)
class SentMessage:
    """What wa-js answered to a send: the new message's id and its first ack."""

    wa_message_id: str
    ack: int


@dataclass(frozen=True)
class OutgoingFile:
    """A file to send: its bytes, what WhatsApp shows it as (image, document, ptt, ...)."""

    data: bytes = field(repr=False)
    kind: str
    mime_type: str
    file_name: str
    caption: str

"""What the WhatsApp client reports about the page, as plain values (no Selenium here)."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class QrCode:
    value: str  # a login credential: store it, never log it


@dataclass(frozen=True)
class QrExpired:
    """The page stopped offering codes and shows a reload button instead."""


@dataclass(frozen=True)
class Authenticated:
    """A code was scanned: the page is loading the account."""


@dataclass(frozen=True)
class Ready:
    """The chat list is on screen."""


@dataclass(frozen=True)
class IncomingMessage:
    wa_message_id: str
    chat: str
    from_number: str
    text: str
    timestamp: datetime | None  # WhatsApp's own time, to the minute
    # When the worker saw it: the time it is logged at, even if written later.
    seen_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)


@dataclass(frozen=True)
class Disconnected:
    reason: str


@dataclass(frozen=True)
class AuthFailure:
    reason: str


@dataclass(frozen=True)
class Conflict:
    """The session was opened in another window ("Use here")."""


@dataclass(frozen=True)
class PhoneUnreachable:
    pass


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
    | Disconnected
    | AuthFailure
    | Conflict
    | PhoneUnreachable
    | PhoneReachable
    | LoggedOut
)

# false_<number>@c.us_<MSGID>, or for groups false_<group>@g.us_<MSGID>_<participant>@c.us
_MESSAGE_ID = re.compile(
    r"^(?P<own>true|false)_(?P<chat>[^@_]+)@(?P<server>c\.us|g\.us|lid)_(?P<msg>[^_]+)(?:_(?P<participant>[^@]+)@\S+)?$"
)
_PRE_PLAIN = re.compile(r"^\[(?P<time>[^,\]]+), (?P<date>[^\]]+)\]")


def sender_of(wa_message_id: str) -> str:
    """The sender's number from a message id (the participant's, in a group)."""
    match = _MESSAGE_ID.match(wa_message_id)
    if match is None:
        return ""
    return match["participant"] or match["chat"]


def parse_pre_plain_text(value: str) -> datetime | None:
    """``[10:54 PM, 12/9/2025] Name: `` -> the local time it names (minute precision)."""
    match = _PRE_PLAIN.match(value or "")
    if match is None:
        return None
    for fmt in ("%I:%M %p %m/%d/%Y", "%H:%M %m/%d/%Y", "%H:%M %d/%m/%Y"):
        try:
            return datetime.strptime(f"{match['time']} {match['date']}", fmt)
        except ValueError:
            continue
    return None

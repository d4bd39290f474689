"""One simulated browser session: its login state, chats and sent messages.

Nothing here locks: `SimulatorState` owns the lock and calls these methods
while holding it. Times are `time.monotonic()` seconds for timers and aware
datetimes for what the page displays.
"""

import dataclasses
import logging
import re
import secrets
from datetime import datetime

from workers.simulator.qr import new_qr_value

logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^\d{7,15}$")
MESSAGE_ID_RE = re.compile(r"^[0-9A-Za-z]{1,64}$")
# A code that rotated away a moment ago still links: the phone may have
# scanned it just before the page redrew.
LINK_GRACE_SECONDS = 1.0
# A page that has not polled for this long no longer counts as looking at
# its open chat, so new messages there are unread again.
OPEN_CHAT_FRESH_SECONDS = 2.0
OWN_NAME = "You"


def normalize_phone(raw: object) -> str | None:
    """Return the digits of a 7-15 digit number (a leading + allowed), else None."""
    if not isinstance(raw, str):
        return None
    digits = raw.strip().removeprefix("+")
    return digits if PHONE_RE.match(digits) else None


def format_phone(number: str) -> str:
    return "+" + number


def format_time(moment: datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


def pre_plain_text(moment: datetime, name: str) -> str:
    """The `data-pre-plain-text` value: `[10:54 PM, 12/9/2025] Name: `."""
    return f"[{format_time(moment)}, {moment.month}/{moment.day}/{moment.year}] {name}: "


def new_message_id() -> str:
    return secrets.token_hex(10).upper()


def data_id(*, from_me: bool, chat: str, msg_id: str) -> str:
    return f"{'true' if from_me else 'false'}_{chat}@c.us_{msg_id}"


@dataclasses.dataclass
class Message:
    key: str
    data_id: str
    msg_id: str
    chat: str
    from_me: bool
    text: str
    sender_name: str
    sent_at: datetime
    seq: int = 0  # last change, for the page's incremental fetch
    order: int = 0  # when it entered its chat, for the chat list order
    # Outgoing only: "pending" until the server "accepted" it, then "sent".
    status: str = "received"
    ack_due: float | None = None


@dataclasses.dataclass
class Chat:
    number: str
    messages: list[Message] = dataclasses.field(default_factory=list)
    unread: int = 0


@dataclasses.dataclass
class SentRecord:
    chat: str
    text: str
    msg_id: str
    data_id: str
    sent_at: datetime
    message: Message


@dataclasses.dataclass(frozen=True)
class SessionConfig:
    qr_rotate_seconds: float = 20.0
    qr_max_rotations: int = 6
    loading_seconds: float = 0.6
    send_ack_seconds: float = 0.2


@dataclasses.dataclass
class Session:
    id: str
    config: SessionConfig
    created_at: float
    last_seen: float
    phone: str | None = None
    linked_at: float | None = None
    loading_until: float = 0.0
    qr_round_start: float = 0.0
    qr_values: dict[int, str] = dataclasses.field(default_factory=dict)
    conflict: bool = False
    phone_offline: bool = False
    frozen: str | None = None
    # Frozen only until the page is loaded again (a browser restart fixes it).
    frozen_until_reload: bool = False
    logout_pending: bool = False
    chats: dict[str, Chat] = dataclasses.field(default_factory=dict)
    held: list[Message] = dataclasses.field(default_factory=list)
    # How often each incoming data-id was rendered (re-emits render again).
    seen_incoming: dict[str, int] = dataclasses.field(default_factory=dict)
    sent: list[SentRecord] = dataclasses.field(default_factory=list)
    open_chat: str | None = None
    open_chat_seen: float = 0.0
    seq: int = 0  # last message change; the page fetches what changed after its seq
    page_polls: int = 0
    hang_waiters: int = 0  # page requests blocked in "hang" mode right now

    @property
    def linked(self) -> bool:
        return self.phone is not None

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # --- QR rounds -------------------------------------------------------

    def start_qr_round(self, at: float) -> None:
        self.qr_round_start = at
        self.qr_values = {}

    def qr_index(self, now: float) -> int:
        """Which code of the round is showing; negative while still loading."""
        if now < self.qr_round_start:
            return -1
        return int((now - self.qr_round_start) // self.config.qr_rotate_seconds)

    def qr_value_at(self, index: int) -> str:
        if index not in self.qr_values:
            self.qr_values[index] = new_qr_value()
        return self.qr_values[index]

    def current_qr(self, now: float) -> str | None:
        """The code the page shows now, or None (linked, loading or expired)."""
        if self.linked or now < self.loading_until:
            return None
        index = self.qr_index(now)
        if index < 0 or index >= self.config.qr_max_rotations:
            return None
        return self.qr_value_at(index)

    def qr_expired(self, now: float) -> bool:
        return (
            not self.linked
            and now >= self.loading_until
            and self.qr_index(now) >= self.config.qr_max_rotations
        )

    def last_qr(self) -> str:
        """What `data-ref` keeps once the round expired (the real page keeps the old ref)."""
        last_index = max(self.qr_values, default=0)
        return self.qr_value_at(last_index)

    def shows_qr(self, value: str, now: float) -> bool:
        if self.linked or now < self.loading_until:
            return False
        index = self.qr_index(now)
        if 0 <= index < self.config.qr_max_rotations and self.qr_values.get(index) == value:
            return True
        rotated_at = self.qr_round_start + index * self.config.qr_rotate_seconds
        previous = index - 1
        return (
            0 <= previous < self.config.qr_max_rotations
            and now - rotated_at < LINK_GRACE_SECONDS
            and self.qr_values.get(previous) == value
        )

    def expire_qr(self, now: float) -> None:
        self.last_qr()  # keep a value for data-ref even if none was shown yet
        self.loading_until = min(self.loading_until, now)
        past = self.config.qr_max_rotations * self.config.qr_rotate_seconds + LINK_GRACE_SECONDS + 0.001
        self.qr_round_start = now - past

    # --- state -----------------------------------------------------------

    def state_name(self, now: float) -> str:
        if not self.linked:
            if now < self.loading_until:
                return "loading"
            return "qr_expired" if self.qr_expired(now) else "qr"
        if now < self.loading_until:
            return "syncing"
        if self.conflict:
            return "conflict"
        return "phone_offline" if self.phone_offline else "linked"

    def holds_messages(self) -> bool:
        return self.conflict or self.phone_offline

    def looking_at(self, chat: str, now: float) -> bool:
        return self.open_chat == chat and now - self.open_chat_seen < OPEN_CHAT_FRESH_SECONDS

    # --- messages --------------------------------------------------------

    def chat(self, number: str) -> Chat:
        if number not in self.chats:
            self.chats[number] = Chat(number=number)
        return self.chats[number]

    def add_to_chat(self, message: Message, now: float) -> None:
        chat = self.chat(message.chat)
        message.seq = message.order = self.next_seq()
        chat.messages.append(message)
        if not message.from_me and not self.looking_at(message.chat, now):
            chat.unread += 1

    def release_held(self, now: float) -> None:
        if self.holds_messages():
            return
        held, self.held = self.held, []
        for message in held:
            self.add_to_chat(message, now)
        self._schedule_pending_acks(now)

    def _schedule_pending_acks(self, now: float) -> None:
        for record in self.sent:
            if record.message.status == "pending" and record.message.ack_due is None:
                record.message.ack_due = now + self.config.send_ack_seconds

    def settle(self, now: float) -> None:
        """Apply what time alone changes: pending sends the server has now accepted."""
        if self.phone_offline:
            return
        for record in self.sent:
            message = record.message
            due = message.ack_due
            if message.status == "pending" and due is not None and due <= now:
                message.status = "sent"
                message.seq = self.next_seq()

    def unlink(self, now: float) -> None:
        """Forget the phone and everything synced from it, as a real logout does."""
        self.phone = None
        self.linked_at = None
        self.chats = {}
        self.held = []
        self.seen_incoming = {}
        self.conflict = False
        self.phone_offline = False
        self.open_chat = None
        self.loading_until = now
        self.start_qr_round(now)

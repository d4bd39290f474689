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

from workers.simulator.media import Media
from workers.simulator.qr import new_qr_value

logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^\d{7,15}$")
PERSON_JID_RE = re.compile(r"^(\d{7,15})@c\.us$")
# Old groups are `<creator>-<created>`, new ones 18 digits.
GROUP_RE = re.compile(r"^(\d{5,20}-\d{5,20}|\d{18})@g\.us$")
LID_RE = re.compile(r"^(\d{5,20})(@lid)?$")
LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789"
STATUS_CHAT = "status@broadcast"
# wa-js's ACK values: ERROR, PENDING, SERVER, DEVICE, READ, PLAYED.
ACK_ERROR, ACK_PENDING, ACK_SERVER, ACK_DEVICE, ACK_READ, ACK_PLAYED = -1, 0, 1, 2, 3, 4
# How far a new send goes by itself in each control "acks" mode.
ACK_MODES = {"never": ACK_PENDING, "server": ACK_SERVER, "device": ACK_DEVICE, "read": ACK_READ}
ACK_STATUS = {-1: "error", 0: "pending", 1: "sent", 2: "delivered", 3: "read", 4: "played"}
STREAM_BLOCKS = ("TOS_BLOCK", "DEPRECATED_VERSION")
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


def normalize_chat(raw: object) -> str | None:
    """The chat key of a chat id: digits for a person, the full id for a group or a lid."""
    if not isinstance(raw, str):
        return None
    value = raw.strip()
    if match := PERSON_JID_RE.match(value):
        return match[1]
    if GROUP_RE.match(value) or (value.endswith("@lid") and LID_RE.match(value)):
        return value
    return normalize_phone(value)


def normalize_lid(raw: object) -> str | None:
    """Return `<digits>@lid` for `<digits>` or `<digits>@lid`, else None."""
    if not isinstance(raw, str) or not (match := LID_RE.match(raw.strip())):
        return None
    return match[1] + "@lid"


def chat_jid(chat: str) -> str:
    return chat if "@" in chat else f"{chat}@c.us"


def chat_title(chat: str) -> str:
    return chat if "@" in chat else format_phone(chat)


def format_phone(number: str) -> str:
    return "+" + number


def new_link_code() -> str:
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(8))


def format_time(moment: datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


def pre_plain_text(moment: datetime, name: str) -> str:
    """The `data-pre-plain-text` value: `[10:54 PM, 12/9/2025] Name: `."""
    return f"[{format_time(moment)}, {moment.month}/{moment.day}/{moment.year}] {name}: "


def new_message_id() -> str:
    return secrets.token_hex(10).upper()


def data_id(*, from_me: bool, chat: str, msg_id: str, participant: str | None = None) -> str:
    """A MsgKey's serialized form: `<fromMe>_<remote>_<id>[_<participant>]`."""
    key = f"{'true' if from_me else 'false'}_{chat_jid(chat)}_{msg_id}"
    return f"{key}_{participant}" if participant else key


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
    author: str | None = None  # the participant's id, in groups and status posts
    quoted: str | None = None
    media: Media | None = None
    mentions: tuple[str, ...] = ()  # ids mentioned with @ (the page's own number among them)
    # A group's membership change, shown as a line in the group: {"action", "participants"}.
    change: dict | None = None
    # Outgoing only: the ack so far, how far it goes by itself, and when its next step is due.
    ack: int = ACK_PENDING
    ack_target: int = ACK_DEVICE
    ack_due: float | None = None

    @property
    def status(self) -> str:
        return ACK_STATUS[self.ack] if self.from_me else "received"


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
    link_code_seconds: float = 195.0  # wa-js's LINK_CODE_TTL_MS


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
    # A request that the open page hold this many more MB of JavaScript heap (the leak of a
    # page left open for days, on demand); a page loaded later never holds it.
    heap_grow_id: int = 0
    heap_grow_mb: int = 0
    block: str | None = None  # a blocking stream mode: TOS_BLOCK or DEPRECATED_VERSION
    ack_mode: str = "device"
    link_code: str | None = None
    link_code_phone: str | None = None
    link_code_expires: float = 0.0
    chats: dict[str, Chat] = dataclasses.field(default_factory=dict)
    group_names: dict[str, str] = dataclasses.field(default_factory=dict)
    held: list[Message] = dataclasses.field(default_factory=list)
    # How often each incoming data-id was rendered (re-emits render again).
    seen_incoming: dict[str, int] = dataclasses.field(default_factory=dict)
    sent: list[SentRecord] = dataclasses.field(default_factory=list)
    open_chat: str | None = None
    open_chat_seen: float = 0.0
    seq: int = 0  # last message change; the page fetches what changed after its seq
    # The last change a page fetched in its feed. A page loaded later starts its feed there,
    # as WhatsApp delivers to a device what it has not yet delivered: a message that came
    # while the page was reloading arrives on the new page, and nothing is replayed twice.
    feed_delivered: int | None = None
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
        if self.block:
            return self.block.lower()
        if not self.linked:
            if now < self.loading_until:
                return "loading"
            return "qr_expired" if self.qr_expired(now) else "qr"
        if now < self.loading_until:
            return "syncing"
        if self.conflict:
            return "conflict"
        return "phone_offline" if self.phone_offline else "linked"

    def stream_mode(self, now: float) -> str:
        """wa-js's StreamMode for this session."""
        if self.block:
            return self.block
        if not self.linked:
            return "QR"
        if now < self.loading_until:
            return "SYNCING"
        return "CONFLICT" if self.conflict else "MAIN"

    def stream_info(self) -> str:
        return "OFFLINE" if self.linked and self.phone_offline else "NORMAL"

    def link_code_expired(self, now: float) -> bool:
        return self.link_code is not None and now >= self.link_code_expires

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
            message = record.message
            if 0 <= message.ack < message.ack_target and message.ack_due is None:
                message.ack_due = now + self.config.send_ack_seconds

    def settle(self, now: float) -> None:
        """Apply what time alone changes: sends that went one ack further (server, device, read)."""
        if self.phone_offline:
            return
        step = self.config.send_ack_seconds
        for record in self.sent:
            message = record.message
            while (
                message.ack_due is not None
                and message.ack_due <= now
                and 0 <= message.ack < message.ack_target
            ):
                message.ack += 1
                message.seq = self.next_seq()
                message.ack_due = message.ack_due + step if message.ack < message.ack_target else None

    def set_ack(self, message: Message, ack: int) -> None:
        """An ack the control API decided: the message stays there."""
        message.ack = message.ack_target = ack
        message.ack_due = None
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
        self.clear_link_code()
        self.loading_until = now
        self.start_qr_round(now)

    def clear_link_code(self) -> None:
        self.link_code = self.link_code_phone = None

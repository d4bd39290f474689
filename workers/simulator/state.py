"""All simulated sessions behind one lock, and the operations the page and the control API use.

Every public method takes the lock, so the HTTP server's threads can call
them freely. Domain validation lives here too, so the page API and the
control API reject the same bad numbers and texts in the same words.
"""

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime

from workers.simulator import media as sim_media
from workers.simulator import payloads
from workers.simulator.session import (
    ACK_ERROR,
    ACK_MODES,
    ACK_PLAYED,
    GROUP_RE,
    MESSAGE_ID_RE,
    OWN_NAME,
    STATUS_CHAT,
    STREAM_BLOCKS,
    Message,
    SentRecord,
    Session,
    SessionConfig,
    chat_jid,
    chat_title,
    data_id,
    format_phone,
    new_link_code,
    new_message_id,
    normalize_chat,
    normalize_lid,
    normalize_phone,
)

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 65536
MAX_NAME_CHARS = 100
FREEZE_MODES = ("stale", "hang")
# Never-linked sessions nobody has looked at for this long are dropped, so
# one-off page loads (a curl, a health check) don't pile up in the list.
IDLE_SESSION_SECONDS = 3600.0


class SimulatorError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SimulatorError):
    status = 400


class NotFound(SimulatorError):
    status = 404


class StateConflict(SimulatorError):
    status = 409


def _local_now() -> datetime:
    return datetime.now().astimezone()


class SimulatorState:
    def __init__(
        self,
        config: SessionConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _local_now,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._sessions: dict[str, Session] = {}
        self._invalid_numbers: set[str] = set()
        # lid (`<digits>@lid`) -> phone number, as incoming messages from a lid taught us.
        self._lid_phones: dict[str, str] = {}
        self._closed = False

    # --- page side ---------------------------------------------------------

    def page_session(self, session_id: str | None) -> tuple[str, bool]:
        """Return the session for a cookie value and whether it was just created."""
        with self._lock:
            now = self._clock()
            if session_id and session_id in self._sessions:
                self._sessions[session_id].last_seen = now
                return session_id, False
            self._prune_idle(now)
            session = Session(id=secrets.token_hex(8), config=self.config, created_at=now, last_seen=now)
            # Until its page boots, a new session looks like a page still loading.
            session.loading_until = now + self.config.loading_seconds
            session.start_qr_round(session.loading_until)
            self._sessions[session.id] = session
            logger.info("simulator session created", extra={"session_id": session.id})
            return session.id, True

    def boot(self, session_id: str, *, post_logout: bool) -> dict:
        """A page load: show the loading view, then a fresh QR round if not linked."""
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            session.loading_until = now + self.config.loading_seconds
            # A page loaded afresh has no chat open: the old page's chat is nobody's to read.
            session.open_chat = None
            if not session.linked:
                session.start_qr_round(session.loading_until)
            if post_logout:
                session.logout_pending = False
            if session.frozen_until_reload:
                # A page that hung is fixed by loading it again (what a browser restart does).
                session.frozen, session.frozen_until_reload = None, False
            return payloads.page_payload(session, now, open_chat=None, after=0)

    def page_state(
        self, session_id: str, *, open_chat: str | None, after: int, feed_after: int | None = None
    ) -> dict:
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            session.page_polls += 1
            chat = normalize_chat(open_chat)
            if chat:
                self._look_at(session, chat, now)
            session.settle(now)
            payload = payloads.page_payload(session, now, open_chat=chat, after=after, feed_after=feed_after)
            if feed_after is not None:
                fetched = [feed_after, *(m["seq"] for m in payload["feed"])]
                session.feed_delivered = max(session.feed_delivered or 0, *fetched)
            return payload

    def _look_at(self, session: Session, chat: str, now: float) -> None:
        session.open_chat = chat
        session.open_chat_seen = now
        opened = session.chats.get(chat)
        if opened:
            opened.unread = 0

    def open_chat(self, session_id: str, phone: object) -> dict:
        """What `/send?phone=` asks: is this a number the page may open a chat with?"""
        with self._lock:
            number = normalize_phone(phone)
            if number is None or number in self._invalid_numbers:
                return {"valid": False}
            self._look_at(self._sessions[session_id], number, self._clock())
            return {"valid": True, "number": number, "title": format_phone(number)}

    def mark_read(self, session_id: str, chat: object) -> dict:
        key = self._require_chat(chat)
        with self._lock:
            self._look_at(self._sessions[session_id], key, self._clock())
            return {"ok": True, "wid": chat_jid(key)}

    def page_send(
        self, session_id: str, *, chat: object, text: object, msg_id: object, media: object = None
    ) -> dict:
        key = self._require_chat(chat)
        body = text if media is not None and text in ("", None) else self._require_text(text)
        try:
            sent_media = sim_media.from_request(media, caption=str(body or "")) if media is not None else None
        except sim_media.MediaError as error:
            raise BadRequest(str(error)) from None
        if not isinstance(msg_id, str) or not MESSAGE_ID_RE.match(msg_id):
            raise BadRequest("id must be 1-64 letters or digits")
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            if not session.linked:
                raise StateConflict("session is not linked")
            if session.block:
                raise StateConflict(f"session is blocked ({session.block})")
            if session.conflict:
                raise StateConflict("session is open in another window")
            if key in self._invalid_numbers:
                raise NotFound("this number is not on WhatsApp")
            message = self._record_send(session, key, str(body or ""), msg_id, now, sent_media)
            self._changed.notify_all()
            return payloads.message_payload(message)

    def _record_send(
        self,
        session: Session,
        number: str,
        text: str,
        msg_id: str,
        now: float,
        media: sim_media.Media | None = None,
    ) -> Message:
        message_data_id = data_id(from_me=True, chat=number, msg_id=msg_id)
        for record in session.sent:
            if record.data_id == message_data_id:
                return record.message  # the page retried a send we already have
        message = Message(
            key=message_data_id + "#1",
            data_id=message_data_id,
            msg_id=msg_id,
            chat=number,
            from_me=True,
            text=text,
            sender_name=OWN_NAME,
            sent_at=self._wall_clock(),
            ack_target=ACK_MODES[session.ack_mode],
            ack_due=None if session.phone_offline else now + self.config.send_ack_seconds,
            media=media,
        )
        session.add_to_chat(message, now)
        session.sent.append(SentRecord(number, text, msg_id, message_data_id, message.sent_at, message))
        logger.info("simulator page sent a message", extra={"session_id": session.id})
        return message

    def start_link_code(self, session_id: str, phone: object) -> dict:
        """wa-js's startLinkDeviceCodeForPhoneNumber: a fresh 8-character code for `phone`."""
        number = self._require_phone(phone, "phone")
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            if session.linked:
                raise StateConflict("session is already linked")
            session.link_code, session.link_code_phone = new_link_code(), number
            session.link_code_expires = now + self.config.link_code_seconds
            logger.info("simulator page asked for a link code", extra={"session_id": session.id})
            return {"code": session.link_code}

    def query_exists(self, contact_id: object) -> dict:
        """What wa-js's queryExists learns: is this id on WhatsApp, and its lid if known."""
        key = self._require_chat(contact_id, "id")
        with self._lock:
            if key in self._invalid_numbers:
                return {"exists": False}
            lid = next((lid for lid, phone in self._lid_phones.items() if phone == key), None)
            return {"exists": True, "wid": chat_jid(key), "lid": lid}

    def pn_lid_entry(self, contact_id: object) -> dict:
        """The lid <-> phone pair of a `@lid` or `@c.us` id (either side may be unknown)."""
        key = self._require_chat(contact_id, "id")
        if GROUP_RE.match(key):
            raise BadRequest("id must be a person's id (@c.us or @lid), not a group")
        with self._lock:
            if key.endswith("@lid"):
                phone = self._lid_phones.get(key)
                return {"lid": key, "phone": chat_jid(phone) if phone else None}
            lid = next((lid for lid, phone in self._lid_phones.items() if phone == key), None)
            return {"lid": lid, "phone": chat_jid(key)}

    def reload_qr(self, session_id: str) -> dict:
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            if not session.linked:
                session.start_qr_round(now)
            return {"ok": True}

    def use_here(self, session_id: str) -> dict:
        with self._lock:
            now = self._clock()
            session = self._sessions[session_id]
            session.conflict = False
            session.release_held(now)
            logger.info("simulator page chose use here", extra={"session_id": session.id})
            return {"ok": True}

    def page_logout(self, session_id: str) -> dict:
        with self._lock:
            session = self._sessions[session_id]
            session.unlink(self._clock())
            logger.info("simulator page logged out", extra={"session_id": session.id})
            return {"ok": True}

    def wait_while_hung(self, session_id: str, timeout: float) -> bool:
        """Block while the session is frozen in "hang" mode; True if it still is."""
        with self._lock:
            session = self._sessions[session_id]
            session.hang_waiters += 1
            try:
                self._changed.wait_for(lambda: self._closed or session.frozen != "hang", timeout=timeout)
            finally:
                session.hang_waiters -= 1
            return not self._closed and session.frozen == "hang"

    # --- control side ------------------------------------------------------

    def sessions(self) -> list[dict]:
        with self._lock:
            now = self._clock()
            ordered = sorted(self._sessions.values(), key=lambda s: s.created_at)
            for session in ordered:
                session.settle(now)
            return [payloads.describe_session(s, now) for s in ordered]

    def describe(self, ref: str) -> dict:
        return self._control(ref, lambda session, now: None)

    def link(self, qr: object, phone: object) -> dict:
        if not isinstance(qr, str) or not qr:
            raise BadRequest("qr must be the data-ref value shown by the page")
        number = self._require_phone(phone, "phone")
        with self._lock:
            now = self._clock()
            session = next((s for s in self._sessions.values() if s.shows_qr(qr, now)), None)
            if session is None:
                raise NotFound("no session is showing this QR code (expired or never shown)")
            self._link_session(session, number, now)
            return payloads.describe_session(session, now)

    def link_by_code(self, code: object) -> dict:
        """The phone entered the pairing code a page shows: link that session to its phone."""
        if not isinstance(code, str) or not code.strip():
            raise BadRequest("code must be the 8-character code the page asked for")
        wanted = code.strip().upper().replace("-", "")
        with self._lock:
            now = self._clock()
            session = next(
                (
                    s
                    for s in self._sessions.values()
                    if not s.linked and s.link_code == wanted and not s.link_code_expired(now)
                ),
                None,
            )
            if session is None or session.link_code_phone is None:
                raise NotFound("no session is showing this link code (expired or never asked for)")
            self._link_session(session, session.link_code_phone, now)
            return payloads.describe_session(session, now)

    def _link_session(self, session: Session, number: str, now: float) -> None:
        session.phone = number
        session.linked_at = now
        session.loading_until = now + self.config.loading_seconds
        session.clear_link_code()
        self._changed.notify_all()

    def expire_qr(self, ref: str) -> dict:
        def expire(session: Session, now: float) -> None:
            if session.linked:
                raise StateConflict("session is linked; it shows no QR code")
            session.expire_qr(now)

        return self._control(ref, expire)

    def deliver_incoming(self, ref: str, **fields: object) -> dict:
        """A message from a contact (or a group participant, a lid, a status post) arrives.

        `fields` are the control API's: from, text, name, id, duplicate, group, lid,
        quoted, status.
        """
        incoming = self._incoming_fields(fields)
        return self._control(ref, lambda session, now: self._deliver(session, now, incoming))

    def _incoming_fields(self, fields: dict[str, object]) -> dict:
        raw_media = fields.get("media")
        # A photo or a voice note needs no words; its text is the caption.
        body = (
            "" if raw_media is not None and not fields.get("text") else self._require_text(fields.get("text"))
        )
        try:
            media = sim_media.from_request(raw_media, caption=body) if raw_media is not None else None
        except sim_media.MediaError as error:
            raise BadRequest(str(error)) from None
        duplicate, status = fields.get("duplicate", False), fields.get("status", False)
        if not isinstance(duplicate, bool) or not isinstance(status, bool):
            raise BadRequest("duplicate and status must be true or false")
        quoted = fields.get("quoted")
        if quoted is not None and (not isinstance(quoted, str) or not quoted.strip() or len(quoted) > 200):
            raise BadRequest("quoted must be a message id of at most 200 characters")
        sender, lid_phone = self._incoming_sender(fields)
        group = fields.get("group")
        if group is not None and (not isinstance(group, str) or not GROUP_RE.match(group)):
            raise BadRequest("group must be a group id: <digits>-<digits>@g.us or <18 digits>@g.us")
        if status and group:
            raise BadRequest("a status post is not in a group")
        group_name = fields.get("group_name")
        if group_name is not None and (not group or not isinstance(group_name, str) or len(group_name) > 100):
            raise BadRequest("group_name is a group's name (at most 100 characters), with group")
        mentions = fields.get("mentions", [])
        if (
            not isinstance(mentions, list)
            or not all(isinstance(m, str) for m in mentions)
            or len(mentions) > 50
        ):
            raise BadRequest('mentions must be a list of phone numbers, or "me" for the linked number')
        shared = group or (STATUS_CHAT if status else None)
        return {
            "chat": shared or sender,
            "author": chat_jid(sender) if shared else None,
            "lid_phone": lid_phone,
            "text": body,
            "name": self._optional_name(fields.get("name")) or chat_title(sender),
            "msg_id": self._optional_message_id(fields.get("msg_id")),
            "duplicate": duplicate,
            "quoted": quoted,
            "media": media,
            "mentions": mentions,
            "group_name": group_name,
        }

    def _incoming_sender(self, fields: dict[str, object]) -> tuple[str, str | None]:
        """The sender's chat key, and the phone its lid resolves to (lid senders only)."""
        raw_lid = fields.get("lid")
        if raw_lid is None:
            return self._require_phone(fields.get("sender"), "from"), None
        lid = normalize_lid(raw_lid)
        if lid is None:
            raise BadRequest("lid must be 5-20 digits, optionally followed by @lid")
        phone = None if fields.get("sender") is None else self._require_phone(fields.get("sender"), "from")
        return lid, phone

    def _deliver(self, session: Session, now: float, incoming: dict) -> dict:
        if not session.linked:
            raise StateConflict("session is not linked")
        if incoming["lid_phone"]:
            self._lid_phones[incoming["author"] or incoming["chat"]] = incoming["lid_phone"]
        message_data_id = data_id(
            from_me=False, chat=incoming["chat"], msg_id=incoming["msg_id"], participant=incoming["author"]
        )
        times = session.seen_incoming.get(message_data_id, 0)
        if times and not incoming["duplicate"]:
            return {"data_id": message_data_id, "delivered": False, "held": False}
        session.seen_incoming[message_data_id] = times + 1
        message = Message(
            key=f"{message_data_id}#{times + 1}",
            data_id=message_data_id,
            msg_id=incoming["msg_id"],
            chat=incoming["chat"],
            from_me=False,
            text=incoming["text"],
            sender_name=incoming["name"],
            sent_at=self._wall_clock(),
            author=incoming["author"],
            quoted=incoming["quoted"],
            media=incoming["media"],
            mentions=tuple(self._mention_id(session, m) for m in incoming["mentions"]),
        )
        if incoming["group_name"]:
            session.group_names[incoming["chat"]] = incoming["group_name"]
        held = session.holds_messages()
        if held:
            session.held.append(message)
        else:
            session.add_to_chat(message, now)
        return {"data_id": message_data_id, "delivered": True, "held": held}

    def _mention_id(self, session: Session, mention: str) -> str:
        number = session.phone if mention == "me" else normalize_phone(mention)
        if number is None:
            raise BadRequest('mentions must be a list of phone numbers, or "me" for the linked number')
        return chat_jid(number)

    def group_change(
        self, ref: str, *, group: object, action: object, participants: object, name: object
    ) -> dict:
        """People are added to or removed from a group (``"me"``: the linked number itself)."""
        if not isinstance(group, str) or not GROUP_RE.match(group):
            raise BadRequest("group must be a group id: <digits>-<digits>@g.us or <18 digits>@g.us")
        if action not in ("add", "remove", "join", "leaver", "promote", "demote"):
            raise BadRequest("action must be add, remove, join, leaver, promote or demote")
        if (
            not isinstance(participants, list)
            or not participants
            or not all(isinstance(p, str) for p in participants)
        ):
            raise BadRequest('participants must be a non-empty list of phone numbers, or "me"')
        if name is not None and (not isinstance(name, str) or len(name) > 100):
            raise BadRequest("name must be the group's name, at most 100 characters")

        def change(session: Session, now: float) -> dict:
            if not session.linked:
                raise StateConflict("session is not linked")
            if name:
                session.group_names[group] = name
            ids = [self._mention_id(session, p) for p in participants]
            msg_id = new_message_id()
            message = Message(
                key=f"{group}:{msg_id}",
                data_id=data_id(from_me=False, chat=group, msg_id=msg_id),
                msg_id=msg_id,
                chat=group,
                from_me=False,
                text="",
                sender_name="",
                sent_at=self._wall_clock(),
                change={"action": action, "participants": ids},
            )
            session.add_to_chat(message, now)
            return {"data_id": message.data_id}

        return self._control(ref, change)

    def media_of(self, session_id: str, wa_message_id: object) -> sim_media.Media:
        """The file of a message this page shows (wa-js downloadMedia)."""
        with self._lock:
            session = self._sessions[session_id]
            for chat in session.chats.values():
                for message in chat.messages:
                    if message.data_id == wa_message_id and message.media is not None:
                        return message.media
        raise NotFound("no media message with this id")

    def sent_media(self, ref: str, data_id: object) -> sim_media.Media:
        with self._lock:
            session = self._resolve(ref)
            for record in session.sent:
                if data_id in (record.data_id, record.msg_id) and record.message.media is not None:
                    return record.message.media
        raise NotFound("no sent media with this id")

    def set_conflict(self, ref: str) -> dict:
        return self._control(ref, self._linked_action(lambda s, now: setattr(s, "conflict", True)))

    def set_phone_offline(self, ref: str, offline: bool) -> dict:
        def change(session: Session, now: float) -> None:
            session.phone_offline = offline
            session.release_held(now)

        return self._control(ref, self._linked_action(change))

    def logout(self, ref: str) -> dict:
        def log_out(session: Session, now: float) -> None:
            session.unlink(now)
            session.logout_pending = True

        return self._control(ref, self._linked_action(log_out))

    def freeze(self, ref: str, mode: object, *, until_reload: bool = False) -> dict:
        if mode not in FREEZE_MODES:
            raise BadRequest('mode must be "stale" or "hang"')

        def apply(session: Session, now: float) -> None:
            session.frozen, session.frozen_until_reload = mode, bool(until_reload)

        return self._control(ref, apply)

    def grow_heap(self, ref: str, mb: object) -> dict:
        """Make the open page hold ``mb`` MB more of JavaScript heap, until it is loaded again."""
        if not isinstance(mb, int) or isinstance(mb, bool) or not 1 <= mb <= 2048:
            raise BadRequest("mb must be a whole number from 1 to 2048")

        def apply(session: Session, now: float) -> None:
            session.heap_grow_id += 1
            session.heap_grow_mb = mb

        return self._control(ref, apply)

    def unfreeze(self, ref: str) -> dict:
        return self._control(ref, lambda session, now: setattr(session, "frozen", None))

    def set_block(self, ref: str, block: str | None) -> dict:
        """TOS_BLOCK, DEPRECATED_VERSION, or None to lift either."""
        if block is not None and block not in STREAM_BLOCKS:
            raise BadRequest("block must be TOS_BLOCK or DEPRECATED_VERSION")
        return self._control(ref, lambda session, now: setattr(session, "block", block))

    def set_ack_mode(self, ref: str, mode: object) -> dict:
        if not isinstance(mode, str) or mode not in ACK_MODES:
            raise BadRequest('mode must be "server", "device", "read" or "never"')
        return self._control(ref, lambda session, now: setattr(session, "ack_mode", mode))

    def set_message_ack(self, ref: str, msg_id: object, ack: object) -> dict:
        """Set one sent message's ack; `msg_id` is its id or its serialized key."""
        if not isinstance(msg_id, str) or not msg_id:
            raise BadRequest("id must be a sent message's id or serialized id")
        if isinstance(ack, bool) or not isinstance(ack, int) or not ACK_ERROR <= ack <= ACK_PLAYED:
            raise BadRequest("ack must be an integer from -1 to 4")

        def apply(session: Session, now: float) -> dict:
            record = next((r for r in session.sent if msg_id in (r.msg_id, r.data_id)), None)
            if record is None:
                raise NotFound("this session sent no message with this id")
            session.set_ack(record.message, ack)
            return {"message": payloads.message_payload(record.message)}

        return self._control(ref, apply)

    def sent(self, ref: str) -> dict:
        with self._lock:
            session = self._resolve(ref)
            session.settle(self._clock())
            return payloads.sent_payload(session)

    def set_invalid_numbers(self, numbers: object) -> list[str]:
        if not isinstance(numbers, list):
            raise BadRequest("numbers must be a list of phone numbers")
        normalized = [normalize_phone(number) for number in numbers]
        if None in normalized:
            raise BadRequest("every number must be 7-15 digits, optionally after a +")
        with self._lock:
            self._invalid_numbers = {number for number in normalized if number}
            return sorted(self._invalid_numbers)

    def invalid_numbers(self) -> list[str]:
        with self._lock:
            return sorted(self._invalid_numbers)

    def close(self) -> None:
        """Release pages blocked in "hang" mode so server threads can end."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    # --- helpers -----------------------------------------------------------

    def _control(self, ref: str, action: Callable[[Session, float], dict | None]) -> dict:
        with self._lock:
            now = self._clock()
            session = self._resolve(ref)
            session.settle(now)
            extra = action(session, now) or {}
            self._changed.notify_all()
            return {**payloads.describe_session(session, now), **extra}

    @staticmethod
    def _linked_action(
        action: Callable[[Session, float], None],
    ) -> Callable[[Session, float], None]:
        def guarded(session: Session, now: float) -> None:
            if not session.linked:
                raise StateConflict("session is not linked")
            action(session, now)

        return guarded

    def _resolve(self, ref: str) -> Session:
        """Find a session by id, or by `phone:<digits>` (the most recently linked one)."""
        if ref.startswith("phone:"):
            number = normalize_phone(ref.removeprefix("phone:"))
            matches = [s for s in self._sessions.values() if number and s.phone == number]
            if not matches:
                raise NotFound("no session is linked to this phone")
            return max(matches, key=lambda s: s.linked_at or 0.0)
        if ref not in self._sessions:
            raise NotFound("unknown session id")
        return self._sessions[ref]

    def _prune_idle(self, now: float) -> None:
        idle = [
            s.id
            for s in self._sessions.values()
            if not s.linked and not s.sent and now - s.last_seen > IDLE_SESSION_SECONDS
        ]
        for session_id in idle:
            del self._sessions[session_id]

    @staticmethod
    def _require_phone(raw: object, field: str) -> str:
        number = normalize_phone(raw)
        if number is None:
            raise BadRequest(f"{field} must be a phone number of 7-15 digits, optionally after a +")
        return number

    @staticmethod
    def _require_chat(raw: object, field: str = "chat") -> str:
        key = normalize_chat(raw)
        if key is None:
            raise BadRequest(
                f"{field} must be a phone number, <digits>@c.us, a group id (@g.us) or <digits>@lid"
            )
        return key

    @staticmethod
    def _require_text(raw: object) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise BadRequest("text must be a non-empty string")
        if len(raw) > MAX_TEXT_CHARS:
            raise BadRequest(f"text must be at most {MAX_TEXT_CHARS} characters")
        return raw

    @staticmethod
    def _optional_name(raw: object) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME_CHARS:
            raise BadRequest(f"name must be a non-empty string of at most {MAX_NAME_CHARS} characters")
        return raw.strip()

    @staticmethod
    def _optional_message_id(raw: object) -> str:
        if raw is None:
            return new_message_id()
        if not isinstance(raw, str) or not MESSAGE_ID_RE.match(raw):
            raise BadRequest("id must be 1-64 letters or digits")
        return raw

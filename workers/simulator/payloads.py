"""JSON shapes the simulator returns: what the page renders and what the control API reports.

Called with the state lock held, so a payload is always one consistent snapshot.
"""

import logging
from datetime import datetime

from workers.simulator.qr import qr_matrix
from workers.simulator.session import (
    STATUS_CHAT,
    Chat,
    Message,
    SentRecord,
    Session,
    chat_jid,
    chat_title,
    format_phone,
    format_time,
    pre_plain_text,
)

logger = logging.getLogger(__name__)


def page_view(session: Session, now: float) -> str:
    if now < session.loading_until:
        return "loading"
    if session.linked:
        return "main"
    return "qr_expired" if session.qr_expired(now) else "qr"


def page_payload(
    session: Session, now: float, *, open_chat: str | None, after: int, feed_after: int | None = None
) -> dict:
    view = page_view(session, now)
    main = view == "main"
    return {
        "view": view,
        "me": format_phone(session.phone) if session.phone else None,
        "wid": chat_jid(session.phone) if session.phone else None,
        "stream": {"mode": session.stream_mode(now), "info": session.stream_info()},
        "link_code": _link_code_payload(session, now),
        # The page's wa-js double turns the feed into chat.new_message and chat.msg_ack_change;
        # a page starts it at `feed_start`: after what an earlier page fetched, or at `seq`
        # for the session's first page.
        "seq": session.seq,
        "feed_start": session.seq if session.feed_delivered is None else session.feed_delivered,
        "feed": _feed(session, feed_after) if feed_after is not None else [],
        "qr": _qr_payload(session, now, view),
        "conflict": main and session.conflict,
        "phone_offline": main and session.phone_offline,
        "frozen": session.frozen,
        "heap_grow": {"id": session.heap_grow_id, "mb": session.heap_grow_mb},
        "logout": session.logout_pending,
        "chats": _chat_list(session) if main else [],
        # What WPP.chat.get(<group>).name answers.
        "group_names": {chat_jid(chat): name for chat, name in session.group_names.items()} if main else {},
        "chat": _open_chat(session, open_chat, after) if main and open_chat else None,
    }


def _link_code_payload(session: Session, now: float) -> dict | None:
    if session.link_code is None:
        return None
    return {"code": session.link_code, "expired": session.link_code_expired(now)}


def _feed(session: Session, after: int) -> list[dict]:
    """Every message of every chat that changed after `after` (arrived, or a new ack), in order."""
    changed = [m for chat in session.chats.values() for m in chat.messages if m.seq > after]
    changed.sort(key=lambda m: m.seq)
    return [message_payload(m) for m in changed]


def _qr_payload(session: Session, now: float, view: str) -> dict | None:
    if view == "qr":
        value = session.current_qr(now)
        return {"value": value, "matrix": list(qr_matrix(value))} if value else None
    if view == "qr_expired":
        return {"value": session.last_qr(), "matrix": None}
    return None


def _chat_list(session: Session) -> list[dict]:
    # Like the real list: only chats with messages, most recent first.
    # Status posts live in the status tab, not in the chat list.
    chats = [chat for chat in session.chats.values() if chat.messages and chat.number != STATUS_CHAT]
    chats.sort(key=lambda chat: chat.messages[-1].order, reverse=True)
    return [_chat_row(chat, session.group_names.get(chat.number)) for chat in chats]


def _chat_row(chat: Chat, name: str | None = None) -> dict:
    last = chat.messages[-1]
    return {
        "number": chat.number,
        "title": name or chat_title(chat.number),
        "last_text": last.text,
        "last_from_me": last.from_me,
        "time": format_time(last.sent_at),
        "unread": chat.unread,
    }


def _open_chat(session: Session, number: str, after: int) -> dict:
    chat = session.chats.get(number)
    messages = [m for m in chat.messages if m.seq > after] if chat else []
    return {
        "number": number,
        "title": chat_title(number),
        "messages": [message_payload(m) for m in messages],
    }


def message_payload(message: Message) -> dict:
    return {
        "key": message.key,
        "data_id": message.data_id,
        "from_me": message.from_me,
        "text": message.text,
        "pre": pre_plain_text(message.sent_at, message.sender_name),
        "time": format_time(message.sent_at),
        "status": message.status,
        "ack": message.ack,
        "seq": message.seq,
        "id": message.msg_id,
        "chat": chat_jid(message.chat),
        "author": message.author,
        "quoted": message.quoted,
        "name": message.sender_name,
        "t": int(message.sent_at.timestamp()),
        "media": message.media.summary() if message.media else None,
        "mentions": list(message.mentions),
        "change": message.change,
    }


def describe_session(session: Session, now: float) -> dict:
    state = session.state_name(now)
    qr = session.current_qr(now) if state == "qr" else None
    return {
        "id": session.id,
        "state": state,
        "frozen": session.frozen,
        "phone": session.phone,
        "qr": qr,
        "qr_rotation": session.qr_index(now) if qr else None,
        "chats": sum(1 for chat in session.chats.values() if chat.messages),
        "messages": sum(len(chat.messages) for chat in session.chats.values()),
        "unread": sum(chat.unread for chat in session.chats.values()),
        "held": len(session.held),
        "stream_mode": session.stream_mode(now),
        "ack_mode": session.ack_mode,
        "link_code": session.link_code if not session.link_code_expired(now) else None,
        "sent": len(session.sent),
        "logout_pending": session.logout_pending,
        "page_polls": session.page_polls,
        "page_hung": session.hang_waiters > 0,
        "last_seen_seconds": round(now - session.last_seen, 3),
    }


def sent_payload(session: Session) -> dict:
    messages = [_sent_record(record) for record in session.sent]
    chats: dict[str, list[dict]] = {}
    for message in messages:
        chats.setdefault(message["chat"], []).append(message)
    return {
        "session_id": session.id,
        "phone": session.phone,
        "messages": messages,
        "chats": [{"number": number, "messages": items} for number, items in chats.items()],
    }


def _sent_record(record: SentRecord) -> dict:
    return {
        "chat": record.chat,
        "text": record.text,
        "id": record.msg_id,
        "data_id": record.data_id,
        "time": _iso(record.sent_at),
        "status": record.message.status,
        "ack": record.message.ack,
        "media": record.message.media.summary() if record.message.media else None,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")

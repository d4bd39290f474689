"""The outage buffer on local disk: what the worker owes the database outlives the process.

While the database is down, every record the database will need (messages that arrived,
acks, group changes, send outcomes) is also appended here, one JSON line each, and fsynced
in batches (once per turn of the outage loop, at most a second apart, and before stopping).
A worker stopped or killed during an outage loses nothing: the next one for the tenant loads
the journal first and writes it, in order, before anything new; the file is deleted once
every record is in the database. Writes are idempotent (a message is logged once by its
WhatsApp id), so a replay cut short and done again writes nothing twice.

Session-state events (QR codes, ready, disconnected) are not journaled: a later worker
finds the session's state for itself, and a QR code is a credential that stays in memory.

The file is ``<SESSIONS_DIR>/<tenant>/owed.jsonl``, owner-only. A line that does not parse
(a write cut by a crash, a damaged disk) is skipped with an ERROR naming the file and the
byte offset; the lines around it are kept.
"""

import dataclasses
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from workers.models import OutboundMessage
from workers.runtime.outage import Owed, OwedEvent, OwedFailure, OwedRequeue, OwedSent
from workers.whatsapp import events

FILE_NAME = "owed.jsonl"
# The page events worth keeping across processes; the rest describe a session that is gone.
JOURNALED_EVENTS: dict[str, type] = {
    cls.__name__: cls for cls in (events.IncomingMessage, events.Ack, events.GroupMembers)
}
_NESTED: dict[str, type] = {"MediaInfo": events.MediaInfo, "SentMessage": events.SentMessage}


class Journal:
    def __init__(self, path: Path, log: logging.Logger | logging.LoggerAdapter) -> None:
        self.path = path
        self.log = log
        self._file: Any = None
        self._unsynced = 0

    def append(self, record: Owed) -> None:
        line = encode(record)
        if line is None:
            return
        if self._file is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._file.write(line + "\n")
        self._unsynced += 1

    def sync(self) -> int:
        """Flush and fsync what was appended since the last sync; returns how many lines."""
        synced, self._unsynced = self._unsynced, 0
        if self._file is not None and synced:
            self._file.flush()
            os.fsync(self._file.fileno())
        return synced

    def load(self) -> list[Owed]:
        """Every record a previous process left, oldest first; bad lines skipped and named."""
        if not self.path.exists():
            return []
        records: list[Owed] = []
        offset = 0
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    records.append(decode(raw.decode("utf-8")))
                except Exception as exc:  # cut short by a crash, or damaged: skip just this line
                    self.log.error(
                        "journal line skipped",
                        extra={
                            "event": "journal_line_skipped",
                            "file": str(self.path),
                            "offset": offset,
                            "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                        },
                    )
                offset += len(raw)
        return records

    def delete(self) -> None:
        """Everything is in the database: the journal goes."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._unsynced = 0
        self.path.unlink(missing_ok=True)


# --- one record as one line --------------------------------------------------------------


def encode(record: Owed) -> str | None:
    """The record as a JSON line, or None for what is not journaled."""
    match record:
        case OwedEvent(event=event) if type(event).__name__ in JOURNALED_EVENTS:
            body: dict[str, Any] = {"owed": "event", "event": _value(event)}
        case OwedSent(message=message, sent=sent, at=at):
            body = {"owed": "sent", "message": str(message.pk), "sent": _value(sent), "at": _value(at)}
        case OwedFailure(message=message, reason=reason, permanent=permanent):
            body = {"owed": "failure", "message": str(message.pk), "reason": reason, "permanent": permanent}
        case OwedRequeue(message=message):
            body = {"owed": "requeue", "message": str(message.pk)}
        case _:
            return None
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def decode(line: str) -> Owed:
    body = json.loads(line)
    match body["owed"]:
        case "event":
            return OwedEvent(_object(body["event"], JOURNALED_EVENTS))
        case "sent":
            return OwedSent(
                _message(body), _object(body["sent"], _NESTED), datetime.fromisoformat(body["at"]["$dt"])
            )
        case "failure":
            return OwedFailure(_message(body), str(body["reason"]), bool(body["permanent"]))
        case "requeue":
            return OwedRequeue(_message(body))
    raise ValueError(f"unknown record {body['owed']!r}")


def _value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": type(value).__name__, **fields}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_value(item) for item in value]}
    return value


def _object(data: dict, allowed: dict[str, type]) -> Any:
    cls = allowed[data["$type"]]
    return cls(**{name: _plain(item) for name, item in data.items() if name != "$type"})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$tuple" in value:
            return tuple(_plain(item) for item in value["$tuple"])
        if "$type" in value:
            return _object(value, _NESTED)
    return value


def _message(body: dict) -> OutboundMessage:
    # The message row outlives the process (a purge keeps unsent ones): the replay's own worker
    # writes the outcome on it. A row deleted meanwhile makes the line fail, and be skipped.
    return OutboundMessage.objects.get(pk=body["message"])

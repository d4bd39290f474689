"""Reading a tenant's JSON log file from its end, without loading it whole.

A file can be gigabytes: the tail is read backwards in blocks until enough matching lines
are found, so the cost follows what is asked for, not the file's size.
"""

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

BLOCK = 64 * 1024
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


@dataclass(frozen=True)
class LineFilter:
    min_level: int = 0
    since: datetime | None = None
    grep: str = ""

    def accepts(self, record: dict) -> bool:
        if LEVELS.get(str(record.get("level", "")).upper(), 0) < self.min_level:
            return False
        return not self.grep or self.grep.lower() in json.dumps(record, ensure_ascii=False).lower()


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Older lines are asked for by leaving "since" out: a bound keeps every age a real date.
MAX_AGE = timedelta(days=366)
SINCE_HELP = "an age like 15m, 1h, 2d (at most 366d) or an ISO time with a zone"


class BadSince(ValueError):
    """A "since" value that names no time; the message says what would."""


def parse_age(value: str) -> timedelta | None:
    """``90s``, ``15m``, ``1h``, ``2d``; None for anything else. Past MAX_AGE it is MAX_AGE
    plus a second, so callers can refuse it without the number overflowing a date."""
    if len(value) >= 2 and value[:-1].isdigit() and value[-1] in AGE_UNITS:
        seconds = int(value[:-1]) * AGE_UNITS[value[-1]]
        return timedelta(seconds=min(seconds, int(MAX_AGE.total_seconds()) + 1))
    return None


def parse_since(value: str, now: datetime) -> datetime:
    """An age before ``now`` (``15m``, ``1h``, ``2d``) or an ISO time with a zone.

    Raises BadSince naming what is accepted: the one rule for the API and ``tenant_logs``.
    """
    age = parse_age(value)
    if age is not None:
        if age > MAX_AGE:
            raise BadSince(f"at most {MAX_AGE.days}d; leave it out for all lines")
        return now - age
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadSince(SINCE_HELP) from None
    if moment.tzinfo is None:
        raise BadSince(SINCE_HELP)
    return moment


def record_time(record: dict) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(record.get("timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    # Our lines are always UTC; a foreign line without a zone is read as UTC too.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reverse_lines(path: Path) -> Iterator[bytes]:
    """The file's lines, last first, read in blocks from the end."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        remainder = b""
        while position > 0:
            size = min(BLOCK, position)
            position -= size
            handle.seek(position)
            chunk = handle.read(size) + remainder
            lines = chunk.split(b"\n")
            remainder = lines.pop(0)  # may be cut: completed by the next (earlier) block
            for line in reversed(lines):
                if line.strip():
                    yield line
        if remainder.strip():
            yield remainder


def parse_line(raw: bytes) -> dict:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        # A torn or foreign line is shown as it is rather than dropped.
        return {"level": "", "message": raw.decode("utf-8", errors="replace"), "unparsed": True}
    return record if isinstance(record, dict) else {"message": str(record), "unparsed": True}


def tail(paths: list[Path], *, lines: int, line_filter: LineFilter) -> list[dict]:
    """The last ``lines`` matching records across ``paths`` (newest file first), oldest first."""
    found: list[dict] = []
    if lines < 1:
        return found
    for path in paths:
        if not path.exists():
            continue
        for raw in reverse_lines(path):
            record = parse_line(raw)
            if line_filter.since is not None:
                moment = record_time(record)
                if moment is not None and moment < line_filter.since:
                    return list(reversed(found))  # lines are in time order: the rest is older
            if line_filter.accepts(record):
                found.append(record)
                if len(found) >= lines:
                    return list(reversed(found))
    return list(reversed(found))


def _emit(raw: bytes, line_filter: LineFilter, write: Callable[[dict], None]) -> None:
    if raw.strip():
        record = parse_line(raw)
        if line_filter.accepts(record):
            write(record)


def follow(
    path: Path,
    *,
    line_filter: LineFilter,
    write: Callable[[dict], None],
    stop: threading.Event,
    poll_seconds: float = 0.25,
) -> None:
    """Print lines as they are appended, across rotations, until ``stop`` is set.

    A rotation renames the file and starts a new one: what was left in the old file is
    read to its end first, then the new file is followed from its start, so no line is
    skipped or printed twice.
    """
    handle = _open_when_there(path, stop, poll_seconds)
    if handle is None:
        return
    handle.seek(0, os.SEEK_END)
    pending = b""
    try:
        while not stop.is_set():
            chunk = handle.read()
            if chunk:
                *complete, pending = (pending + chunk).split(b"\n")
                for raw in complete:
                    _emit(raw, line_filter, write)
                continue
            if _rotated(path, handle):
                handle.close()
                handle = _open_when_there(path, stop, poll_seconds)
                if handle is None:
                    return
                continue
            stop.wait(poll_seconds)
    finally:
        if handle is not None and not handle.closed:
            handle.close()


def _rotated(path: Path, handle: BinaryIO) -> bool:
    try:
        current = path.stat()
    except FileNotFoundError:
        return True
    return current.st_ino != os.fstat(handle.fileno()).st_ino or current.st_size < handle.tell()


def _open_when_there(path: Path, stop: threading.Event, poll_seconds: float) -> BinaryIO | None:
    while not stop.is_set():
        try:
            return path.open("rb")
        except FileNotFoundError:
            stop.wait(poll_seconds)
    return None

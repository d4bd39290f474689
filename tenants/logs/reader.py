"""Reading a tenant's JSON log file from its end, without loading it whole.

A file can be gigabytes: the tail is read backwards in blocks until enough matching lines
are found, so the cost follows what is asked for, not the file's size.
"""

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from tenants.logs.files import tenant_log_files
from tenants.logs.query import LineFilter, LogQuery

logger = logging.getLogger(__name__)

BLOCK = 64 * 1024
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


@dataclass(frozen=True)
class TenantLog:
    files: list[Path]  # those that exist, in the order read
    records: list[dict]  # oldest first


def tenant_log_tail(*, tenant_id: uuid.UUID, query: LogQuery) -> TenantLog:
    """What the admin page, the staff API and ``tenant_logs`` show: the query's last lines
    across the tenant's current and rotated files, and which of those files exist."""
    paths = tenant_log_files(tenant_id)
    records = tail(paths, lines=query.lines, line_filter=query.filter)
    return TenantLog(files=[path for path in paths if path.exists()], records=records)

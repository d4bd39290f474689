"""Reading a tenant's JSON log file from its end, without loading it whole.

A file can be gigabytes: the tail is read backwards in blocks until enough matching lines
are found, so the cost follows what is asked for, not the file's size.
"""

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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


def record_time(record: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record.get("timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        return None


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

"""The database stopped answering: what the worker owes it, as typed records, kept in order.

While the database is down the worker keeps its browser: every page event and every send
outcome becomes a record here, written oldest first, with the time it happened, once the
database answers again.
"""

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from config.outage import DATABASE_DOWN, describe
from workers.models import OutboundMessage
from workers.whatsapp import events

DATABASE_RETRY_MAX_SECONDS = 5.0
# Page events kept during an outage; past this the page keeps them until the database returns.
OWED_LIMIT = 10_000


@dataclass(frozen=True)
class OwedEvent:
    event: events.Event


@dataclass(frozen=True)
class OwedSent:
    message: OutboundMessage
    sent: events.SentMessage
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class OwedFailure:
    message: OutboundMessage
    reason: str
    permanent: bool


@dataclass(frozen=True)
class OwedRequeue:
    """A claimed message never handed to the browser: back to the queue."""

    message: OutboundMessage


Owed = OwedEvent | OwedSent | OwedFailure | OwedRequeue


class Outage:
    """Since when, why, and when to try the database again."""

    def __init__(self, error: Exception) -> None:
        self.started = time.monotonic()
        self.error = describe(error)
        self.delay = 0.5
        self.next_try = self.started + self.delay

    def failed_again(self) -> None:
        self.delay = min(DATABASE_RETRY_MAX_SECONDS, self.delay * 2)
        self.next_try = time.monotonic() + self.delay

    def seconds(self) -> float:
        return time.monotonic() - self.started


class Journaled(Protocol):
    """Where the buffer keeps a copy on disk (workers.runtime.journal.Journal)."""

    def append(self, record: Owed) -> None: ...
    def load(self) -> list[Owed]: ...
    def sync(self) -> int: ...
    def delete(self) -> None: ...


class OutageBuffer:
    def __init__(self, limit: int = OWED_LIMIT, journal: Journaled | None = None) -> None:
        self.limit = limit
        self._owed: deque[Owed] = deque()
        self.journal = journal

    def __len__(self) -> int:
        return len(self._owed)

    @property
    def full(self) -> bool:
        return len(self._owed) >= self.limit

    def add(self, record: Owed) -> None:
        self._owed.append(record)
        if self.journal is not None:
            self.journal.append(record)

    def restore(self, records: Iterable[Owed]) -> None:
        """Records a previous process left in the journal: owed first, already on disk."""
        self._owed.extendleft(reversed(list(records)))

    def sync(self) -> int:
        """Make the journal's copy durable (fsync); returns how many records that was."""
        return self.journal.sync() if self.journal is not None else 0

    def add_events(self, found: Iterable[events.Event]) -> None:
        for event in found:
            if isinstance(event, events.QrCode):
                # Codes rotate: only the one on screen is worth storing when the database
                # returns (and stale ones would use up the QR_MAX_REFRESHES budget).
                self._owed = deque(
                    owed
                    for owed in self._owed
                    if not (isinstance(owed, OwedEvent) and isinstance(owed.event, events.QrCode))
                )
            self.add(OwedEvent(event))

    def replay(self, write: Callable[[Owed], object]) -> None:
        """Write every record, oldest first. The database going down again keeps the rest
        (raised); a record failing for another reason is dropped (never replayed forever)."""
        while self._owed:
            try:
                write(self._owed[0])
            except DATABASE_DOWN:
                raise
            except Exception:
                self._owed.popleft()
                raise
            self._owed.popleft()
        # Everything is in the database: the copy on disk is not needed any more.
        if self.journal is not None:
            self.journal.delete()

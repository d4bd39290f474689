"""The rules that read a tenant's timeline: uptime, outages and recovery, why a worker stopped.

Pure functions over (time, value) events, oldest first, so the admin's dashboard (one query
for every tenant) and the portal (one tenant) compute the same figures from the same rules.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenants.models import WhatsAppSession, WorkerEvent, WorkerProcess

Kind = WorkerEvent.Kind
State = WhatsAppSession.State
WorkerStatus = WorkerProcess.Status

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)

# How the worker's reason begins when it stopped because nobody scanned its QR codes
# (workers/runtime.py): a stop that waits for a person, unlike one staff asked for.
QR_NOT_SCANNED = "QR code not scanned"
NO_SCAN_WORDS = "No code was scanned in time"


@dataclass(frozen=True)
class Recovery:
    """A worker's failures over a window: transitions into ERROR, and how long they lasted."""

    failures: int
    recovered: int  # failures that ended with the worker RUNNING again inside the window
    mean_time_to_recover: timedelta | None
    down_since: datetime | None  # set while the last failure has not recovered yet


def state_at(
    before_state: str | None, events: Sequence[tuple[datetime, str]], start: datetime
) -> tuple[str | None, list[tuple[datetime, str]]]:
    """Split a window's events at ``start``: the state just before it, and the events from it.

    ``before_state`` is the state before the first of ``events``; events are oldest first.
    """
    state = before_state
    for index, (moment, value) in enumerate(events):
        if moment >= start:
            return state, list(events[index:])
        state = value
    return state, []


def uptime_from_events(
    before_state: str | None,
    events: Sequence[tuple[datetime, str]],
    start: datetime,
    now: datetime,
) -> float | None:
    """The share of ``start``..``now`` the session was CONNECTED; None if nothing is known.

    ``before_state`` is the last state recorded before ``start`` (None: none was), and
    ``events`` the (time, new state) changes from ``start`` on, oldest first. As in
    ``session_uptime``, time before the first recorded state doesn't count.
    """
    if before_state is None and not events:
        return None
    current = before_state
    since = start if before_state is not None else events[0][0]
    observed_from = since
    connected = timedelta()
    for moment, value in events:
        if current == State.CONNECTED:
            connected += moment - since
        current, since = value, moment
    if current == State.CONNECTED:
        connected += now - since
    observed = now - observed_from
    return connected / observed if observed > timedelta() else None


def is_failure(kind: str, new_value: str) -> bool:
    return kind == Kind.STALE_MARKED or (kind == Kind.WORKER_STATUS and new_value == WorkerStatus.ERROR)


def is_recovery(kind: str, new_value: str) -> bool:
    return kind == Kind.WORKER_STATUS and new_value == WorkerStatus.RUNNING


def recovery_from_events(events: Iterable[tuple[datetime, str, str]]) -> Recovery:
    """Failures and mean time to recover from (time, kind, new value) events, oldest first.

    Every transition into ERROR counts as a failure; an outage runs from the first of them
    until the worker is RUNNING again, so a worker that fails twice on its way back up is one
    outage, measured once.
    """
    failures = 0
    durations: list[timedelta] = []
    down_since: datetime | None = None
    for moment, kind, value in events:
        if is_failure(kind, value):
            failures += 1
            down_since = down_since or moment
        elif is_recovery(kind, value) and down_since is not None:
            durations.append(moment - down_since)
            down_since = None
    mean = sum(durations, timedelta()) / len(durations) if durations else None
    return Recovery(
        failures=failures, recovered=len(durations), mean_time_to_recover=mean, down_since=down_since
    )


def stop_words(worker_status: str | None, stop_reason: str | None) -> str:
    """Why a stopped worker waits for a person, in words, from its last stop's reason; or ""."""
    if worker_status == WorkerStatus.STOPPED and (stop_reason or "").startswith(QR_NOT_SCANNED):
        return NO_SCAN_WORDS
    return ""


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def in_line_words(position: int) -> str:
    """A starting worker waiting for its turn to launch a browser (WORKER_START_CONCURRENCY)."""
    return f"Starting, {ordinal(position)} in line"


def worker_words(
    worker_status: str | None, session_state: str | None, start_position: int | None = None
) -> str:
    """A worker's status in words: starting, it spends the whole QR phase waiting for a scan,
    and may first wait in the host's line to launch its browser."""
    if worker_status is None:
        return "no worker"
    if worker_status == WorkerStatus.STARTING and start_position:
        return in_line_words(start_position)
    if worker_status == WorkerStatus.STARTING and session_state == State.QR:
        return State.QR.label
    return WorkerStatus(worker_status).label

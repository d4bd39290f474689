"""At most WORKER_START_CONCURRENCY browsers launching at once on a host; the rest wait in line.

A host that starts many workers together (a reboot, ``make run`` with many tenants) would
otherwise launch every Chromium at the same moment, and each takes several times longer on
cores they all share. Each worker takes a *slot* (an flock on one of N files) for the launch
and gives it back once its page is open; a worker that finds no slot free waits in line.

The line is a directory of *tickets*, one per waiting worker, named by the time it joined,
each held with an flock by its owner: first come, first launched, and a ticket whose owner
died (its lock is free) is removed by whoever sees it. Locks go with their process, so a
killed worker never holds a slot or a place.
"""

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

POLL_SECONDS = 0.2
# A ticket this new may not be locked by its owner yet: not taken for a dead one.
TICKET_GRACE_NS = 2_000_000_000


class LaunchQueue:
    def __init__(self, directory: Path, *, slots: int, name: str) -> None:
        self.directory = directory
        self.slots = max(1, slots)
        self.name = name

    @contextlib.contextmanager
    def slot(
        self, *, on_position: Callable[[int | None], None], stopping: Callable[[], bool]
    ) -> Iterator[None]:
        """Hold a launch slot for the block. ``on_position`` hears the place in line (1 is
        next) whenever it changes, and None once a slot is held; a stop request while in
        line raises StoppedWaiting."""
        tickets = self.directory / "line"
        tickets.mkdir(mode=0o700, parents=True, exist_ok=True)
        ticket_path = tickets / f"{time.time_ns():020d}-{os.getpid()}-{self.name}"
        ticket = _locked(ticket_path)
        held: IO[str] | None = None
        shown: int | None = None
        try:
            while held is None:
                if stopping():
                    raise StoppedWaiting
                ahead = self._live_tickets_before(ticket_path)
                if ahead == 0:  # only the head of the line takes a slot: first come, first served
                    held = self._try_slots()
                if held is None:
                    position = ahead + 1
                    if position != shown:
                        on_position(position)
                        shown = position
                    time.sleep(POLL_SECONDS)
        finally:
            _release(ticket, ticket_path)
        try:
            if shown is not None:
                on_position(None)
            yield
        finally:
            _release(held, None)

    def _try_slots(self) -> IO[str] | None:
        for index in range(self.slots):
            handle = (self.directory / f"slot-{index}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        return None

    def _live_tickets_before(self, mine: Path) -> int:
        ahead = 0
        now = time.time_ns()
        for path in sorted(mine.parent.iterdir()):
            if path.name >= mine.name:
                break
            if _abandoned(path, now):
                path.unlink(missing_ok=True)
                continue
            ahead += 1
        return ahead


class StoppedWaiting(Exception):
    """The worker was asked to stop while in line to launch its browser."""


def _locked(path: Path) -> IO[str]:
    handle = path.open("w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _abandoned(path: Path, now: int) -> bool:
    """A ticket whose owner is gone: old enough, and its lock free."""
    try:
        if now - int(path.name.split("-", 1)[0]) < TICKET_GRACE_NS:
            return False
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except (BlockingIOError, ValueError):
        return False
    except FileNotFoundError:
        return False


def _release(handle: IO[str] | None, path: Path | None) -> None:
    if handle is None:
        return
    if path is not None:
        path.unlink(missing_ok=True)
    handle.close()  # closing the file lets go of its lock

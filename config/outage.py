"""What a database that is down, restarting or unreachable looks like to our code."""

import contextlib
import logging
import time
from typing import Any

from django.db import InterfaceError, OperationalError, connections

# psycopg's "connection refused", "server closed the connection unexpectedly" (a restart),
# a connection used after that; and SQLite's "database is locked" past its timeout.
DATABASE_DOWN = (OperationalError, InterfaceError)


def describe(error: Exception) -> str:
    """One short line for a log: the class and the first line of the message (no traceback)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


# Waiting for a database that is not up yet: 1 s, 2 s, 4 s ... at most this between tries.
WAIT_MAX_SECONDS = 30.0


def wait_for_database(log: logging.Logger, *, alias: str = "default") -> float:
    """Block until the database answers; returns how long that took (0.0 if it did at once).

    For processes that start before their database (a host booting, a restart during an
    outage): they wait, said in one line when the wait starts and one when it ends, instead
    of exiting for the supervisor to retry a few times and give up.
    """
    started = time.monotonic()
    delay = 1.0
    said = False
    while True:
        try:
            connections[alias].ensure_connection()
        except DATABASE_DOWN as exc:
            if not said:
                log.error(
                    "database unreachable at start; waiting for it",
                    extra={"event": "database_wait", "error": describe(exc), "retry_max_s": WAIT_MAX_SECONDS},
                )
                said = True
            with contextlib.suppress(*DATABASE_DOWN):
                connections[alias].close()
            time.sleep(delay)
            delay = min(WAIT_MAX_SECONDS, delay * 2)
            continue
        waited = time.monotonic() - started
        if said:
            log.info(
                "database reachable; starting",
                extra={"event": "database_ready", "waited_seconds": round(waited, 1)},
            )
        return waited


class WaitsForDatabase:
    """For a long-running command under a supervisor (a worker, the webhook dispatcher, the
    stale-check loop): before its system checks, which fail on a database that is not up yet,
    it waits for the database (wait_for_database), running, so the supervisor never gives up
    on it as FATAL. Put it before the command's base class."""

    def check(self, *args: Any, **kwargs: Any) -> None:
        wait_for_database(logging.getLogger(type(self).__module__))
        super().check(*args, **kwargs)  # type: ignore[misc]

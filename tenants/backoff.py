"""How long to wait before trying a failed delivery again: the alerts' outbox and the outbound queue.

Doubling from a base after each failed attempt, up to a cap, so a short glitch is retried
soon and a long outage is not hammered. Each caller keeps its own base and cap.
"""

from datetime import timedelta


def backoff_delay(attempts: int, *, base_seconds: float, cap_seconds: float) -> timedelta:
    """The wait after ``attempts`` failed attempts: ``base_seconds`` after the first, doubling."""
    # Never below the base: a count of 0 (nothing failed yet) waits the base, not half of it.
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0)))

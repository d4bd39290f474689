"""The per-tenant send limit: a token bucket, a minimum gap with jitter, and a daily cap.

Bursts of outbound messages get numbers banned (field notes, "Bans"); this paces them.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class RateLimitPolicy:
    per_minute: float = 20.0  # sustained rate
    burst: int = 5  # tokens the bucket holds
    min_gap_seconds: float = 2.0  # never two sends closer than this
    jitter_seconds: float = 1.5  # plus a random 0..jitter on every gap
    daily_cap: int = 1000  # sends per UTC day


@dataclass
class SendRateLimiter:
    policy: RateLimitPolicy
    clock: Callable[[], float] = time.monotonic
    today: Callable[[], str] = field(default=lambda: datetime.now(UTC).date().isoformat())
    rng: random.Random = field(default_factory=random.Random)
    sent_today: int = 0

    def __post_init__(self) -> None:
        self._tokens = float(self.policy.burst)
        self._refilled_at = self.clock()
        self._next_allowed_at = self._refilled_at
        self._day = self.today()

    def _refill(self) -> None:
        now = self.clock()
        rate = self.policy.per_minute / 60.0
        self._tokens = min(self.policy.burst, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now
        day = self.today()
        if day != self._day:
            self._day, self.sent_today = day, 0

    def wait_seconds(self) -> float | None:
        """Seconds until a send is allowed: 0 means now; None means the daily cap is reached."""
        self._refill()
        if self.sent_today >= self.policy.daily_cap:
            return None
        token_wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) * 60.0 / self.policy.per_minute
        gap_wait = max(0.0, self._next_allowed_at - self.clock())
        return max(token_wait, gap_wait)

    def record_send(self) -> None:
        self._refill()
        self._tokens = max(0.0, self._tokens - 1)
        self.sent_today += 1
        gap = self.policy.min_gap_seconds + self.rng.uniform(0, self.policy.jitter_seconds)
        self._next_allowed_at = self.clock() + gap

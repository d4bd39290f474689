import random

from workers.ratelimit import RateLimitPolicy, SendRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock, day=lambda: "2026-11-29", **policy) -> SendRateLimiter:
    return SendRateLimiter(RateLimitPolicy(**policy), clock=clock, today=day, rng=random.Random(7))


def test_it_lets_a_burst_through_then_paces_at_the_rate():
    clock = FakeClock()
    pace = limiter(clock, per_minute=6, burst=2, min_gap_seconds=0, jitter_seconds=0)
    for _ in range(2):
        assert pace.wait_seconds() == 0
        pace.record_send()
    assert pace.wait_seconds() == 10.0  # 6 a minute: one token every 10 s
    clock.now += 10
    assert pace.wait_seconds() == 0


def test_it_keeps_a_minimum_gap_with_jitter_between_sends():
    clock = FakeClock()
    pace = limiter(clock, per_minute=600, burst=10, min_gap_seconds=2, jitter_seconds=1)
    pace.record_send()
    gap = pace.wait_seconds()
    assert 2 <= gap <= 3
    clock.now += gap
    assert pace.wait_seconds() == 0


def test_it_varies_the_gap_so_sends_are_not_machine_regular():
    clock = FakeClock()
    pace = limiter(clock, per_minute=6000, burst=100, min_gap_seconds=1, jitter_seconds=2)
    gaps = set()
    for _ in range(5):
        pace.record_send()
        gaps.add(round(pace.wait_seconds(), 3))
        clock.now += 5
    assert len(gaps) == 5


def test_it_stops_at_the_daily_cap_until_the_next_day():
    clock, day = FakeClock(), ["2026-11-29"]
    pace = limiter(
        clock, lambda: day[0], per_minute=6000, burst=100, min_gap_seconds=0, jitter_seconds=0, daily_cap=3
    )
    for _ in range(3):
        pace.record_send()
    assert pace.wait_seconds() is None
    day[0] = "2026-11-30"
    assert pace.wait_seconds() == 0


def test_it_counts_what_was_sent_earlier_today_toward_the_cap():
    pace = limiter(FakeClock(), daily_cap=10)
    pace.sent_today = 10
    assert pace.wait_seconds() is None

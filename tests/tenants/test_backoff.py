from datetime import timedelta

from tenants import alerts
from tenants.backoff import backoff_delay
from workers import services


def test_the_wait_doubles_from_the_base_up_to_the_cap():
    waits = [backoff_delay(n, base_seconds=5, cap_seconds=30).total_seconds() for n in range(6)]
    assert waits == [5, 5, 10, 20, 30, 30]


def test_each_caller_keeps_its_own_schedule():
    # The outbound queue never waits more than 5 min between sends; alerts wait up to 10 min.
    assert services.retry_delay(20) == timedelta(minutes=5)
    assert (alerts.RETRY_BASE_SECONDS, alerts.RETRY_CAP_SECONDS) == (5.0, 600.0)

"""Connected but dead: a page that stops answering is DEGRADED, and the worker recovers it."""

import pytest

from tenants.models import Alert, WhatsAppSession, WorkerEvent, WorkerProcess
from tests.helpers.processes import wait_until
from tests.helpers.workers import connect, state_of, worker_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAST = {"WORKER_BROWSER_TIMEOUT_SECONDS": "5", "HEARTBEAT_INTERVAL_SECONDS": "1"}


def states(tenant) -> list[str]:
    events = WorkerEvent.objects.filter(tenant=tenant, kind="SESSION_STATE").order_by("id")
    return list(events.values_list("new_value", flat=True))


def test_a_frozen_page_turns_degraded_and_the_worker_recovers_it(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, **FAST)
    session_id = connect(tenant, simulator)
    wait_until(
        lambda: WhatsAppSession.objects.get(tenant=tenant).chat_list_ok, what="a heartbeat with a live page"
    )
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()

    simulator.action(session_id, "freeze", {"mode": "hang", "until_reload": True})
    wait_until(lambda: state_of(tenant) == "DEGRADED", what="DEGRADED")
    wait_until(
        lambda: state_of(tenant) == "CONNECTED", timeout=60, what="CONNECTED again after a browser restart"
    )
    assert states(tenant)[-2:] == ["DEGRADED", "CONNECTED"]
    assert "browser lost" in worker_of(tenant).last_error
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes  # same login
    assert worker.stop() == 0


def test_a_page_that_stays_frozen_ends_in_error_with_an_alert(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, WORKER_BROWSER_RESTARTS="1", **FAST)
    session_id = connect(tenant, simulator)
    wait_until(lambda: worker_of(tenant).status == "RUNNING", what="RUNNING")
    simulator.action(session_id, "freeze", {"mode": "hang"})
    assert worker.wait(timeout=90) == 1
    stopped = WorkerProcess.objects.get(tenant=tenant)
    assert stopped.status == "ERROR"
    assert "browser lost 2 times in a row" in stopped.last_error
    assert "DEGRADED" in states(tenant)
    assert Alert.objects.filter(tenant=tenant, kind="DOWN").count() == 1


def test_a_browser_over_its_memory_limit_is_restarted_at_a_quiet_moment(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, WORKER_MAX_MEMORY_MB="1", **FAST)
    connect(tenant, simulator)
    wait_until(
        lambda: WorkerEvent.objects.filter(
            tenant=tenant, kind="ERROR", reason__contains="over the 1 MB limit"
        ).exists(),
        what="a memory restart",
    )
    wait_until(
        lambda: WorkerProcess.objects.get(tenant=tenant).browser_memory_mb, what="memory in the heartbeat"
    )
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="still connected")
    assert worker.stop() == 0

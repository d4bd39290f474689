"""Connected but dead: a page that stops answering is DEGRADED, and the worker recovers it."""

import pytest

from tenants.models import Alert, MessageLog, WhatsAppSession, WorkerEvent, WorkerProcess
from tests.helpers.processes import wait_until
from tests.helpers.workers import connect, state_of, worker_of
from workers.models import ReplyRule

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


def memory_actions(tenant) -> list[str]:
    events = WorkerEvent.objects.filter(tenant=tenant, kind="MEMORY").order_by("id")
    return list(events.values_list("new_value", flat=True))


def test_a_browser_over_its_memory_limit_reloads_the_page_then_restarts(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, WORKER_MAX_MEMORY_MB="1", **FAST)
    connect(tenant, simulator)
    wait_until(
        lambda: memory_actions(tenant)[:2] == ["page_reload", "browser_restart"],
        what="a page reload, then a browser restart, for memory",
    )
    restart = WorkerEvent.objects.filter(tenant=tenant, kind="MEMORY", new_value="browser_restart").first()
    assert "over the 1 MB limit after a page reload" in restart.reason
    wait_until(
        lambda: WorkerProcess.objects.get(tenant=tenant).browser_memory_mb, what="memory in the heartbeat"
    )
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="still connected")
    assert worker.stop() == 0


def test_a_page_whose_heap_grows_past_the_limit_is_reloaded_without_a_new_login(
    tenant, simulator, start_worker, settings, client
):
    ReplyRule.objects.create(tenant=tenant, pattern="still there", reply_text="yes, still here")
    worker = start_worker(tenant.id, simulator, WORKER_MAX_PAGE_HEAP_MB="60", **FAST)
    session_id = connect(tenant, simulator)
    wait_until(lambda: WorkerProcess.objects.get(tenant=tenant).browser_memory_mb, what="a heartbeat")
    assert memory_actions(tenant) == []  # a fresh page is well under 60 MB
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()
    browser_started = worker.output.read_text().count("browser_started")

    simulator.action(session_id, "grow-heap", {"mb": 100})
    wait_until(lambda: memory_actions(tenant) == ["page_reload"], what="a page reload for the heap")
    reload = WorkerEvent.objects.get(tenant=tenant, kind="MEMORY")
    assert "page heap" in reload.reason and "over the 60 MB limit" in reload.reason

    # The same browser, the same login: the session answers again, once, and the heap stays down.
    simulator.incoming(session_id, "15557000000", "still there?")
    wait_until(
        lambda: [m["text"] for m in simulator.sent(session_id)] == ["yes, still here"],
        what="the reply to a message sent during or after the reload",
    )
    assert MessageLog.objects.filter(tenant=tenant, message_text="still there?").count() == 1
    assert state_of(tenant) == "CONNECTED"
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes
    assert worker.output.read_text().count("browser_started") == browser_started
    assert memory_actions(tenant) == ["page_reload"]

    settings.METRICS_TOKEN = "scrape-token"
    scrape = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token").content.decode()
    assert (
        f'whatsapp_worker_memory_recoveries_total{{action="page_reload",tenant_id="{tenant.id}"}} 1.0'
        in scrape
    )
    assert worker.stop() == 0

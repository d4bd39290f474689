"""Faults survived, against real processes: killed workers, killed browsers."""

import os
import signal
from pathlib import Path

import pytest

from tenants.models import WorkerEvent
from tests.helpers.processes import wait_until
from tests.helpers.workers import connect, current_qr, state_of, worker_of
from workers import orchestration
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue
from workers.whatsapp.profile import browsers_on_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def run_worker_processes(tenant_id: object) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"run_worker" in cmdline and str(tenant_id).encode() in cmdline:
            found.append(int(entry.name))
    return found


def browser_pid(profile: Path) -> int:
    """The browser's main process (the shell's wrapper script execs nothing: the last one)."""
    return browsers_on_profile(profile)[-1]


def test_a_worker_killed_before_the_ack_never_sends_twice_and_says_why(
    tenant, start_simulator, start_supervisord
):
    # Slow ticks: WhatsApp took the message (wa-js answered) but has not acknowledged it yet.
    simulator = start_simulator(qr_rotate_seconds=60, loading_seconds=0.3, send_ack_seconds=30)
    start_supervisord(simulator)
    orchestration.worker_start(tenant=tenant, by="test")
    session_id = connect(tenant, simulator)
    message, _ = outbound_enqueue(tenant=tenant, to_number="15551234567", text="your order is ready")
    wait_until(lambda: OutboundMessage.objects.get(pk=message.pk).status == "SENT", what="handed to WhatsApp")
    assert OutboundMessage.objects.get(pk=message.pk).ack == 0  # pending: no tick yet
    killed = worker_of(tenant).pid
    os.kill(killed, signal.SIGKILL)

    wait_until(lambda: worker_of(tenant).pid not in (None, killed), timeout=60, what="supervisord's restart")
    wait_until(lambda: state_of(tenant) == "CONNECTED", timeout=60, what="reconnected")
    assert [m["text"] for m in simulator.sent(session_id)] == ["your order is ready"]  # once
    assert OutboundMessage.objects.get(pk=message.pk).status == "SENT"
    crash = WorkerEvent.objects.filter(tenant=tenant, kind="ERROR", reason__contains=f"pid {killed}").get()
    assert "ended without stopping" in crash.reason
    orchestration.worker_stop(tenant=tenant, by="test")


def test_a_killed_browser_is_noticed_and_replaced_on_the_same_login(
    tenant, simulator, start_worker, worker_env
):
    worker = start_worker(
        tenant.id, simulator, HEARTBEAT_INTERVAL_SECONDS="1", WORKER_BROWSER_TIMEOUT_SECONDS="5"
    )
    connect(tenant, simulator)
    wait_until(lambda: worker_of(tenant).browser_memory_mb, what="a heartbeat with the browser's vitals")
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()
    profile = Path(worker_env["SESSIONS_DIR"]) / str(tenant.id)
    os.kill(browser_pid(profile), signal.SIGKILL)

    wait_until(lambda: state_of(tenant) == "DEGRADED", what="the loss noticed")
    wait_until(lambda: state_of(tenant) == "CONNECTED", timeout=60, what="a new browser, connected")
    assert "browser lost" in worker_of(tenant).last_error
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes  # no new QR
    assert not current_qr(tenant)
    assert worker.stop() == 0


def test_a_full_log_dir_does_not_stop_the_worker_and_is_reported_once(
    tenant, simulator, start_worker, worker_env
):
    log_dir = Path(worker_env["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    # /dev/full answers every write with ENOSPC: a full disk, without filling one.
    (log_dir / f"{tenant.id}.log").symlink_to("/dev/full")
    ReplyRule.objects.create(tenant=tenant, pattern="hello", reply_text="hi there")
    worker = start_worker(tenant.id, simulator, HEARTBEAT_INTERVAL_SECONDS="1")
    session_id = connect(tenant, simulator)
    simulator.incoming(session_id, "15551234567", "hello")
    wait_until(lambda: simulator.sent(session_id), what="the reply, logs or not")
    wait_until(
        lambda: "log file not writable" in worker_of(tenant).last_error, what="the trouble in the status"
    )
    assert worker.process.poll() is None  # still running, no crash loop
    assert worker.stop() == 0
    output = worker.text()
    assert output.count("tenant log not writable, going on without it") == 1
    assert "No space left on device" in worker_of(tenant).last_error


def test_workers_come_back_after_supervisord_restarts(tenant, simulator, supervisord):
    orchestration.worker_start(tenant=tenant, by="test")
    connect(tenant, simulator)
    first = worker_of(tenant).pid
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()

    supervisord.restart()
    wait_until(
        lambda: worker_of(tenant).pid not in (None, first), timeout=60, what="the worker started again"
    )
    wait_until(lambda: state_of(tenant) == "CONNECTED", timeout=60, what="connected again")
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes
    (program,) = supervisord.rpc().getAllProcessInfo()
    assert (program["name"], program["pid"]) == (f"wa-worker-{tenant.id}", worker_of(tenant).pid)
    assert len(run_worker_processes(tenant.id)) == 1  # one, not two
    orchestration.worker_stop(tenant=tenant, by="test")

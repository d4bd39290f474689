"""``run_worker`` end to end: a real process, headless Chromium, the simulator, the database."""

import base64
import io
import signal
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tenants import services as tenant_services
from tenants.models import MessageLog, Tenant, WhatsAppSession, WorkerEvent
from tests.helpers.clients import signed_in
from tests.helpers.processes import chromium_processes_using, tenant_log_lines, wait_until
from tests.helpers.workers import connect, current_qr, state_of, worker_of
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def decode_data_uri(data_uri: str) -> str:
    png = base64.b64decode(data_uri.removeprefix("data:image/png;base64,"))
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


@pytest.fixture
def rule(tenant: Tenant) -> ReplyRule:
    return ReplyRule.objects.create(
        tenant=tenant, pattern="hours", reply_text="We open at 8 😀\nSee you soon!"
    )


def test_it_links_logs_once_replies_and_tells_the_story(tenant, rule, simulator, start_worker, worker_env):
    worker = start_worker(tenant.id, simulator)

    qr = wait_until(lambda: current_qr(tenant), what="a QR code in the database")
    session = WhatsAppSession.objects.get(tenant=tenant)
    assert decode_data_uri(session.last_qr_data_uri) == qr  # a sharp, scannable PNG of the value
    assert session.state == "QR"

    session_id = simulator.link(qr, "15550009999")
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED")
    wait_until(lambda: worker_of(tenant).status == "RUNNING", what="worker RUNNING")
    # The worker writes the three one after another: wait for the last, don't race it.
    wait_until(lambda: Tenant.objects.get(pk=tenant.pk).status == "ACTIVE", what="tenant ACTIVE")
    assert worker_of(tenant).pid == worker.pid

    # An incoming message, shown twice by WhatsApp, is logged once and answered once.
    data_id = simulator.incoming(session_id, "15551234567", "What are your hours?")
    simulator.incoming(
        session_id, "15551234567", "What are your hours?", id=data_id.rsplit("_", 1)[1], duplicate=True
    )
    wait_until(lambda: simulator.sent(session_id), what="the reply in the simulator")
    (reply,) = simulator.sent(session_id)
    assert reply["text"] == "We open at 8 😀\nSee you soon!"
    assert reply["chat"] == "15551234567"
    logs = MessageLog.objects.filter(tenant=tenant)
    assert logs.filter(direction="IN", wa_message_id=data_id).count() == 1
    wait_until(lambda: logs.filter(direction="OUT").exists(), what="the reply logged OUT")
    assert logs.get(direction="OUT").wa_message_id.endswith(reply["id"])

    # A message to a number WhatsApp rejects ends FAILED, with the reason.
    simulator.set_invalid_numbers(["4915550000000"])
    bad, _ = outbound_enqueue(tenant=tenant, to_number="+49 1555 0000000", text="hello?")
    wait_until(lambda: OutboundMessage.objects.get(pk=bad.pk).status == "FAILED", what="FAILED")
    assert "not on WhatsApp" in OutboundMessage.objects.get(pk=bad.pk).last_error

    wait_until(lambda: WhatsAppSession.objects.get(tenant=tenant).last_seen_at, what="a heartbeat")
    assert worker.stop() == 0
    assert worker_of(tenant).status == "STOPPED"

    lines = tenant_log_lines(worker_env, tenant.id)
    assert all(line["tenant_id"] == str(tenant.id) for line in lines)
    story = [line.get("event") for line in lines if line.get("event")]
    for step in [
        "worker_starting",
        "browser_started",
        "qr",
        "ready",
        "message_in",
        "message_out",
        "worker_stopped",
    ]:
        assert step in story, f"{step} missing from the tenant log: {story}"
    assert story.index("qr") < story.index("ready") < story.index("message_in") < story.index("message_out")
    # Operational logs carry no QR value, no message text and no full phone number.
    text = "\n".join(map(str, lines))
    assert qr not in text
    assert "What are your hours" not in text
    assert "15551234567" not in text


def test_it_keeps_the_login_across_a_restart_and_handles_nothing_twice(
    tenant, rule, simulator, start_worker, worker_env
):
    first = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    simulator.incoming(session_id, "15551234567", "hours please")
    wait_until(lambda: simulator.sent(session_id), what="the first reply")
    assert first.stop() == 0
    profile = Path(worker_env["SESSIONS_DIR"]) / str(tenant.id)
    assert chromium_processes_using(profile) == []  # no orphaned browser holds the profile
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()

    second = start_worker(tenant.id, simulator)
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED again without a scan")
    wait_until(lambda: WhatsAppSession.objects.get(tenant=tenant).last_seen_at, what="a heartbeat")
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes
    # The chat's history is on screen again; none of it is logged or answered again.
    simulator.incoming(session_id, "15551234567", "thanks")
    wait_until(
        lambda: MessageLog.objects.filter(tenant=tenant, direction="IN").count() == 2, what="2nd message"
    )
    assert len(simulator.sent(session_id)) == 1
    assert MessageLog.objects.filter(tenant=tenant, direction="OUT").count() == 1
    assert second.stop() == 0


def test_it_tells_logout_conflict_and_phone_offline_apart(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)

    simulator.action(session_id, "phone-offline")
    wait_until(lambda: state_of(tenant) == "PHONE_UNREACHABLE", what="PHONE_UNREACHABLE")
    simulator.action(session_id, "phone-online")
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED after the phone is back")

    simulator.action(session_id, "conflict")
    wait_until(lambda: state_of(tenant) == "CONFLICT", what="CONFLICT")
    # The reason is the worker's next write, after the state: wait for it rather than race it.
    wait_until(lambda: "another window" in worker_of(tenant).last_error, what="the conflict's reason")

    simulator.action(session_id, "logout")
    wait_until(lambda: state_of(tenant) == "QR", what="a new QR after the logout")
    tenant.refresh_from_db()
    assert tenant.status == "ERROR"
    assert "logged out" in worker_of(tenant).last_error
    timeline = WorkerEvent.objects.filter(tenant=tenant, kind="SESSION_STATE").order_by("id")
    states = list(timeline.values_list("new_value", flat=True))
    assert states[-6:] == ["CONNECTED", "PHONE_UNREACHABLE", "CONNECTED", "CONFLICT", "LOGGED_OUT", "QR"]
    # The logout's navigation is not mistaken for a lost browser.
    assert not WorkerEvent.objects.filter(tenant=tenant, reason__contains="browser lost").exists()
    assert worker.stop() == 0


def test_it_takes_the_session_back_after_a_conflict(tenant, simulator, start_worker):
    worker = start_worker(tenant.id, simulator, CONFLICT_TAKEOVER_SECONDS="1")
    session_id = connect(tenant, simulator)
    simulator.action(session_id, "conflict")
    wait_until(lambda: state_of(tenant) == "CONFLICT", what="CONFLICT")
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED after Use here")
    assert worker.stop() == 0


def test_it_stops_cleanly_when_nobody_scans(tenant, start_simulator, start_worker):
    simulator = start_simulator(qr_rotate_seconds=0.7, loading_seconds=0.2)
    worker = start_worker(tenant.id, simulator, QR_MAX_REFRESHES="2")
    assert worker.wait(timeout=60) == 0
    stopped = worker_of(tenant)
    assert stopped.status == "STOPPED"
    assert (
        "not scanned after 2 codes"
        in WorkerEvent.objects.filter(tenant=tenant).order_by("-id").first().reason
    )
    assert WhatsAppSession.objects.get(tenant=tenant).qr_refresh_count == 2
    assert state_of(tenant) == "STOPPED"


def test_it_runs_two_tenants_at_once_without_mixing(tenant, other_tenant, simulator, start_worker):
    ReplyRule.objects.create(tenant=tenant, pattern="menu", reply_text="Bakery menu")
    ReplyRule.objects.create(tenant=other_tenant, pattern="menu", reply_text="Florist menu")
    workers = [start_worker(tenant.id, simulator), start_worker(other_tenant.id, simulator)]
    bakery = connect(tenant, simulator, phone="15550000001")
    florist = connect(other_tenant, simulator, phone="15550000002")
    simulator.incoming(bakery, "15557770001", "menu?")
    simulator.incoming(florist, "15557770002", "menu?")
    wait_until(lambda: simulator.sent(bakery) and simulator.sent(florist), what="both replies")
    assert [m["text"] for m in simulator.sent(bakery)] == ["Bakery menu"]
    assert [m["text"] for m in simulator.sent(florist)] == ["Florist menu"]
    assert set(MessageLog.objects.filter(tenant=tenant).values_list("from_number", flat=True)) <= {
        "15557770001",
        "",
    }
    assert set(MessageLog.objects.filter(tenant=other_tenant).values_list("from_number", flat=True)) <= {
        "15557770002",
        "",
    }
    assert [w.stop() for w in workers] == [0, 0]


def test_it_stops_on_sigint_too_and_leaves_no_browser(tenant, simulator, start_worker, worker_env):
    worker = start_worker(tenant.id, simulator)
    wait_until(lambda: current_qr(tenant), what="a QR code")
    assert worker.stop(signal.SIGINT) == 0
    assert chromium_processes_using(Path(worker_env["SESSIONS_DIR"]) / str(tenant.id)) == []
    assert worker_of(tenant).status == "STOPPED"


def test_it_refuses_a_second_worker_for_the_same_tenant(tenant, simulator, start_worker):
    first = start_worker(tenant.id, simulator)
    wait_until(lambda: worker_of(tenant).status == "STARTING", what="the first worker")
    second = start_worker(tenant.id, simulator)
    assert second.wait(timeout=30) == 2
    assert "session is held by pid" in second.text()
    assert first.stop() == 0


def test_it_sends_what_was_queued_while_it_was_down_exactly_once(tenant, simulator, start_worker):
    first = start_worker(tenant.id, simulator)
    session_id = connect(tenant, simulator)
    assert first.stop() == 0
    queued = [
        outbound_enqueue(tenant=tenant, to_number="15551112222", text=f"order {i} is ready")[0]
        for i in range(3)
    ]
    tenant_services.tenant_set_status(tenant=tenant, status="ACTIVE")
    second = start_worker(tenant.id, simulator)
    wait_until(lambda: len(simulator.sent(session_id)) == 3, what="three queued messages sent")
    assert [m["text"] for m in simulator.sent(session_id)] == [m.text for m in queued]  # in order
    wait_until(
        lambda: set(OutboundMessage.objects.values_list("status", flat=True)) == {"SENT"},
        what="every queued message marked SENT",
    )
    assert second.stop() == 0


def test_it_waits_its_turn_to_launch_and_says_so_to_staff_and_the_tenant(
    tenant, tenant_user, staff_user, simulator, start_worker, worker_env
):
    import fcntl

    launch = Path(worker_env["SESSIONS_DIR"]) / ".launch"
    launch.mkdir(parents=True)
    with (launch / "slot-0.lock").open("a") as slot:
        fcntl.flock(slot, fcntl.LOCK_EX)  # another worker launching its browser
        start_worker(tenant.id, simulator, WORKER_START_CONCURRENCY="1")
        wait_until(lambda: worker_of(tenant).start_position == 1, what="1st in line")

        staff, owner = signed_in(staff_user), signed_in(tenant_user)
        assert "Starting, 1st in line" in staff.get("/admin/tenants/workerprocess/").content.decode()
        assert "Starting, 1st in line — this takes a little longer" in owner.get("/portal/").content.decode()
        assert not chromium_processes_using(Path(worker_env["SESSIONS_DIR"]) / str(tenant.id))
    # The slot is free: the browser launches, the code to scan follows.
    wait_until(lambda: current_qr(tenant), what="a QR code once launched")
    assert worker_of(tenant).start_position is None
    waiting = [
        line for line in tenant_log_lines(worker_env, tenant.id) if line.get("event") == "launch_waiting"
    ]
    assert [line["position"] for line in waiting] == [1]

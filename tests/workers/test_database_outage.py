"""PostgreSQL unreachable for 30 s while a worker and the web server run.

The worker keeps its browser and session, says so once, and writes everything that happened
meanwhile (messages in, their replies, sends) when the database is back; the web server
answers 503 meanwhile and recovers by itself.
"""

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from tenants.api_keys import api_key_create
from tenants.models import MessageLog, TenantApiKey, WhatsAppSession, WorkerEvent
from tests.helpers.faults import TcpProxy
from tests.helpers.gunicorn import free_port, production_env
from tests.helpers.gunicorn import start as start_gunicorn
from tests.helpers.paths import PROJECT_DIR, database_url
from tests.helpers.processes import tenant_log_lines, wait_until
from tests.helpers.workers import connect, current_qr, state_of, worker_of
from workers.models import OutboundMessage, ReplyRule
from workers.services import outbound_enqueue

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

OUTAGE_SECONDS = 30


@pytest.fixture
def database_proxy() -> TcpProxy:
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def web_server(tmp_path: Path):
    """Starts gunicorn with production settings (output in web.out); stopped after the test."""
    servers = []

    def start(**env: str) -> str:
        port = free_port()
        servers.append(
            start_gunicorn(production_env(tmp_path / "web-logs", **env), port, tmp_path / "web.out")
        )
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def url_through(proxy: TcpProxy) -> str:
    """The test database's URL, by way of the proxy."""
    return database_url().replace(f":{proxy.target[1]}/", f":{proxy.port}/")


def get(url: str, **headers: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}, {}


def test_a_30_second_database_outage_loses_nothing_and_is_said_once(
    tenant, database_proxy, start_simulator, start_worker, worker_env, web_server, tmp_path
):
    through_proxy = url_through(database_proxy)
    ReplyRule.objects.create(tenant=tenant, pattern="hours", reply_text="We open at 8")
    _, api_key = api_key_create(tenant=tenant, name="shop", scope=TenantApiKey.Scope.READ, created_by=None)
    simulator = start_simulator(qr_rotate_seconds=60, loading_seconds=0.3, send_ack_seconds=0.5)
    # Sends spaced out, so the outage catches the queue part-way.
    worker = start_worker(tenant.id, simulator, DATABASE_URL=through_proxy, OUTBOUND_MIN_GAP_SECONDS="2")
    session_id = connect(tenant, simulator)
    pid = worker_of(tenant).pid
    qr_codes = WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count()

    base = web_server(DATABASE_URL=through_proxy)
    wait_until(lambda: get(f"{base}/readyz")[0] == 200, timeout=60, what="the web server ready")

    queued = [f"order {n} is ready" for n in range(1, 5)]
    for text in queued:
        outbound_enqueue(tenant=tenant, to_number="15551230000", text=text)
    wait_until(lambda: simulator.sent(session_id), what="the first send")

    database_proxy.cut()
    cut_at = datetime.now(UTC)
    try:
        customers = [f"1555765432{n}" for n in range(3)]
        for number in customers:
            simulator.incoming(session_id, number, "what are your hours?")
            time.sleep(2)

        status, _, body = wait_until(
            lambda: (answer := get(f"{base}/readyz"))[0] == 503 and answer, what="readyz 503"
        )
        assert body["failed"][0] == "database"
        status, headers, body = get(
            f"{base}/api/portal/tenant/current/messages", Authorization=f"Bearer {api_key}"
        )
        assert status == 503 and headers["Retry-After"] and "database is unreachable" in body["detail"]

        time.sleep(max(0.0, OUTAGE_SECONDS - (datetime.now(UTC) - cut_at).total_seconds()))
        assert worker.process.poll() is None, "the worker kept running through the outage"
        (simulated,) = [s for s in simulator.sessions() if s["id"] == session_id]
        assert simulated["state"] == "linked", "the browser kept its session"
        assert simulated["unread"] == 0, "the worker kept reading the page"
    finally:
        database_proxy.restore()
    restored_at = datetime.now(UTC)

    # Everything that happened during the outage is written, at the time it happened.
    def received() -> list[MessageLog]:
        return list(MessageLog.objects.filter(tenant=tenant, direction="IN").order_by("created_at"))

    wait_until(lambda: len(received()) == 3, timeout=60, what="the three messages logged")
    assert sorted(log.from_number for log in received()) == customers
    assert all(cut_at < log.created_at < restored_at for log in received())
    wait_until(
        lambda: OutboundMessage.objects.filter(tenant=tenant, status="SENT").count() == 7,
        timeout=60,
        what="the queue and the three replies sent",
    )
    sent = [m["text"] for m in simulator.sent(session_id)]
    assert sorted(sent) == sorted([*queued, *["We open at 8"] * 3])  # each exactly once
    assert MessageLog.objects.filter(tenant=tenant, direction="OUT").count() == 7

    # The same process and browser all along: no restart, no new QR code.
    assert worker_of(tenant).pid == pid and worker.process.poll() is None
    assert state_of(tenant) == "CONNECTED"
    assert WorkerEvent.objects.filter(tenant=tenant, kind="QR_ISSUED").count() == qr_codes
    wait_until(
        lambda: WhatsAppSession.objects.get(tenant=tenant).last_seen_at > restored_at, what="heartbeats again"
    )

    # Said once each way, not a line per retry; and on the timeline.
    lines = tenant_log_lines(worker_env, tenant.id)
    assert [line["event"] for line in lines if line.get("event", "").startswith("database_")] == [
        "database_down",
        "database_back",
    ]
    (back,) = [line for line in lines if line.get("event") == "database_back"]
    assert back["outage_seconds"] >= OUTAGE_SECONDS - 5 and back["caught_up"] >= 3
    assert worker.text().count('"event": "database_down"') == 1
    assert WorkerEvent.objects.filter(
        tenant=tenant, kind="ERROR", reason__startswith="database unreachable for"
    ).exists()

    wait_until(lambda: get(f"{base}/readyz")[0] == 200, what="readyz back to 200 by itself")
    assert get(f"{base}/api/portal/tenant/current/messages", Authorization=f"Bearer {api_key}")[0] == 200
    assert worker.stop() == 0
    assert "Traceback" not in (tmp_path / "web.out").read_text()


def test_the_stale_check_loop_says_an_outage_once_and_carries_on(
    transactional_db, worker_env, database_proxy, tmp_path
):
    through_proxy = url_through(database_proxy)
    output = tmp_path / "stale.out"
    loop = subprocess.Popen(
        [sys.executable, "manage.py", "check_stale_workers", "--every", "0.5"],
        cwd=PROJECT_DIR,
        env={**worker_env, "DATABASE_URL": through_proxy},
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: "stale check done" in output.read_text(), what="a first round")
        database_proxy.cut()
        time.sleep(4)  # about eight rounds
        database_proxy.restore()
        wait_until(lambda: "stale check running again" in output.read_text(), what="the loop back")
    finally:
        loop.send_signal(signal.SIGTERM)
        assert loop.wait(timeout=30) == 0
    text = output.read_text()
    assert text.count("database unreachable") == 1
    assert "Traceback" not in text


def test_qr_codes_shown_during_an_outage_are_not_all_counted_against_the_login(
    tenant, database_proxy, start_simulator, start_worker, worker_env
):
    # Codes rotate every second: an outage of 8 s shows about 8, more than QR_MAX_REFRESHES.
    simulator = start_simulator(qr_rotate_seconds=1, qr_max_rotations=60, loading_seconds=0.3)
    worker = start_worker(
        tenant.id, simulator, DATABASE_URL=url_through(database_proxy), QR_MAX_REFRESHES="5"
    )
    wait_until(lambda: current_qr(tenant), what="a first QR code")
    database_proxy.cut()
    time.sleep(8)
    database_proxy.restore()

    back = wait_until(
        lambda: [
            line for line in tenant_log_lines(worker_env, tenant.id) if line.get("event") == "database_back"
        ],
        what="the worker back",
    )
    assert back and worker.process.poll() is None, "still waiting for a scan, not stopped or crashed"
    # Only the code on screen was stored when the database returned; the login goes ahead.
    (shown,) = [session["qr"] for session in simulator.sessions() if session["qr"]]
    simulator.link(shown)
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED")
    assert worker.stop() == 0


def test_a_3_minute_outage_marks_only_the_worker_that_died_meanwhile(
    tenant, database_proxy, start_simulator, start_worker, worker_env, tmp_path
):
    from tenants import services
    from tenants.models import Alert, Tenant, WorkerProcess
    from tenants.selectors import session_uptime

    through_proxy = url_through(database_proxy)
    timing = {
        "DATABASE_URL": through_proxy,
        "HEARTBEAT_INTERVAL_SECONDS": "3",
        "STALE_WORKER_THRESHOLD_SECONDS": "15",
        "STALE_CHECK_MAX_GAP_SECONDS": "10",
    }
    simulator = start_simulator(qr_rotate_seconds=120, loading_seconds=0.3)
    tenants = [tenant, *(services.tenant_create(name=f"Bakery {n}") for n in range(2, 5))]
    workers = {t.id: start_worker(t.id, simulator, **timing) for t in tenants}
    for n, each in enumerate(tenants):
        connect(each, simulator, phone=f"1555000100{n}")
    *healthy, doomed = tenants
    connected_at = datetime.now(UTC)
    output = tmp_path / "stale.out"
    check = subprocess.Popen(
        [sys.executable, "manage.py", "check_stale_workers", "--every", "2"],
        cwd=PROJECT_DIR,
        env={**worker_env, **timing},
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: "stale check done" in output.read_text(), what="a first round")
        database_proxy.cut()
        try:
            time.sleep(20)
            workers[doomed.id].stop(signal.SIGKILL)  # dies while nobody can see it
            subprocess.run(
                ["pkill", "-KILL", "-f", f"user-data-dir={worker_env['SESSIONS_DIR']}/{doomed.id}"]
            )
            time.sleep(160)
        finally:
            database_proxy.restore()
        wait_until(
            lambda: WorkerProcess.objects.get(tenant=doomed).status == "ERROR",
            timeout=60,
            what="the dead worker marked",
        )
        time.sleep(20)  # more rounds: nobody else is marked, the dead one not again
    finally:
        check.send_signal(signal.SIGTERM)
        assert check.wait(timeout=30) == 0

    assert [WorkerProcess.objects.get(tenant=t).status for t in healthy] == ["RUNNING"] * 3
    assert list(Alert.objects.values_list("tenant_id", flat=True)) == [doomed.id]
    assert list(WorkerEvent.objects.filter(kind="STALE_MARKED").values_list("tenant_id", flat=True)) == [
        doomed.id
    ]
    for each in healthy:
        since_connected = datetime.now(UTC) - connected_at  # the time it was shown a QR code aside
        assert session_uptime(tenant=each, window=since_connected) == 1.0, each.name
        assert (
            not WorkerEvent.objects.filter(tenant=each, kind="SESSION_STATE")
            .exclude(new_value__in=["STARTING", "QR", "CONNECTED"])
            .exists()
        )
        assert not WorkerEvent.objects.filter(tenant=each, new_value="ERROR").exists(), each.name
    assert Tenant.objects.get(pk=doomed.pk).status == "ERROR"
    assert "silence counts from now" in output.read_text()


def test_a_worker_started_while_the_database_is_cut_waits_then_connects(
    tenant, database_proxy, simulator, start_supervisord, worker_env
):
    from workers import orchestration

    daemon = start_supervisord(DATABASE_URL=url_through(database_proxy))
    database_proxy.cut()
    try:
        orchestration.worker_start(tenant=tenant, by="test")
        program = worker_of(tenant).process_name
        time.sleep(30)  # supervisord gives up after 5 quick exits: about 15 s
        info = daemon.rpc().getProcessInfo(program)
        assert info["statename"] == "RUNNING", info
        first_pid = info["pid"]
    finally:
        database_proxy.restore()
    connect(tenant, simulator)

    info = daemon.rpc().getProcessInfo(program)
    assert (info["statename"], info["pid"]) == ("RUNNING", first_pid)  # the same process all along
    output = Path(info["stdout_logfile"]).read_text() + Path(info["stderr_logfile"]).read_text()
    assert output.count("database unreachable at start; waiting for it") == 1
    assert "database reachable; starting" in output
    assert "FATAL" not in (daemon.socket_path.parent / "log" / "supervisord.log").read_text()


def test_a_worker_stopped_during_an_outage_leaves_a_journal_the_next_one_writes_first(
    tenant, database_proxy, start_simulator, start_worker, worker_env
):
    simulator = start_simulator(qr_rotate_seconds=120, loading_seconds=0.3)
    first = start_worker(tenant.id, simulator, DATABASE_URL=url_through(database_proxy))
    session_id = connect(tenant, simulator)
    journal = Path(worker_env["SESSIONS_DIR"]) / str(tenant.id) / "owed.jsonl"
    customers = [f"1555765432{n}" for n in range(3)]

    database_proxy.cut()
    cut_at = datetime.now(UTC)
    try:
        for number in customers:
            simulator.incoming(session_id, number, f"order for {number[-1]}")
            time.sleep(2)
        wait_until(
            lambda: journal.exists() and journal.read_text().count("\n") == 3, what="three lines journaled"
        )
        assert first.stop(signal.SIGTERM, timeout=60) == 0  # tries 10 s to write, then keeps the journal
        stopped_at = datetime.now(UTC)
        whole = journal.stat().st_size
        with journal.open("ab") as handle:  # a line the disk only half wrote
            handle.write(b'{"owed":"event","event":{"$type":"IncomingMes')
        time.sleep(max(0.0, 60 - (datetime.now(UTC) - cut_at).total_seconds()))
    finally:
        database_proxy.restore()
    assert not MessageLog.objects.filter(tenant=tenant, direction="IN").exists()

    second = start_worker(tenant.id, simulator)
    wait_until(lambda: not journal.exists(), timeout=60, what="the journal written and deleted")
    wait_until(lambda: state_of(tenant) == "CONNECTED", what="CONNECTED again, no QR code")

    logged = list(MessageLog.objects.filter(tenant=tenant, direction="IN").order_by("created_at"))
    assert [log.from_number for log in logged] == customers  # once each, in order
    assert all(cut_at < log.created_at < stopped_at for log in logged)  # when they arrived
    lines = tenant_log_lines(worker_env, tenant.id)
    (skipped,) = [line for line in lines if line.get("event") == "journal_line_skipped"]
    assert (skipped["file"], skipped["offset"]) == (str(journal), whole)
    assert [line["records"] for line in lines if line.get("event") == "journal_replayed"] == [3]
    assert second.stop() == 0

"""Worker benchmark: inbound message to reply shown, and the memory of one connected worker.

    python -m tests.bench.worker            (BENCH_MESSAGES=50, BENCH_CONNECTED_SECONDS=600)

Latency baseline: the same 50 deliveries watched by a bare browser on the same simulator
(no worker): the time the page itself takes to show a message. Memory baseline: a bare
headless Chromium with the worker's flags on about:blank.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.bench.harness import bench_database, report, setup_django, start_simulator, summary, worker_env
from tests.helpers.processes import wait_until

SHOWN = "return !!document.querySelector(arguments[0])"


def main() -> None:
    setup_django()
    with bench_database():
        run()


def wait_for(condition: Callable[[], object], timeout: float = 60.0) -> object:
    # Polls every 5 ms: a latency benchmark can't wait in 100 ms steps.
    return wait_until(condition, timeout=timeout, what="a benchmark step", poll=0.005)


def run() -> None:
    from tenants import services
    from tests.conftest import PROJECT_DIR
    from workers.models import ReplyRule
    from workers.procinfo import process_tree, pss_kib, tree_pss_mib
    from workers.whatsapp import events
    from workers.whatsapp.client import WhatsAppClient

    messages = int(os.environ.get("BENCH_MESSAGES", "50"))
    connected_seconds = float(os.environ.get("BENCH_CONNECTED_SECONDS", "600"))
    server, simulator = start_simulator()
    work = Path(tempfile.mkdtemp(prefix="bench-worker-"))

    def bare_client(url: str, name: str) -> WhatsAppClient:
        return WhatsAppClient(
            url=url,
            profile_dir=work / name,
            artifacts_dir=work / "artifacts",
            chrome_binary=os.environ.get("CHROME_BINARY", "/usr/bin/chromium-headless-shell"),
            chromedriver_path=os.environ.get("CHROMEDRIVER_PATH", "/usr/bin/chromedriver"),
        )

    # Baseline 1: how long the page alone takes to show a delivered message.
    watcher = bare_client(simulator.url + "/", "watcher")
    watcher.start()
    qr = wait_for(lambda: next((e.value for e in watcher.poll(0.5) if isinstance(e, events.QrCode)), None))
    watcher_session = simulator.link(qr, "15550000001")
    wait_for(lambda: any(isinstance(e, events.Ready) for e in watcher.poll(0.5)))
    # Keep the sender's chat open, so each message shows up as a row in #main.
    watcher.driver.get(f"{simulator.url}/send?phone=15557000000")
    wait_for(lambda: watcher.driver.execute_script(SHOWN, "#main footer [contenteditable='true']"))
    floor = []
    for i in range(messages):
        started = time.monotonic()
        data_id = simulator.incoming(watcher_session, "15557000000", f"ping {i}")
        selector = f"[data-id='{data_id}']"
        wait_for(lambda s=selector: watcher.driver.execute_script(SHOWN, s))
        floor.append(time.monotonic() - started)
    watcher.stop()

    # The worker: a real run_worker process answering "ping" with "pong".
    tenant = services.tenant_create(name="Bench Bakery")
    ReplyRule.objects.create(tenant=tenant, pattern="ping", reply_text="pong")
    env = worker_env(
        work,
        simulator.url,
        # Measure the pipeline, not the anti-ban pace.
        OUTBOUND_MIN_GAP_SECONDS="0",
        OUTBOUND_JITTER_SECONDS="0",
        OUTBOUND_BURST="10000",
        OUTBOUND_PER_MINUTE="100000",
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", str(tenant.id)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        session = tenant.session
        qr = wait_for(lambda: session.refresh_from_db() or session.last_qr, timeout=60)
        connected_at = time.monotonic()
        session_id = simulator.link(qr, "15550000002")
        latencies = []
        for i in range(messages):
            started = time.monotonic()
            simulator.incoming(session_id, "15557000000", f"ping {i}")
            wait_for(lambda n=i + 1: len(simulator.sent(session_id)) >= n)
            latencies.append(time.monotonic() - started)

        remaining = connected_seconds - (time.monotonic() - connected_at)
        if remaining > 0:
            print(
                f"(keeping the worker connected {remaining:.0f} s more before measuring memory)", flush=True
            )
            time.sleep(remaining)
        tree = process_tree(worker.pid)
        worker_total = tree_pss_mib(worker.pid)
        python_only = pss_kib(worker.pid) / 1024
        minutes = (time.monotonic() - connected_at) / 60
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=90)

    # Baseline 2: a bare browser with the same flags on an empty page.
    bare = bare_client("about:blank", "bare")
    bare.start()
    time.sleep(2)
    bare_tree = sum(tree_pss_mib(pid) for pid in bare.browser_root_pids())
    bare.stop()
    server.shutdown()

    med, p95 = summary(latencies)
    floor_med, floor_p95 = summary(floor)
    report(
        f"worker: inbound message to reply shown in the simulator ({messages} messages)",
        [
            (
                "page alone (baseline)",
                f"median {floor_med * 1000:.0f} ms, p95 {floor_p95 * 1000:.0f} ms",
                "1.00x",
            ),
            (
                "worker reply",
                f"median {med * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
                f"{med / floor_med:.2f}x median",
            ),
        ],
    )
    report(
        f"worker: memory (PSS) after {minutes:.1f} min connected, {len(tree)} processes",
        [
            ("bare Chromium (baseline)", f"{bare_tree:.0f} MiB", "1.00x"),
            ("worker: Python + Chromium", f"{worker_total:.0f} MiB", f"{worker_total / bare_tree:.2f}x"),
            ("  of which the Python process", f"{python_only:.0f} MiB", ""),
        ],
    )


if __name__ == "__main__":
    main()

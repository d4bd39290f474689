"""Start-up benchmark: many tenants' workers started at once, paced or not.

    python -m tests.bench.startup            (BENCH_START_TENANTS=20)

N real run_worker processes on the simulator; each is linked as soon as its QR code is in
the database, so "connected" is the whole start-up: Python, Chromium, the page, the login.
Baseline: the same N started one by one, each once the one before is connected (no two
browsers ever launch together). Then all N at once with WORKER_START_CONCURRENCY at 2 and
at N (no pacing). For each: the time until all are connected, the slowest single start, and
the median tenant's wait (from the moment the host starts them all), and the peak of the
machine's used memory above what it used before (MemTotal - MemAvailable, sampled every
0.2 s).
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench.harness import bench_database, report, setup_django, worker_env

POLL = 0.1


def main() -> None:
    setup_django()
    with bench_database():
        run()


def used_mib() -> float:
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return (fields["MemTotal"] - fields["MemAvailable"]) / 1024


class Peak(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.base = used_mib()
        self.peak = self.base
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, used_mib())


def run() -> None:
    from tenants import services
    from tenants.models import WhatsAppSession
    from tests.conftest import PROJECT_DIR
    from tests.workers.conftest import Simulator
    from workers.simulator.server import make_server

    count = int(os.environ.get("BENCH_START_TENANTS", "20"))
    server = make_server("127.0.0.1", 0, qr_rotate_seconds=300, loading_seconds=0.3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    simulator = Simulator(f"http://127.0.0.1:{server.server_address[1]}")
    tenants = [services.tenant_create(name=f"Start Bakery {n}") for n in range(count)]

    def start_all(label: str, concurrency: int, one_by_one: bool) -> tuple[float, float, float, float]:
        work = Path(tempfile.mkdtemp(prefix="bench-start-"))
        env = worker_env(
            work, simulator.url, WORKER_START_CONCURRENCY=str(concurrency), QR_MAX_REFRESHES="30"
        )
        WhatsAppSession.objects.update(last_qr="", state="STOPPED")
        peak = Peak()
        peak.start()
        processes: list[subprocess.Popen] = []
        started_at: dict[str, float] = {}
        connected_at: dict[str, float] = {}
        linked: set[str] = set()

        def launch(tenant) -> None:
            started_at[str(tenant.id)] = time.monotonic()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker", str(tenant.id)],
                    cwd=PROJECT_DIR,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

        def link_and_check() -> None:
            # Scan each code as it appears, as the tenants' phones would; note who is connected.
            for session in WhatsAppSession.objects.filter(tenant__in=tenants):
                key = str(session.tenant_id)
                if session.last_qr and key not in linked:
                    simulator.link(session.last_qr, f"1555{len(linked):07d}")
                    linked.add(key)
                if session.state == "CONNECTED" and key not in connected_at:
                    connected_at[key] = time.monotonic()

        first = time.monotonic()
        try:
            if one_by_one:
                for tenant in tenants:
                    launch(tenant)
                    while str(tenant.id) not in connected_at:
                        link_and_check()
                        time.sleep(POLL)
            else:
                for tenant in tenants:
                    launch(tenant)
            deadline = time.monotonic() + 900
            while len(connected_at) < count and time.monotonic() < deadline:
                link_and_check()
                time.sleep(POLL)
            if len(connected_at) < count:
                raise RuntimeError(f"{label}: only {len(connected_at)} of {count} connected in 15 min")
            total = max(connected_at.values()) - first
            slowest = max(connected_at[k] - started_at[k] for k in connected_at)
            # How long a tenant waits, from the host starting them all to its own "connected".
            median = statistics.median(at - first for at in connected_at.values())
        finally:
            peak.done.set()
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    process.kill()
            shutil.rmtree(work, ignore_errors=True)
        return total, median, slowest, peak.peak - peak.base

    results = {
        "one by one (baseline)": start_all("one by one", count, one_by_one=True),
        f"all at once, unpaced (CONCURRENCY={count})": start_all("unpaced", count, one_by_one=False),
        "all at once, WORKER_START_CONCURRENCY=2": start_all("paced", 2, one_by_one=False),
    }
    server.shutdown()
    base_total = results["one by one (baseline)"][0]
    base_peak = results["one by one (baseline)"][3]
    report(
        f"start-up: {count} workers until all connected (the median tenant's wait; the slowest "
        "single start; the machine's memory peak above idle)",
        [
            (
                name,
                f"all {total:.0f} s, median {median:.0f} s (slowest {slowest:.0f} s), peak +{peak:.0f} MiB",
                f"{total / base_total:.2f}x time, {peak / base_peak:.2f}x memory",
            )
            for name, (total, median, slowest, peak) in results.items()
        ],
    )


if __name__ == "__main__":
    main()

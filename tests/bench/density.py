"""Density benchmark: what one connected session costs, against a bare browser.

    python -m tests.bench.density    (BENCH_DENSITY_SESSIONS=10, BENCH_CONNECTED_SECONDS=600)

Baseline, in the same run: as many bare Chromiums, started the way Selenium starts one by
default (headless, and --no-sandbox as root), each linked to the simulator and on its main
view like the workers. Figures are PSS (shared pages split between the processes sharing
them), per session. Then one worker stays connected for BENCH_CONNECTED_SECONDS receiving
a message every 10 s, its PSS sampled every minute: var/bench/density-growth.svg.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.bench.harness import bench_database, report, setup_django, start_simulator, worker_env
from tests.helpers.processes import wait_until

FULL_CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    setup_django()
    with bench_database():
        run()


def used_memory_mib() -> float:
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kib = int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])
    return kib / 1024


def run() -> None:
    from tenants import services
    from tests.conftest import PROJECT_DIR
    from workers.procinfo import pss_kib, tree_pss_mib
    from workers.whatsapp import events
    from workers.whatsapp.client import WhatsAppClient

    class BareClient(WhatsAppClient):
        """Chromium as Selenium starts it by default; our bridge only to link it."""

        def _launch(self) -> webdriver.Remote:
            options = webdriver.ChromeOptions()
            options.binary_location = FULL_CHROMIUM
            for flag in ("--headless=new", "--no-sandbox", f"--user-data-dir={self.profile_dir}"):
                options.add_argument(flag)
            self._service = Service(self.chromedriver_path, popen_kw={"start_new_session": True})
            return webdriver.Chrome(options=options, service=self._service)

    sessions = int(os.environ.get("BENCH_DENSITY_SESSIONS", "10"))
    connected_seconds = float(os.environ.get("BENCH_CONNECTED_SECONDS", "600"))
    server, simulator = start_simulator()
    work = Path(tempfile.mkdtemp(prefix="bench-density-"))
    idle = used_memory_mib()

    # Baseline: N bare browsers, linked, on the main view.
    bare = []
    try:
        for i in range(sessions):
            client = BareClient(
                url=simulator.url + "/",
                profile_dir=work / f"bare-{i}",
                artifacts_dir=work / "artifacts",
                chrome_binary=FULL_CHROMIUM,
                chromedriver_path=os.environ.get("CHROMEDRIVER_PATH", "/usr/bin/chromedriver"),
            )
            client.start()
            bare.append(client)
            qr = wait_until(
                lambda c=client: next((e.value for e in c.poll(0.5) if isinstance(e, events.QrCode)), None),
                timeout=60,
                what="a bare browser's QR code",
            )
            simulator.link(qr, f"1555200{i:04d}")
            wait_until(
                lambda c=client: any(isinstance(e, events.Ready) for e in c.poll(0.5)),
                timeout=60,
                what="a bare browser's main view",
            )
        time.sleep(20)
        bare_per_session = sum(tree_pss_mib(pid) for c in bare for pid in c.browser_root_pids()) / sessions
        bare_used = used_memory_mib() - idle
    finally:
        for client in bare:
            client.stop()
    time.sleep(5)
    idle = used_memory_mib()

    # Our workers: real run_worker processes, each linked.
    tenants = [services.tenant_create(name=f"Density {i}") for i in range(sessions)]
    env = worker_env(work, simulator.url)
    workers = []
    session_ids = []
    try:
        for i, tenant in enumerate(tenants):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker", str(tenant.id)],
                    cwd=PROJECT_DIR,
                    env=env,
                    # Kept beside the logs: a worker that fails the run says why there.
                    stdout=(work / f"worker-{i}.out").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            session = tenant.session
            qr = wait_until(
                lambda s=session: s.refresh_from_db() or s.last_qr, timeout=90, what="a worker's QR code"
            )
            session_ids.append(simulator.link(qr, f"1555300{i:04d}"))
            wait_until(
                lambda s=session: s.refresh_from_db() or s.state == "CONNECTED",
                timeout=90,
                what="a worker connected",
            )
        time.sleep(20)
        python = sum(pss_kib(w.pid) for w in workers) / 1024 / sessions
        total = sum(tree_pss_mib(w.pid) for w in workers) / sessions
        used = used_memory_mib() - idle

        # Growth: the first worker alone keeps going, a message every 10 s.
        for w in workers[1:]:
            w.terminate()
        for w in workers[1:]:
            w.wait(timeout=60)
        samples = [(0.0, tree_pss_mib(workers[0].pid))]
        started = time.monotonic()
        next_sample = started + 60
        sent = 0
        while time.monotonic() - started < connected_seconds:
            simulator.incoming(session_ids[0], "15557000000", f"trickle {sent}")
            sent += 1
            time.sleep(10)
            if time.monotonic() >= next_sample:
                samples.append(((time.monotonic() - started) / 60, tree_pss_mib(workers[0].pid)))
                next_sample += 60
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=60)
        server.shutdown()

    report(
        f"density: {sessions} connected sessions on the simulator, PSS per session",
        [
            ("bare Chromium, Selenium defaults (baseline)", f"{bare_per_session:.0f} MiB", "1.00x"),
            ("worker: Python + browser", f"{total:.0f} MiB", f"{total / bare_per_session:.2f}x"),
            ("  of which the Python process", f"{python:.0f} MiB", f"{python / bare_per_session:.2f}x"),
            (
                "  of which the browser tree",
                f"{total - python:.0f} MiB",
                f"{(total - python) / bare_per_session:.2f}x",
            ),
            ("machine's used memory: bare browsers", f"{bare_used:.0f} MiB", "1.00x"),
            ("machine's used memory: workers", f"{used:.0f} MiB", f"{used / bare_used:.2f}x"),
        ],
    )
    chart = Path(PROJECT_DIR) / "var" / "bench" / "density-growth.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(growth_svg(samples, messages=sent), encoding="utf-8")
    first, last = samples[0][1], samples[-1][1]
    report(
        f"density: one session connected {connected_seconds / 60:.0f} min, {sent} messages in",
        [
            ("PSS at the start (baseline)", f"{first:.0f} MiB", "1.00x"),
            (f"PSS after {samples[-1][0]:.0f} min", f"{last:.0f} MiB", f"{last / first:.2f}x"),
            ("chart", str(chart.relative_to(PROJECT_DIR)), ""),
        ],
    )


def growth_svg(samples: list[tuple[float, float]], *, messages: int) -> str:
    """A line chart of PSS over minutes connected, as a plain SVG file."""
    width, height, pad = 640, 320, 50
    top = max(m for _, m in samples) * 1.2 or 1
    right = max(t for t, _ in samples) or 1
    points = " ".join(
        f"{pad + t / right * (width - 2 * pad):.1f},{height - pad - m / top * (height - 2 * pad):.1f}"
        for t, m in samples
    )
    ticks = "".join(
        f'<text x="{pad - 6}" y="{height - pad - v / top * (height - 2 * pad) + 4:.1f}" text-anchor="end">'
        f"{v:.0f}</text>"
        for v in (0, top / 2, top / 1.2)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif"'
        f' font-size="12">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{width / 2}" y="20" text-anchor="middle">One worker connected, PSS (MiB) by minute;'
        f" {messages} messages in</text>"
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>'
        f"{ticks}"
        f'<text x="{width - pad}" y="{height - pad + 20}" text-anchor="end">{right:.0f} min</text>'
        f'<polyline fill="none" stroke="#0b57d0" stroke-width="2" points="{points}"/>'
        "</svg>\n"
    )


if __name__ == "__main__":
    main()

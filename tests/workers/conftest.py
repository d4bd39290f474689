"""Fixtures for the worker: a real simulator, real ``run_worker`` processes, real Chromium."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, database_url
from workers.simulator.server import make_server


def wait_until(
    condition: Callable[[], object], *, timeout: float = 30.0, what: str = "condition", poll: float = 0.1
) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Simulator:
    """The simulator's control API, as a test (or a phone) uses it."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"simulator {method} {path}: {exc.code} {exc.read().decode()}") from None

    def sessions(self) -> list[dict]:
        return self._call("GET", "/sim/control/sessions")["sessions"]

    def link(self, qr: str, phone: str = "15550009999") -> str:
        return self._call("POST", "/sim/control/link", {"qr": qr, "phone": phone})["id"]

    def action(self, session_id: str, action: str, body: dict | None = None) -> dict:
        return self._call("POST", f"/sim/control/sessions/{session_id}/{action}", body or {})

    def incoming(self, session_id: str, sender: str, text: str, **extra: object) -> str:
        return self.action(session_id, "incoming", {"from": sender, "text": text, **extra})["data_id"]

    def sent(self, session_id: str) -> list[dict]:
        return self._call("GET", f"/sim/control/sessions/{session_id}/sent")["messages"]

    def set_invalid_numbers(self, numbers: list[str]) -> None:
        self._call("POST", "/sim/control/invalid-numbers", {"numbers": numbers})


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., Simulator]]:
    servers = []

    def start(**options: object) -> Simulator:
        server = make_server("127.0.0.1", 0, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Simulator(f"http://127.0.0.1:{server.server_address[1]}")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def simulator(start_simulator: Callable[..., Simulator]) -> Simulator:
    return start_simulator(qr_rotate_seconds=30, loading_seconds=0.3, send_ack_seconds=0.1)


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, output: Path) -> None:
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def worker_env(transactional_db, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "LOG_DIR": str(tmp_path / "logs"),
        "SESSIONS_DIR": str(tmp_path / "sessions"),
        "LOG_FORMAT": "json",
        "HEARTBEAT_INTERVAL_SECONDS": "1",
        "OUTBOUND_MIN_GAP_SECONDS": "0.1",
        "OUTBOUND_JITTER_SECONDS": "0",
        "OUTBOUND_BURST": "50",
        "OUTBOUND_PER_MINUTE": "600",
        "CONFLICT_TAKEOVER_SECONDS": "0",
    }


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(tenant_id: object, simulator: Simulator | None = None, **env: str) -> WorkerProcess:
        output = tmp_path / f"worker-{len(started)}.out"
        full_env = {**worker_env, **env}
        if simulator is not None:
            full_env["WHATSAPP_WEB_URL"] = simulator.url + "/"
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", str(tenant_id)],
            cwd=PROJECT_DIR,
            env=full_env,
            stdout=output.open("w"),
            stderr=subprocess.STDOUT,
        )
        started.append(WorkerProcess(process, output))
        return started[-1]

    yield start
    for worker in started:
        # A test that failed half-way leaves its worker running: stop it as supervisord
        # would, so its browser goes with it, and kill it only if it won't stop.
        if worker.process.poll() is None:
            try:
                worker.stop(signal.SIGTERM, timeout=30)
            except subprocess.TimeoutExpired:
                worker.stop(signal.SIGKILL)
    assert_no_secrets_logged([*Path(worker_env["LOG_DIR"]).glob("*.log*"), *(w.output for w in started)])


# What must never be in an operational log: full phone numbers (8+ digits in a row; masked
# ones look like ***4567) and QR values (WhatsApp's start with "2@").
FORBIDDEN_IN_LOGS = re.compile(r"(?<![A-Za-z0-9-])\d{8,15}(?![A-Za-z0-9-])|\b2@[A-Za-z0-9+/=]{20,}")


def assert_no_secrets_logged(files: list[Path]) -> None:
    for path in files:
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            # Process ids and the browser's pids are numbers too: only look outside them.
            cleaned = re.sub(r'"(pid|previous_pid|browser_pids|exit_code)": \[?[\d, ]*\]?', "", line)
            found = FORBIDDEN_IN_LOGS.search(cleaned)
            assert found is None, f"{path.name}:{number} logs {found.group()!r}: {line[:300]}"


def tenant_log_lines(env: dict[str, str], tenant_id: object) -> list[dict]:
    path = Path(env["LOG_DIR"]) / f"{tenant_id}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def chromium_processes_using(profile_dir: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(profile_dir) in cmdline and "chrom" in cmdline:
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


class Supervisord:
    def __init__(self, process: subprocess.Popen, socket_path: Path, conf_dir: Path) -> None:
        self.process = process
        self.socket_path = socket_path
        self.conf_dir = conf_dir
        self.command: list[str] = []
        self.env: dict[str, str] = {}

    def restart(self) -> None:
        """Shut supervisord down (its programs with it) and start it again on the same files."""
        self.rpc().shutdown()
        self.process.wait(timeout=90)
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(lambda: self._running(), what="supervisord running again")

    def _running(self) -> bool:
        try:
            return self.rpc().getState()["statename"] == "RUNNING"
        except OSError:
            return False

    @property
    def spec(self) -> str:
        return f"unix://{self.socket_path}#{self.conf_dir}"

    def rpc(self):
        import xmlrpc.client

        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor


@pytest.fixture
def start_supervisord(
    worker_env: dict[str, str], tmp_path: Path, settings, simulator: Simulator
) -> Iterator[Callable[..., Supervisord]]:
    """Real supervisords in temporary directories, running programs against the test database
    and the simulator (or the one given)."""
    from workers.supervisor_config import main_config

    started: list[Supervisord] = []
    settings.LOG_DIR = Path(worker_env["LOG_DIR"])

    def start(on: Simulator | None = None) -> Supervisord:
        run_dir = tmp_path / f"host-{len(started)}"
        conf_dir = run_dir / "conf.d"
        log_dir = run_dir / "log"
        for directory in (run_dir, conf_dir, log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        config = run_dir / "supervisord.conf"
        config.write_text(main_config(run_dir=run_dir, conf_dir=conf_dir, log_dir=log_dir))
        env = {**worker_env, "WHATSAPP_WEB_URL": (on or simulator).url + "/"}
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "supervisord"), "-c", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        daemon = Supervisord(process, run_dir / "supervisor.sock", conf_dir)
        daemon.command, daemon.env = (
            [str(Path(sys.executable).parent / "supervisord"), "-c", str(config)],
            env,
        )
        started.append(daemon)
        wait_until(lambda: daemon.socket_path.exists(), what="supervisord's socket")
        wait_until(lambda: daemon.rpc().getState()["statename"] == "RUNNING", what="supervisord running")
        settings.WORKER_HOSTS = [d.spec for d in started]
        return daemon

    yield start
    for daemon in started:
        try:
            daemon.rpc().shutdown()
            daemon.process.wait(timeout=90)
        except (OSError, subprocess.TimeoutExpired):  # gone already, or stuck: kill it
            daemon.process.kill()
            daemon.process.wait()


@pytest.fixture
def supervisord(start_supervisord: Callable[..., Supervisord]) -> Supervisord:
    return start_supervisord()

"""Fixtures for the worker: a real simulator, real ``run_worker`` processes, real Chromium."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT_DIR, database_url
from tests.helpers.processes import (
    Simulator,
    Supervisord,
    WorkerProcess,
    assert_no_secrets_logged,
    wait_until,
)
from workers.simulator.server import make_server


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




@pytest.fixture
def worker_env(transactional_db, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "LOG_DIR": str(tmp_path / "logs"),
        "SESSIONS_DIR": str(tmp_path / "sessions"),
        "MEDIA_ROOT": str(tmp_path / "media"),
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












@pytest.fixture
def start_supervisord(
    worker_env: dict[str, str], tmp_path: Path, settings, simulator: Simulator
) -> Iterator[Callable[..., Supervisord]]:
    """Real supervisords in temporary directories, running programs against the test database
    and the simulator (or the one given)."""
    from workers.supervisor_config import main_config

    started: list[Supervisord] = []
    settings.LOG_DIR = Path(worker_env["LOG_DIR"])

    def start(on: Simulator | None = None, **overrides: str) -> Supervisord:
        run_dir = tmp_path / f"host-{len(started)}"
        conf_dir = run_dir / "conf.d"
        log_dir = run_dir / "log"
        for directory in (run_dir, conf_dir, log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        config = run_dir / "supervisord.conf"
        config.write_text(main_config(run_dir=run_dir, conf_dir=conf_dir, log_dir=log_dir))
        env = {**worker_env, "WHATSAPP_WEB_URL": (on or simulator).url + "/", **overrides}
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

"""The production web server: refuses a broken environment, serves, stops cleanly."""

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import PROJECT_DIR, database_url
from tests.workers.conftest import wait_until

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(log_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-test-only-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_INTERNAL_KEY": "portal-key",
        "METRICS_TOKEN": "metrics-token",
        "DATABASE_URL": database_url(),
        "LOG_DIR": str(log_dir),
        "CHROME_BINARY": "/bin/true",
        "CHROMEDRIVER_PATH": "/bin/true",
        "SECURE_SSL_REDIRECT": "0",
        **extra,
    }


def start(env: dict[str, str], port: int, output: Path | None = None) -> subprocess.Popen:
    """gunicorn; its output piped back (read it!) or, for a long run, to a file."""
    return subprocess.Popen(
        [
            GUNICORN,
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "config.wsgi",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=output.open("w") if output else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_it_refuses_to_serve_a_broken_environment_and_says_why(transactional_db, log_dir):
    server = start(production_env(log_dir, PORTAL_INTERNAL_KEY=""), free_port())
    output, _ = server.communicate(timeout=60)
    assert server.returncode != 0
    assert '"message": "startup check failed"' in output
    assert "PORTAL_INTERNAL_KEY is not set" in output


def test_it_serves_then_stops_on_sigterm_closing_its_connections(transactional_db, log_dir):
    port = free_port()
    server = start(production_env(log_dir), port)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=60, what="the web server to answer")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0
    for line in [
        "environment validated",
        "web server ready",
        "database connections closed",
        "web server stopped",
    ]:
        assert line in output, output[-2000:]

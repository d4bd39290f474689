"""gunicorn started as production starts it, on a free port."""

import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import PROJECT_DIR, database_url

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

"""Real ``manage.py deliver_webhooks`` processes, for the tests and the benchmark that run them."""

import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import PROJECT_DIR

# What a dispatcher needs to post to a receiver on this machine over plain HTTP.
LOCAL_RECEIVERS = {"WEBHOOK_ALLOW_PRIVATE_URLS": "1", "WEBHOOK_REQUIRE_HTTPS": "0"}


class Dispatcher:
    """One dispatcher; ``env`` must name the database (DATABASE_URL) and LOG_DIR."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "deliver_webhooks"],
            cwd=PROJECT_DIR,
            env={"LOG_FORMAT": "json", **env, **LOCAL_RECEIVERS},
            stdout=output.open("w"),
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> bool:
        """It has started its loop (its first log line), so a backlog made due now is seen."""
        return self.output.exists() and "webhook dispatcher started" in self.output.read_text()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (it finishes the POST in flight); SIGKILL if it won't stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

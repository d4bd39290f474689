"""Waiting for something another process does, and starting the processes themselves:
the simulator's control API, workers, supervisord; and what their logs must never hold."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path


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

    def link_by_code(self, code: str) -> str:
        """Enter a pairing code on the phone it was asked for; returns the session it linked."""
        return self._call("POST", "/sim/control/link-code", {"code": code})["id"]

    def action(self, session_id: str, action: str, body: dict | None = None) -> dict:
        return self._call("POST", f"/sim/control/sessions/{session_id}/{action}", body or {})

    def incoming(self, session_id: str, sender: str | None, text: str, **extra: object) -> str:
        return self.action(session_id, "incoming", {"from": sender, "text": text, **extra})["data_id"]

    def sent(self, session_id: str) -> list[dict]:
        return self._call("GET", f"/sim/control/sessions/{session_id}/sent")["messages"]

    def set_invalid_numbers(self, numbers: list[str]) -> None:
        self._call("POST", "/sim/control/invalid-numbers", {"numbers": numbers})


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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

"""The process manager behind orchestration: supervisord, over its XML-RPC interface.

One ``SupervisorHost`` per worker host. Every call that can't reach supervisord raises
``SupervisorUnavailable`` naming the socket or URL, so the caller can say exactly what failed
and change nothing.
"""

import http.client
import logging
import socket
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from supervisor.xmlrpc import Faults, SupervisorTransport

from workers.supervisor_config import Program, write_program

logger = logging.getLogger(__name__)


class ProcessManagerError(Exception):
    pass


class SupervisorUnavailable(ProcessManagerError):
    pass


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    state: str  # supervisord's: STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL
    pid: int | None
    uptime_seconds: int | None
    description: str

    @property
    def running(self) -> bool:
        return self.state in ("STARTING", "RUNNING", "BACKOFF")


def _info(raw: dict) -> ProgramInfo:
    running = raw["statename"] == "RUNNING"
    return ProgramInfo(
        name=raw["name"],
        state=raw["statename"],
        pid=raw["pid"] or None,
        uptime_seconds=int(raw["now"] - raw["start"]) if running else None,
        description=raw.get("description", ""),
    )


class _TimeoutTransport(xmlrpc.client.Transport):
    """A down host must not hang an admin page: connections give up after 5 s."""

    def make_connection(self, host: tuple[str, dict[str, str]] | str) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = 5
        return connection


@dataclass(frozen=True)
class SupervisorHost:
    """One worker host's supervisord: ``unix:///run/supervisor.sock#/etc/supervisor/conf.d``."""

    url: str
    conf_dir: Path | None

    @classmethod
    def parse(cls, spec: str) -> "SupervisorHost":
        url, _, conf_dir = spec.partition("#")
        if not url.startswith(("unix://", "http://", "https://")):
            raise ValueError(f"WORKER_HOSTS entry {spec!r} must start with unix://, http:// or https://")
        return cls(url=url, conf_dir=Path(conf_dir) if conf_dir else None)

    @property
    def name(self) -> str:
        """The host's name, as recorded on the worker row."""
        return (
            socket.gethostname()
            if self.url.startswith("unix://")
            else urlparse(self.url).hostname or self.url
        )

    def _proxy(self) -> xmlrpc.client.ServerProxy:
        if self.url.startswith("unix://"):
            return xmlrpc.client.ServerProxy(
                "http://127.0.0.1", transport=SupervisorTransport(None, None, self.url)
            )
        return xmlrpc.client.ServerProxy(self.url.rstrip("/") + "/RPC2", transport=_TimeoutTransport())

    # Whatever supervisord's method returns, as XML-RPC decoded it: Any, as in ServerProxy.
    def call(self, method: str, *args: object) -> Any:
        try:
            return getattr(self._proxy().supervisor, method)(*args)
        except xmlrpc.client.Fault:
            raise
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            raise SupervisorUnavailable(f"supervisord at {self.url} cannot be reached: {exc}") from exc

    # --- reading ---------------------------------------------------------------------------

    def programs(self) -> dict[str, ProgramInfo]:
        return {raw["name"]: _info(raw) for raw in self.call("getAllProcessInfo")}

    def program(self, name: str) -> ProgramInfo | None:
        try:
            return _info(self.call("getProcessInfo", name))
        except xmlrpc.client.Fault as fault:
            if fault.faultCode == Faults.BAD_NAME:
                return None
            raise

    def load(self) -> int:
        return sum(
            1 for info in self.programs().values() if info.name.startswith("wa-worker-") and info.running
        )

    # --- acting ----------------------------------------------------------------------------

    def add(self, program: Program) -> None:
        """Define (or redefine) a program without restarting supervisord."""
        if self.conf_dir is None:
            raise ProcessManagerError(
                f"no program directory is configured for {self.url} (WORKER_HOSTS '#dir')"
            )
        self.call("getPID")  # unreachable: fail before writing anything
        write_program(self.conf_dir, program)
        added, changed, _removed = self.call("reloadConfig")[0]
        if program.name in changed:
            self._remove_group(program.name)
            added = [*added, program.name]
        if program.name in added:
            self.call("addProcessGroup", program.name)

    def start(self, name: str) -> None:
        try:
            self.call("startProcess", name, False)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != Faults.ALREADY_STARTED:
                raise ProcessManagerError(
                    f"supervisord could not start {name}: {fault.faultString}"
                ) from fault

    def stop(self, name: str, *, timeout: float = 90) -> None:
        try:
            self.call("stopProcess", name, False)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode not in (Faults.NOT_RUNNING, Faults.BAD_NAME):
                raise ProcessManagerError(
                    f"supervisord could not stop {name}: {fault.faultString}"
                ) from fault
        deadline = time.monotonic() + timeout
        while (info := self.program(name)) is not None and info.state in ("STOPPING", "RUNNING", "STARTING"):
            if time.monotonic() > deadline:
                raise ProcessManagerError(f"{name} did not stop within {timeout:.0f} s")
            time.sleep(0.2)

    def remove(self, name: str) -> None:
        """Forget a stopped program: its file and supervisord's group."""
        if self.conf_dir is not None:
            (self.conf_dir / f"{name}.conf").unlink(missing_ok=True)
        self._remove_group(name)
        self.call("reloadConfig")

    def _remove_group(self, name: str) -> None:
        try:
            self.call("stopProcessGroup", name, True)
            self.call("removeProcessGroup", name)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != Faults.BAD_NAME:
                raise ProcessManagerError(
                    f"supervisord could not remove {name}: {fault.faultString}"
                ) from fault

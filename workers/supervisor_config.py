"""supervisord configuration: the main file and one generated file per program.

supervisord plays the part PM2 plays in the seed: it runs each tenant's worker as a
program named like the seed's ``pm2_name`` (``wa-worker-<tenant_id>``) and restarts it when
it fails. Program files live in a directory the main file includes, so a tenant's worker is
added or removed with supervisord's reload/add/remove calls, never by restarting it.
"""

import os
import pwd
import shlex
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from tenants.models import WorkerProcess


@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    directory: Path
    log_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    autostart: bool = True
    # A worker exits 0 when it stopped on purpose or waits for a person (QR not scanned):
    # only other exits are failures to restart from.
    exitcodes: str = "0"
    stopwaitsecs: int = 30
    startsecs: int = 5
    startretries: int = 5

    def render(self) -> str:
        env = ",".join(f'{key}="{value}"' for key, value in sorted(self.environment.items()))
        lines = [
            f"[program:{self.name}]",
            f"command={shlex.join(self.command)}",
            f"directory={self.directory}",
            f"autostart={str(self.autostart).lower()}",
            "autorestart=unexpected",
            f"exitcodes={self.exitcodes}",
            f"startsecs={self.startsecs}",
            f"startretries={self.startretries}",
            "stopsignal=TERM",
            f"stopwaitsecs={self.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            f"stdout_logfile={self.log_dir / f'{self.name}.out.log'}",
            f"stderr_logfile={self.log_dir / f'{self.name}.err.log'}",
            "stdout_logfile_maxbytes=10MB",
            "stdout_logfile_backups=5",
            "stderr_logfile_maxbytes=10MB",
            "stderr_logfile_backups=5",
        ]
        if env:
            lines.append(f"environment={env}")
        return "\n".join(lines) + "\n"


def manage_py_command(*args: str) -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]


def worker_program(tenant_id: uuid.UUID, *, autostart: bool = True) -> Program:
    return Program(
        name=WorkerProcess.process_name_for(tenant_id),
        command=manage_py_command("run_worker", str(tenant_id)),
        directory=settings.BASE_DIR,
        log_dir=Path(settings.LOG_DIR) / "supervisor",
        autostart=autostart,
        # The worker finishes the message in flight and quits its browser on SIGTERM.
        stopwaitsecs=60,
    )


def write_program(conf_dir: Path, program: Program) -> Path:
    """Write a program's file atomically (a half-written file must never be read)."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    program.log_dir.mkdir(parents=True, exist_ok=True)
    path = conf_dir / f"{program.name}.conf"
    partial = path.with_suffix(".conf.partial")
    partial.write_text(program.render(), encoding="utf-8")
    partial.replace(path)
    return path


def _user_line() -> str:
    # Started as root (CI, a container), supervisord warns CRIT that it dropped no privileges
    # unless a user is named; naming the one it runs as says that this is intended.
    return f"user={pwd.getpwuid(os.geteuid()).pw_name}\n" if os.geteuid() == 0 else ""


def main_config(*, run_dir: Path, conf_dir: Path, log_dir: Path) -> str:
    return f"""[unix_http_server]
file={run_dir / "supervisor.sock"}
chmod=0700

[supervisord]
logfile={log_dir / "supervisord.log"}
logfile_maxbytes=10MB
logfile_backups=5
pidfile={run_dir / "supervisord.pid"}
nodaemon=true
directory={settings.BASE_DIR}
{_user_line()}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{run_dir / "supervisor.sock"}

[include]
files = {conf_dir}/*.conf
"""

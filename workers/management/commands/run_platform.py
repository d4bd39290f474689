"""``python manage.py run_platform``: the whole platform under one supervisord, in the foreground.

Used by ``make run``: the web server, the WhatsApp Web simulator, the stale-worker check and
the demo tenant's worker, each a supervisord program with its own log files. Ctrl-C stops
them all. More workers are added at runtime from the admin or ``manage.py worker``.
"""

import os
import shutil
import sys
from pathlib import Path
from typing import TypedDict

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from config.startup import PlatformCommand
from tenants.models import Tenant
from workers.supervisor_config import Program, main_config, manage_py_command, worker_program, write_program


class _Defaults(TypedDict):
    """What every program of the platform shares (Program's own fields)."""

    directory: Path
    log_dir: Path
    startsecs: int


class Command(PlatformCommand):
    help = "Run the web server, the simulator, the stale check and workers under supervisord."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="web server port")
        parser.add_argument("--simulator-port", type=int, default=9000)
        parser.add_argument(
            "--tenant", action="append", default=[], help="tenant name(s) whose worker to run"
        )

    def handle(
        self, *args: object, port: int, simulator_port: int, tenant: list[str], **options: object
    ) -> None:
        run_dir = settings.BASE_DIR / "var" / "run"
        conf_dir = run_dir / "conf.d"
        log_dir = Path(settings.LOG_DIR) / "supervisor"
        # Programs of an earlier run are stale: each run writes the ones it wants.
        shutil.rmtree(conf_dir, ignore_errors=True)
        for directory in (run_dir, conf_dir, log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        for program in self._programs(port, simulator_port, log_dir):
            write_program(conf_dir, program)
        for name in tenant:
            found = Tenant.objects.filter(name=name).first()
            if found is None:
                raise CommandError(f"no tenant named {name!r}")
            write_program(conf_dir, worker_program(found.id))
        config = run_dir / "supervisord.conf"
        config.write_text(main_config(run_dir=run_dir, conf_dir=conf_dir, log_dir=log_dir), encoding="utf-8")
        supervisord = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or "supervisord"
        self.stdout.write(
            f"supervisord: {config}\n  program logs: {log_dir}\n"
            "  (its line 'CRIT Server 'unix_http_server' running without any HTTP authentication\n"
            "  checking' is expected: the socket is mode 0700, so only this user can reach it)\n"
        )
        self.stdout.flush()
        os.execv(supervisord, [supervisord, "-c", str(config)])  # noqa: S606 -- our own binary

    def _programs(self, port: int, simulator_port: int, log_dir: Path) -> list[Program]:
        base: _Defaults = {"directory": settings.BASE_DIR, "log_dir": log_dir, "startsecs": 2}
        return [
            Program(
                name="simulator",
                # As many codes per round as the worker waits for, so the page's own
                # "reload" never cuts a login short of QR_MAX_REFRESHES.
                command=manage_py_command(
                    "run_simulator",
                    "--port",
                    str(simulator_port),
                    "--qr-max-rotations",
                    str(settings.QR_MAX_REFRESHES),
                ),
                **base,
            ),
            Program(
                name="stale-check",
                command=manage_py_command("check_stale_workers", "--every", "30"),
                **base,
            ),
            # One dispatcher: the only safe number on SQLite, enough for a demo anywhere.
            Program(
                name="webhooks",
                command=manage_py_command("deliver_webhooks"),
                **base,
            ),
            Program(
                name="web",
                command=manage_py_command("runserver", "--noreload", f"127.0.0.1:{port}"),
                **base,
            ),
        ]

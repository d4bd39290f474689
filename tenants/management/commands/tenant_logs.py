"""``python manage.py tenant_logs <tenant> [-n 200] [--level WARNING] [--since 1h] [--grep TEXT]
[--follow] [--json]``: a tenant's log, from the end, across rotated files."""

import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config.logging import extra_field_names
from tenants.logfiles import LEVELS, BadSince, LineFilter, follow, parse_since, tail
from tenants.logs import InvalidTenantId, parse_tenant_id, rotated_logs, tenant_log_path
from tenants.models import Tenant


def parse_since_option(value: str) -> datetime:
    try:
        return parse_since(value, timezone.now())
    except BadSince as exc:
        raise CommandError(f"--since: {exc}; got {value[:40]!r}") from exc


def pretty(record: dict) -> str:
    moment = str(record.get("timestamp", ""))[11:23]
    fields = "  ".join(f"{key}={record[key]}" for key in extra_field_names(record))
    line = f"{moment} {record.get('level', ''):<7} {record.get('logger', '')}: {record.get('message', '')}"
    line = f"{line}  {fields}" if fields else line
    if record.get("exc_info"):
        line = f"{line}\n{record['exc_info']}"
    return line


class Command(BaseCommand):
    help = "Show a tenant's log lines from the end of its file (and its rotated files)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id (a UUID)")
        parser.add_argument("-n", "--lines", type=int, default=200)
        parser.add_argument("--level", choices=list(LEVELS), type=str.upper, help="this level and above")
        parser.add_argument("--since", help="an age (15m, 1h, 2d) or an ISO time")
        parser.add_argument("--grep", default="", help="only lines containing this text")
        parser.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
        parser.add_argument("--json", action="store_true", help="print the raw JSON lines")

    def handle(self, *args: object, **options: object) -> None:
        try:
            tenant_id = parse_tenant_id(options["tenant"])
        except InvalidTenantId as exc:
            raise CommandError(str(exc)) from exc
        if not Tenant.objects.filter(pk=tenant_id).exists():
            raise CommandError(f"no tenant with id {tenant_id}")
        if options["lines"] < 1:
            raise CommandError(f"-n must be 1 or more; got {options['lines']}")
        line_filter = LineFilter(
            min_level=LEVELS.get(options["level"] or "", 0),
            since=parse_since_option(options["since"]) if options["since"] else None,
            grep=options["grep"],
        )
        path = tenant_log_path(tenant_id)
        files = [path, *rotated_logs(path)]
        if not any(file.exists() for file in files):
            if not options["follow"]:
                raise CommandError(f"no log yet: {path} does not exist (has the worker ever run?)")
            self.stderr.write(f"no log yet: waiting for {path}")
        write = self._writer(as_json=options["json"])
        for record in tail(files, lines=options["lines"], line_filter=line_filter):
            write(record)
        if options["follow"]:
            self._follow(path, line_filter, write)

    def _writer(self, *, as_json: bool) -> Callable[[dict], None]:
        def write(record: dict) -> None:
            self.stdout.write(json.dumps(record, ensure_ascii=False) if as_json else pretty(record))
            self.stdout.flush()

        return write

    def _follow(self, path: Path, line_filter: LineFilter, write: Callable[[dict], None]) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        follow(path, line_filter=line_filter, write=write, stop=stop)
        sys.stdout.flush()

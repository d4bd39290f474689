"""``python manage.py tenant_logs <tenant> [-n 200] [--level WARNING] [--since 1h] [--grep TEXT]
[--follow] [--json]``: a tenant's log, from the end, across rotated files."""

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config.logging import extra_field_names
from tenants.logs.files import InvalidTenantId, parse_tenant_id, tenant_log_path
from tenants.logs.query import (
    DEFAULT_LINES,
    LEVELS,
    MAX_LINES,
    SINCE_HELP,
    BadLogQuery,
    LineFilter,
    parse_log_query,
)
from tenants.logs.reader import follow, tenant_log_tail
from tenants.models import Tenant

# The options that name each of the query's fields, for errors.
OPTIONS = {"lines": "-n", "level": "--level", "since": "--since", "q": "--grep"}


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
        parser.add_argument("-n", "--lines", type=int, default=DEFAULT_LINES, help=f"1 to {MAX_LINES}")
        parser.add_argument("--level", choices=list(LEVELS), type=str.upper, help="this level and above")
        parser.add_argument("--since", help=SINCE_HELP)
        parser.add_argument("--grep", default="", help="only lines containing this text")
        parser.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
        parser.add_argument("--json", action="store_true", help="print the raw JSON lines")

    # argparse's values, typed by add_arguments above: Any, as in BaseCommand.handle.
    def handle(self, *args: object, **options: Any) -> None:
        try:
            tenant_id = parse_tenant_id(options["tenant"])
        except InvalidTenantId as exc:
            raise CommandError(str(exc)) from exc
        if not Tenant.objects.filter(pk=tenant_id).exists():
            raise CommandError(f"no tenant with id {tenant_id}")
        try:
            query = parse_log_query(
                now=timezone.now(),
                lines=options["lines"],
                level=options["level"],
                since=options["since"],
                grep=options["grep"],
            )
        except BadLogQuery as exc:
            got = f"; got {options['since'][:40]!r}" if exc.field == "since" else ""
            raise CommandError(f"{OPTIONS[exc.field]}: {exc.problem}{got}") from exc
        log = tenant_log_tail(tenant_id=tenant_id, query=query)
        path = tenant_log_path(tenant_id)
        if not log.files:
            if not options["follow"]:
                raise CommandError(f"no log yet: {path} does not exist (has the worker ever run?)")
            self.stderr.write(f"no log yet: waiting for {path}")
        write = self._writer(as_json=options["json"])
        for record in log.records:
            write(record)
        if options["follow"]:
            self._follow(path, query.filter, write)

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

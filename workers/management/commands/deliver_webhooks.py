"""`manage.py deliver_webhooks`: send tenants' webhook events until SIGTERM or Ctrl-C.

Run one or more (on PostgreSQL; one is enough, and the only safe number, on SQLite). A
stop finishes the POST in flight, gives back the rest of its batch, and exits 0.
"""

import argparse
import fcntl
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config.outage import WaitsForDatabase
from workers.webhooks import dispatcher


class Command(WaitsForDatabase, BaseCommand):
    help = "Deliver webhook events to tenants' endpoints (signed, retried, recorded)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Deliver what is due now, then exit (for cron or a test)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lock = self._only_dispatcher_on_sqlite()
        if options["once"]:
            while dispatcher.run_once():
                pass
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        dispatcher.run(stopping=stop.is_set)
        if lock is not None:
            lock.close()

    def _only_dispatcher_on_sqlite(self) -> IO[str] | None:
        """SQLite has no row locks to share the work: a second dispatcher would send twice."""
        if connection.vendor != "sqlite":
            return None
        path = Path(f"{connection.settings_dict['NAME']}.webhooks.lock")
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise CommandError(
                "Another deliver_webhooks already runs on this SQLite database; on SQLite run one "
                "(several dispatchers need PostgreSQL)."
            ) from None
        return handle

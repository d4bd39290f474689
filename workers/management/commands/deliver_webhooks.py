"""`manage.py deliver_webhooks`: send tenants' webhook events until SIGTERM or Ctrl-C.

Run one or more (on PostgreSQL; one is enough, and the only safe number, on SQLite). A
stop finishes the POST in flight, gives back the rest of its batch, and exits 0.
"""

import argparse
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from workers.webhooks import dispatcher


class Command(BaseCommand):
    help = "Deliver webhook events to tenants' endpoints (signed, retried, recorded)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Deliver what is due now, then exit (for cron or a test)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
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

"""``python manage.py check_stale_workers [--every SECONDS]``: mark workers whose heartbeat stopped.

Once (as cron runs it, every minute), or in a loop until SIGTERM/SIGINT for hosts without
cron and for ``make run``.
"""

import logging
import signal
import threading
import time

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from config.outage import DATABASE_DOWN, WaitsForDatabase, describe
from config.startup import PlatformCommand
from workers.periodic import run_checks

logger = logging.getLogger(__name__)


class Command(WaitsForDatabase, PlatformCommand):
    help = "Mark RUNNING workers with no recent heartbeat ERROR, and send the alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every SECONDS until stopped")

    def handle(self, *args: object, every: float, **options: object) -> None:
        if every < 0:
            raise CommandError("--every must be a positive number of seconds")
        if not every:
            result = run_checks()
            self.stdout.write(
                f"checked {result.checked}, marked {result.marked} stale, {result.took_ms:.0f} ms\n"
            )
            return
        loop_until_stopped(every)


def loop_until_stopped(every: float) -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("stale check loop started", extra={"every_s": every})
    down_since: float | None = None  # an outage is said once, when it starts and when it ends
    while not stop.is_set():
        close_old_connections()
        try:
            run_checks()
            if down_since is not None:
                seconds = round(time.monotonic() - down_since, 1)
                logger.info("database back; stale check running again", extra={"outage_seconds": seconds})
                down_since = None
        except DATABASE_DOWN as exc:
            if down_since is None:
                down_since = time.monotonic()
                logger.error(
                    "database unreachable; the stale check retries every round",
                    extra={"error": describe(exc)},
                )
        except DatabaseError:
            logger.exception("stale check failed; retrying next round")
        stop.wait(every)
    logger.info("stale check loop stopped")

"""What the purge commands share: their arguments and their report."""

from collections.abc import Callable

from django.core.management.base import CommandError, CommandParser

from config.startup import PlatformCommand
from workers.retention import PurgeResult


class PurgeCommand(PlatformCommand):
    purge: Callable[..., PurgeResult]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be deleted; delete nothing"
        )

    def handle(
        self, *args: object, older_than: int, batch_size: int, dry_run: bool, **options: object
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            result = type(self).purge(days=older_than, batch_size=batch_size, dry_run=dry_run)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if dry_run:
            self.stdout.write(
                f"would delete {result.matched} {result.what} older than {result.cutoff:%Y-%m-%d %H:%M} UTC\n"
            )
        else:
            took = f"{result.batches} batches, {result.took_ms:.0f} ms"
            self.stdout.write(f"deleted {result.deleted} {result.what} in {took}\n")

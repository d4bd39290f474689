"""`manage.py run_simulator`: serve the local WhatsApp Web simulator until SIGTERM or Ctrl-C."""

import argparse
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workers.simulator import cli

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the local WhatsApp Web simulator (the page the worker drives in tests and demos)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cli.run(options)
        except ValueError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            # Typically the port is taken: say so instead of a traceback.
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {error}") from error

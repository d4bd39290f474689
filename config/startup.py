"""Refuse to start a server or worker on a broken environment, saying why in the log."""

import logging
import sys
from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand

from config.checks import ENVIRONMENT

logger = logging.getLogger(__name__)


def startup_problems() -> list[checks.CheckMessage]:
    """The usual checks, plus the production variables that ``check`` leaves to ``--deploy``."""
    return [*checks.run_checks(), *checks.run_checks(tags=[ENVIRONMENT], include_deployment_checks=True)]


def validate_environment_or_exit(*, process: str) -> None:
    """Run the startup checks; log every problem and exit 1 if any is an error."""
    problems = startup_problems()
    errors = [p for p in problems if p.is_serious()]
    for problem in problems:
        log = logger.error if problem.is_serious() else logger.warning
        log(
            "startup check failed" if problem.is_serious() else "startup check warning",
            extra={"component": process, "check_id": problem.id, "detail": problem.msg, "hint": problem.hint},
        )
    if errors:
        logger.error("refusing to start", extra={"component": process, "errors": len(errors)})
        sys.exit(1)
    logger.info("environment validated", extra={"component": process})


class PlatformCommand(BaseCommand):
    """A command that runs part of the platform (a worker, the stale check, a purge).

    Besides the usual system checks it refuses a production environment that lacks its
    required variables: without DATABASE_URL it would quietly work on an empty SQLite file.
    """

    # Passes BaseCommand.check's own arguments through unchanged.
    def check(self, *args: Any, **kwargs: Any) -> None:
        super().check(*args, **kwargs)
        super().check(tags=[ENVIRONMENT], include_deployment_checks=True)

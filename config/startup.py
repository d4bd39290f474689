"""Refuse to start a server or worker on a broken environment, saying why in the log."""

import logging
import sys

from django.core import checks

logger = logging.getLogger(__name__)


def validate_environment_or_exit(*, process: str) -> None:
    """Run the startup checks; log every problem and exit 1 if any is an error."""
    problems = checks.run_checks(include_deployment_checks=False)
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

"""The probes of the platform's environment, shared by the startup checks and ``/readyz``.

Each returns the problem, in the words of the error it met, or None when all is well; the
caller words it for its reader (an operator at start, a load balancer later). No model is
imported here: ``config.checks`` imports this module before the apps are ready.
"""

import tempfile
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections


def database_problem(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """Why the database does not answer a query, first line of the error; None if it does."""
    connection = connections[alias]
    try:
        connection.ensure_connection()
        # An open connection is not an answering server: a query proves it (it may have gone since).
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        lines = str(exc).strip().splitlines()
        return lines[0] if lines else type(exc).__name__  # a bare error still names a problem
    return None


def log_dir_problem() -> str | None:
    """Why a file cannot be created in LOG_DIR (created if missing); None if one can."""
    log_dir = Path(settings.LOG_DIR)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=log_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        return str(exc.strerror or exc)
    return None

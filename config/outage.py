"""What a database that is down, restarting or unreachable looks like to our code."""

from django.db import InterfaceError, OperationalError

# psycopg's "connection refused", "server closed the connection unexpectedly" (a restart),
# a connection used after that; and SQLite's "database is locked" past its timeout.
DATABASE_DOWN = (OperationalError, InterfaceError)


def describe(error: Exception) -> str:
    """One short line for a log: the class and the first line of the message (no traceback)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]

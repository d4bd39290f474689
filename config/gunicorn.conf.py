"""gunicorn settings for production: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

The WSGI module runs the startup checks before the first request (and refuses to serve on
an error); these hooks log the server's lifecycle and close database connections on exit.
"""

import logging
import os
from typing import Protocol

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# Load the app once in the master: a broken environment stops the server before it forks.
preload_app = True
graceful_timeout = 30
accesslog = "-"

logger = logging.getLogger("config.gunicorn")


class _Worker(Protocol):
    """What these hooks read of gunicorn's worker (gunicorn ships no type information)."""

    pid: int


def when_ready(server: object) -> None:
    logger.info("web server ready", extra={"bind": bind, "workers": workers})


def on_exit(server: object) -> None:
    logger.info("web server stopped")


def worker_int(worker: object) -> None:
    logger.info("web worker interrupted", extra={"pid": os.getpid()})


def worker_exit(server: object, worker: _Worker) -> None:
    from django.db import connections

    connections.close_all()
    logger.info("web worker exited; database connections closed", extra={"pid": worker.pid})

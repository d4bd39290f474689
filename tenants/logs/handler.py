"""The tenant's log handler: every record that carries a ``tenant_id`` goes to that tenant's file.

A tenant's file handler sits on the root logger and takes every record of the process that
carries that ``tenant_id``, whichever module logged it: the worker's own lines and the
services' status changes alike end up in the tenant's file, each once.
"""

import logging
import logging.handlers
import os
import sys
import uuid
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from config.logging import JsonLineFormatter
from tenants.logs.files import InvalidTenantId, delete_expired_logs, parse_tenant_id, tenant_log_path
from tenants.models import Tenant


class TenantLogAdapter(logging.LoggerAdapter):
    """Adds ``tenant_id`` to every line, keeping the caller's own ``extra`` fields."""

    extra: Mapping[str, object]  # never None: tenant_logger always passes the tenant's id

    def process(self, msg: str, kwargs: MutableMapping[str, Any]) -> tuple[str, MutableMapping[str, Any]]:
        kwargs["extra"] = {**kwargs.get("extra", {}), **self.extra}
        return msg, kwargs


class TenantFileHandler(logging.handlers.RotatingFileHandler):
    """Writes the records of one tenant, and only those, to its file as JSON lines.

    The file is rotated by size (LOG_MAX_BYTES) to ``<tenant_id>.log.<UTC time>``, and rotated
    files older than LOG_RETENTION_DAYS are deleted. The tenant's worker is the file's one
    writer, so a rotation never loses or interleaves a line.
    """

    def __init__(self, tenant_id: uuid.UUID) -> None:
        self.tenant_id = str(tenant_id)
        path = tenant_log_path(tenant_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, maxBytes=settings.LOG_MAX_BYTES, encoding="utf-8")
        self.setFormatter(JsonLineFormatter())

    # Why the file can't be written (disk full, gone read-only), or "" when it can.
    failing = ""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "tenant_id", None) == self.tenant_id and super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if self.failing and not self._failed_now:
            sys.stderr.write(f"tenant log {self.baseFilename} is writable again\n")
            self.failing = ""

    def handleError(self, record: logging.LogRecord) -> None:
        """A full or read-only LOG_DIR must not stop the worker, nor flood stderr: say it once."""
        self._failed_now = True
        if not self.failing:
            error = sys.exc_info()[1]
            self.failing = f"cannot write {self.baseFilename}: {error}"
            sys.stderr.write(f"tenant log not writable, going on without it: {self.failing}\n")

    def doRollover(self) -> None:
        if self.stream:
            self.stream.close()
            self.stream = None
        base = Path(self.baseFilename)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        if base.exists():
            base.rename(base.with_name(f"{base.name}.{stamp}"))
        delete_expired_logs(base)
        self.stream = self._open()


def tenant_file_handler(tenant_id: uuid.UUID) -> TenantFileHandler | None:
    root = logging.getLogger()
    path = os.path.abspath(tenant_log_path(tenant_id))  # as FileHandler names it: links not followed
    return next(
        (h for h in root.handlers if isinstance(h, TenantFileHandler) and h.baseFilename == path), None
    )


def tenant_logger(tenant_id: object) -> TenantLogAdapter:
    """A logger whose lines carry ``tenant_id`` and go to the tenant's file and the console.

    Calling it again for the same tenant reuses the one file handler.
    """
    parsed = parse_tenant_id(tenant_id)
    if not Tenant.objects.filter(pk=parsed).exists():
        raise InvalidTenantId(f"no tenant with id {parsed}")
    if tenant_file_handler(parsed) is None:
        logging.getLogger().addHandler(TenantFileHandler(parsed))
    return TenantLogAdapter(logging.getLogger(f"tenant.{parsed}"), {"tenant_id": str(parsed)})


def close_tenant_log(tenant_id: uuid.UUID) -> None:
    handler = tenant_file_handler(tenant_id)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()

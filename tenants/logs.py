"""Tenant-scoped log files: ``LOG_DIR/<tenant_id>.log``, one JSON object per line."""

import logging
import uuid
from pathlib import Path

from django.conf import settings

from config.logging import JsonLineFormatter
from tenants.models import Tenant


class InvalidTenantId(ValueError):
    """A tenant id that is not a UUID of an existing tenant (so it can't name a file)."""


class TenantLogAdapter(logging.LoggerAdapter):
    """Adds ``tenant_id`` to every line, keeping the caller's own ``extra`` fields."""

    def process(self, msg: str, kwargs: dict) -> tuple[str, dict]:
        kwargs["extra"] = {**self.extra, **kwargs.get("extra", {})}
        return msg, kwargs


def parse_tenant_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidTenantId(f"{str(value)[:80]!r} is not a tenant id (a UUID)") from None


def tenant_log_path(tenant_id: uuid.UUID) -> Path:
    # The name is built from a parsed UUID, so it can never leave LOG_DIR.
    return Path(settings.LOG_DIR) / f"{tenant_id}.log"


def tenant_logger(tenant_id: object) -> TenantLogAdapter:
    """A logger whose lines carry ``tenant_id`` and go to the tenant's file and the console.

    Calling it again for the same tenant returns a logger with the same single file handler.
    """
    parsed = parse_tenant_id(tenant_id)
    if not Tenant.objects.filter(pk=parsed).exists():
        raise InvalidTenantId(f"no tenant with id {parsed}")
    logger = logging.getLogger(f"tenant.{parsed}")
    path = tenant_log_path(parsed)
    if not any(getattr(h, "tenant_log_path", None) == path for h in logger.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonLineFormatter())
        handler.tenant_log_path = path  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return TenantLogAdapter(logger, {"tenant_id": str(parsed)})

"""Where a tenant's log lives: ``LOG_DIR/<tenant_id>.log``, one JSON object per line, and its
rotated copies ``<tenant_id>.log.<UTC time>``, deleted after LOG_RETENTION_DAYS."""

import re
import time
import uuid
from pathlib import Path

from django.conf import settings


class InvalidTenantId(ValueError):
    """A tenant id that is not a UUID of an existing tenant (so it can't name a file)."""


# ``<tenant_id>.log.20261129T145500`` (a fraction of a second may follow): the rotated copies.
_ROTATED_SUFFIX = re.compile(r"\d{8}T\d{6}\d*")


def rotated_logs(path: Path) -> list[Path]:
    """A log file's rotated copies, newest first (their names end in a sortable UTC time).

    Only the names rotation gives: a stray ``.bak`` or an editor's swap file is not the log.
    """
    prefix = f"{path.name}."
    names = path.parent.glob(f"{prefix}*")
    rotated = [old for old in names if _ROTATED_SUFFIX.fullmatch(old.name.removeprefix(prefix))]
    return sorted(rotated, reverse=True)


def delete_expired_logs(path: Path) -> int:
    cutoff = time.time() - settings.LOG_RETENTION_DAYS * 86400
    expired = [old for old in rotated_logs(path) if old.stat().st_mtime < cutoff]
    for old in expired:
        old.unlink(missing_ok=True)
    return len(expired)


def parse_tenant_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidTenantId(f"{str(value)[:80]!r} is not a tenant id (a UUID)") from None


def tenant_log_path(tenant_id: uuid.UUID) -> Path:
    # The name is built from a parsed UUID, so it can never leave LOG_DIR.
    return Path(settings.LOG_DIR) / f"{tenant_id}.log"




def tenant_log_files(tenant_id: uuid.UUID) -> list[Path]:
    """The tenant's current log file, then its rotated copies newest first (as ``tail`` reads)."""
    current = tenant_log_path(tenant_id)
    return [current, *rotated_logs(current)]

"""Deleting a tenant with everything it has: its worker, its rows and its files.

The worker is stopped and its supervisord program removed first, so nothing writes for a
tenant that is gone; when supervisord can't be reached, nothing is deleted. The rows go in
one transaction and the files once it has committed, so a delete that rolls back leaves the
tenant whole.
"""

import logging
import shutil
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tenants.logs.files import rotated_logs, tenant_log_path
from tenants.logs.handler import close_tenant_log
from tenants.media import media_delete_tenant
from tenants.models import (
    Alert,
    Incident,
    MessageLog,
    SetupRequest,
    Tenant,
    TenantApiKey,
    User,
    WorkerEvent,
    WorkerProcess,
)
from workers import orchestration
from workers.models import OutboundMessage, ReplyRule

logger = logging.getLogger(__name__)

# The models the confirmation counts, each with a tenant.
_Counted = (
    MessageLog
    | WorkerEvent
    | OutboundMessage
    | ReplyRule
    | User
    | TenantApiKey
    | SetupRequest
    | Incident
    | Alert
)

# What the confirmation counts, in the order it lists them.
COUNTED: list[tuple[str, type[_Counted]]] = [
    ("messages", MessageLog),
    ("timeline events", WorkerEvent),
    ("outbound messages", OutboundMessage),
    ("reply rules", ReplyRule),
    ("users", User),
    ("API keys", TenantApiKey),
    ("setup requests", SetupRequest),
    ("incidents", Incident),
    ("alerts", Alert),
]


class TenantDeletionRefused(Exception):
    """The tenant was not deleted, nor anything of it; the message says why, for a person."""


@dataclass(frozen=True)
class TenantFile:
    what: str
    path: Path


@dataclass(frozen=True)
class TenantFootprint:
    """What deleting a tenant takes away: its rows, counted, and its files that exist."""

    counts: list[tuple[str, int]]
    files: list[TenantFile]


def tenant_files(tenant_id: uuid.UUID) -> list[TenantFile]:
    """The tenant's files and directories on this host, those that exist."""
    log = tenant_log_path(tenant_id)
    program = WorkerProcess.process_name_for(tenant_id)
    candidates = [
        TenantFile("log file", log),
        *(TenantFile("rotated log file", path) for path in rotated_logs(log)),
        *(
            TenantFile("supervisord log", path)
            for path in sorted((Path(settings.LOG_DIR) / "supervisor").glob(f"{program}.*"))
        ),
        TenantFile("screenshots and page sources", Path(settings.LOG_DIR) / str(tenant_id)),
        TenantFile("browser profile", Path(settings.SESSIONS_DIR) / str(tenant_id)),
        # Where tenants.media keeps its messages' files on the default, local storage (their
        # folders; media_delete_tenant removes the files wherever they are kept).
        TenantFile("media files", Path(settings.MEDIA_ROOT) / "media" / str(tenant_id)),
        TenantFile("session lock", Path(settings.SESSIONS_DIR) / f"{tenant_id}.lock"),
    ]
    return [entry for entry in candidates if entry.path.exists()]


def tenant_footprint(*, tenant: Tenant) -> TenantFootprint:
    counts = [(label, model.objects.filter(tenant=tenant).count()) for label, model in COUNTED]
    return TenantFootprint(counts=counts, files=tenant_files(tenant.id))


def tenant_delete(*, tenant: Tenant, by: str) -> None:
    """Stop the tenant's worker, then delete its rows and, after the commit, its files.

    Raises TenantDeletionRefused, having deleted nothing, when the worker can't be stopped.
    """
    _stop_worker(tenant=tenant, by=by)
    with transaction.atomic():
        counts = _delete_rows(tenant)
        transaction.on_commit(partial(_after_commit, tenant.id, tenant.name, counts))


def _stop_worker(*, tenant: Tenant, by: str) -> None:
    # Every host must answer: the program may be on the one that doesn't, still writing.
    _, unreachable = orchestration.supervisor_programs()
    if unreachable:
        raise TenantDeletionRefused(f"its worker can't be stopped: {'; '.join(unreachable)}")
    if not WorkerProcess.objects.filter(tenant=tenant).exists():
        return  # orchestration starts only workers it has a row for: there is none to stop
    try:
        orchestration.worker_stop(tenant=tenant, by=by)
    except orchestration.OrchestrationError as exc:
        raise TenantDeletionRefused(f"its worker can't be stopped: {exc}") from exc


def _delete_rows(tenant: Tenant) -> dict[str, int]:
    outbound, _ = OutboundMessage.objects.filter(tenant=tenant).delete()
    # Only outbound messages point at messages; with the tenant's own gone (and any other
    # let go of), the messages are deleted in one statement instead of Django loading every
    # one of them to clear a column of rows that no longer exist.
    OutboundMessage.objects.filter(in_reply_to__tenant=tenant).update(in_reply_to=None)
    messages = MessageLog.objects.filter(tenant=tenant)
    message_count = messages._raw_delete(messages.db)
    _, by_model = Tenant.objects.filter(pk=tenant.pk).delete()
    return {
        **{label: count for label, count in by_model.items() if count},
        OutboundMessage._meta.label: outbound,
        MessageLog._meta.label: message_count,
    }


def _after_commit(tenant_id: uuid.UUID, name: str, counts: dict[str, int]) -> None:
    close_tenant_log(tenant_id)
    # Through the storage API, so a bucket's objects go as a local folder's files do.
    try:
        media_files = media_delete_tenant(tenant_id)
    except Exception:
        # The rows are gone already: files left in an unreachable bucket are said, not raised.
        logger.exception("tenant media not removed", extra={"tenant_id": str(tenant_id)})
        media_files = 0
    for entry in tenant_files(tenant_id):
        _remove(entry.path, tenant_id)
    logger.info(
        "tenant deleted",
        extra={"tenant_id": str(tenant_id), "tenant_name": name, "rows": counts, "media_files": media_files},
    )


def _remove(path: Path, tenant_id: uuid.UUID) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        # The rows are gone already; a file left behind is said, not a failed deletion.
        logger.exception("tenant file not removed", extra={"tenant_id": str(tenant_id), "path": str(path)})

"""Suspending a tenant and switching it back on: the one service the admin, the admin API and
the admin actions call.

Suspension stops what the tenant's account does (its worker, its sends) and keeps what it
has: users still sign in and read, and what was queued is HELD, not dropped. Reactivation
does not send the held messages by itself, since they may be days old by then; staff
release them when they choose to.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tenants import services as tenant_services
from tenants.models import Tenant
from workers import orchestration
from workers.models import OutboundMessage
from workers.services import tenant_is_suspended

logger = logging.getLogger(__name__)

HELD_REASON = "held: the tenant was suspended"


@dataclass(frozen=True)
class SuspensionResult:
    held: int  # messages held (suspend) or released (reactivate)
    worker_stopped: bool
    worker_error: str = ""


def tenant_suspend(*, tenant: Tenant, by: str) -> SuspensionResult:
    """Suspend ``tenant``: status, held queue and timeline together, then stop its worker."""
    with transaction.atomic():
        tenant_services.tenant_set_status(
            tenant=tenant, status=Tenant.Status.SUSPENDED, reason=f"suspended by {by}"
        )
        held = OutboundMessage.objects.filter(tenant=tenant, status=OutboundMessage.Status.QUEUED).update(
            status=OutboundMessage.Status.HELD, last_error=HELD_REASON, updated_at=timezone.now()
        )
    try:
        orchestration.worker_stop(tenant=tenant, by=by)
    except orchestration.OrchestrationError as exc:
        # The worker also stops by itself when it sees the suspension (runtime), so this
        # only delays the stop; staff are told.
        logger.warning(
            "suspended tenant's worker not stopped by supervisord",
            extra={"tenant_id": str(tenant.id), "error": str(exc)},
        )
        return SuspensionResult(held=held, worker_stopped=False, worker_error=str(exc))
    logger.info("tenant suspended", extra={"tenant_id": str(tenant.id), "held": held, "by": by})
    return SuspensionResult(held=held, worker_stopped=True)


def tenant_reactivate(*, tenant: Tenant, by: str, release_held: bool = False) -> SuspensionResult:
    """Switch ``tenant`` back on; its held messages are queued again only if ``release_held``."""
    with transaction.atomic():
        tenant_services.tenant_set_status(
            tenant=tenant, status=Tenant.Status.ACTIVE, reason=f"reactivated by {by}"
        )
        released = outbound_release_held(tenant=tenant) if release_held else 0
    logger.info("tenant reactivated", extra={"tenant_id": str(tenant.id), "released": released, "by": by})
    return SuspensionResult(held=released, worker_stopped=False)


def outbound_release_held(*, tenant: Tenant) -> int:
    """Queue a reactivated tenant's held messages again, oldest first as before."""
    if tenant_is_suspended(tenant):
        return 0
    now = timezone.now()
    return OutboundMessage.objects.filter(tenant=tenant, status=OutboundMessage.Status.HELD).update(
        status=OutboundMessage.Status.QUEUED, last_error="", next_attempt_at=now, updated_at=now
    )

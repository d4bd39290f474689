"""Reads of the workers' tables used in several places (the portal's send page, the portal API)."""

from tenants.models import Tenant
from workers.models import OutboundMessage


def outbound_queue(*, tenant: Tenant, limit: int) -> list[OutboundMessage]:
    """A tenant's latest outbound messages, newest first, whatever their status.

    Ties on the time are broken by id, so messages queued in the same instant keep one order
    from one request to the next (a page and the API list them alike).
    """
    queue = OutboundMessage.objects.filter(tenant=tenant).order_by("-created_at", "-id")
    return list(queue[:limit])

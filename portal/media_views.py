"""A message's file for the tenant it belongs to: never a public URL (tenants.media)."""

import uuid

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from portal.access import tenant_required
from tenants.media import media_response
from tenants.models import Tenant
from tenants.selectors import message_of


@require_GET
@tenant_required
def message_file(request: HttpRequest, tenant: Tenant, log_id: uuid.UUID) -> HttpResponseBase:
    """The file itself, as an attachment; another tenant's message is not found."""
    log = message_of(tenant=tenant, log_id=log_id)
    if log is None:
        raise Http404("no such message")
    return media_response(log)


@require_GET
@tenant_required
def message_thumbnail(request: HttpRequest, tenant: Tenant, log_id: uuid.UUID) -> HttpResponseBase:
    log = message_of(tenant=tenant, log_id=log_id)
    if log is None:
        raise Http404("no such message")
    return media_response(log, thumbnail=True)

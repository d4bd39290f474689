"""Webhook fixtures: a receiver on 127.0.0.1 that the rules let through, and an endpoint."""

import pytest

from tenants.models import WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_create
from tests.helpers.receiver import WebhookReceiver


@pytest.fixture
def local_urls(settings) -> None:
    """Receivers on this machine, over plain HTTP, as in development and the suite."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False


@pytest.fixture
def receiver(local_urls) -> WebhookReceiver:
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(tenant, receiver) -> WebhookEndpoint:
    return endpoint_create(tenant=tenant, url=receiver.url, event_types=list(events.EVENT_TYPES))


@pytest.fixture
def acme_endpoint(tenant, local_urls) -> WebhookEndpoint:
    """The tenant's endpoint for ``message.received``, at a port nothing listens on."""
    return endpoint_create(
        tenant=tenant,
        url="http://127.0.0.1:9/acme",
        description="acme bot",
        event_types=[events.MESSAGE_RECEIVED],
    )

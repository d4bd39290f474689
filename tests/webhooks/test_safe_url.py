"""Where webhooks may go, in production: https, to public addresses only."""

import pytest
from django.core.exceptions import ValidationError

from tenants.models import WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.safe_url import UnsafeUrl, resolve
from tenants.webhooks.services import endpoint_create, endpoint_update


@pytest.fixture
def production(settings) -> None:
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


def create(tenant, url: str) -> WebhookEndpoint:
    return endpoint_create(tenant=tenant, url=url, event_types=[events.MESSAGE_RECEIVED])


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.215.14/hooks", "must use https://"),
        ("https://127.0.0.1/hooks", "127.0.0.1, a private, loopback or link-local address"),
        ("https://localhost:8443/hooks", "a private, loopback or link-local address"),
        ("https://10.1.2.3/hooks", "10.1.2.3, a private"),
        ("https://192.168.0.10/hooks", "192.168.0.10, a private"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a cloud metadata address"),
        ("https://169.254.10.1/hooks", "169.254.10.1, a private, loopback or link-local"),
        ("https://[::1]/hooks", "::1, a private"),
        ("https://[::ffff:127.0.0.1]/hooks", "a private, loopback"),
        ("https://0.0.0.0/hooks", "0.0.0.0, a private"),
        ("https://user:pw@93.184.215.14/hooks", "no user name or password"),
        ("ftp://93.184.215.14/hooks", "must start with https://"),
        ("https://no-such-host.invalid/hooks", "could not be found"),
    ],
)
def test_it_refuses_an_endpoint_that_is_not_https_or_not_public(production, tenant, url, words):
    with pytest.raises(ValidationError) as error:
        create(tenant, url)
    assert words in str(error.value.message_dict["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_allowed(production, tenant):
    endpoint = create(tenant, "https://93.184.215.14/hooks?bot=1")
    assert resolve(endpoint.url).path == "/hooks?bot=1"


def test_a_change_to_a_refused_url_changes_nothing(production, tenant):
    endpoint = create(tenant, "https://93.184.215.14/hooks")
    with pytest.raises(ValidationError):
        endpoint_update(endpoint=endpoint, url="https://127.0.0.1/hooks", description="moved")
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == ("https://93.184.215.14/hooks", "")


def test_development_settings_let_a_local_receiver_through(settings, tenant):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert resolve(create(tenant, "http://127.0.0.1:8001/hooks").url).addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/", "http://[::ffff:169.254.169.254]/", "http://100.100.100.200/"]
)
def test_development_settings_never_let_a_metadata_service_through(settings, tenant, url):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with pytest.raises(ValidationError) as error:
        create(tenant, url)
    assert "a cloud metadata address: never allowed" in str(error.value.message_dict["url"])


def test_production_is_the_default(tenant):
    with pytest.raises(UnsafeUrl):
        resolve("http://127.0.0.1/hooks")


def test_an_unknown_event_type_or_none_is_refused(tenant, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with pytest.raises(ValidationError) as error:
        endpoint_create(tenant=tenant, url="http://127.0.0.1/h", event_types=["message.deleted"])
    assert "Unknown event type: message.deleted" in str(error.value.message_dict["event_types"])
    with pytest.raises(ValidationError):
        endpoint_create(tenant=tenant, url="http://127.0.0.1/h", event_types=[])
    assert not WebhookEndpoint.objects.exists()

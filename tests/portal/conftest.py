"""Fixtures for the portal: signed-in clients, another tenant's user, and a real browser."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver

from tenants import services
from tenants.models import Tenant, User
from tests.helpers.browser import browser_session, plain_http_live_server
from tests.webhooks.conftest import acme_endpoint, endpoint, local_urls, receiver  # noqa: F401
from tests.workers.conftest import (  # noqa: F401
    simulator,
    start_simulator,
    start_supervisord,
    start_worker,
    supervisord,
    worker_env,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def other_user(other_tenant: Tenant) -> User:
    return services.user_create_tenant_user(
        tenant=other_tenant, email="owner@florist.test", password="another pass phrase"
    )


@pytest.fixture
def owner(client: Client, tenant_user: User) -> Client:
    """The client, signed in as the tenant's own user."""
    client.force_login(tenant_user)
    return client


@pytest.fixture
def intruder(client: Client, other_user: User) -> Client:
    """The client, signed in as a user of another tenant."""
    client.force_login(other_user)
    return client


@pytest.fixture(scope="module")
def portal_server(django_db_setup: None) -> Iterator[LiveServer]:
    with plain_http_live_server() as server:
        yield server


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with browser_session(tmp_path / "portal-browser") as driver:
        yield driver


@pytest.fixture
def phone_size() -> Callable[[webdriver.Chrome], contextlib.AbstractContextManager[None]]:
    """Show the page as a 390 x 844 phone does, for the duration of a ``with`` block."""

    @contextlib.contextmanager
    def emulate(driver: webdriver.Chrome) -> Iterator[None]:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
        )
        try:
            yield
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    return emulate

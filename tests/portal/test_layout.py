"""What every portal page has: the favicon, and the word when the account is suspended."""

import urllib.request

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tenants import services

PAGES = [
    "dashboard",
    "messages",
    "send",
    "rules",
    "history",
    "setup",
    "api_keys",
    "webhooks",
    "webhook_deliveries",
]
SUSPENDED = "This account is suspended"
FAVICON_LINK = '<link rel="icon" href="/static/portal/favicon.svg" type="image/svg+xml">'


@pytest.mark.parametrize("page", PAGES)
def test_it_says_on_every_page_that_a_suspended_account_is_suspended(owner, tenant, page):
    services.tenant_set_status(tenant=tenant, status="SUSPENDED", reason="suspended by staff@x.test")
    body = owner.get(reverse(f"portal:{page}")).content.decode()
    assert '<p class="banner tone-warn" role="status" data-suspended>' in body
    assert SUSPENDED in body


@pytest.mark.parametrize("page", PAGES)
def test_it_shows_no_suspension_banner_to_an_active_account(owner, tenant, page):
    services.tenant_set_status(tenant=tenant, status="ACTIVE", reason="session connected")
    body = owner.get(reverse(f"portal:{page}")).content.decode()
    assert "data-suspended" not in body
    assert SUSPENDED not in body


@pytest.mark.parametrize("page", [*PAGES, "login", "password_reset"])
def test_it_links_its_favicon_on_every_page(owner, page):
    assert FAVICON_LINK in owner.get(reverse(f"portal:{page}")).content.decode()


def test_it_has_an_svg_favicon_in_its_static_files():
    path = finders.find("portal/favicon.svg")
    assert path, "portal/static/portal/favicon.svg is missing"
    with open(path, encoding="utf-8") as svg:
        assert svg.read().lstrip().startswith("<svg")


def test_it_serves_the_favicon(portal_server):
    with urllib.request.urlopen(f"{portal_server.url}/static/portal/favicon.svg", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")

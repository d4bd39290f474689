"""The admin's lists in a real headless Chromium at 1,400 px: long texts fit, one line a row."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tenants import services
from tenants.models import Tenant, WebhookDelivery, WebhookEndpoint, WorkerProcess
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_create
from tests.helpers.browser import browser_session, plain_http_live_server
from workers.models import OutboundMessage
from workers.qr import qr_png_data_uri
from workers.services import outbound_enqueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("ADMIN_SHOTS_DIR", "/tmp/admin-shots"))
PASSWORD = "staff pass phrase"
LONG_NAME = ("Bäckerei Müller & Söhne, Filiale Hauptbahnhof Nord, Eingang Ost " * 4)[:200]
LONG_TEXT = "Hello, I would like to order " + "a very large birthday cake with strawberries " * 20
LONG_ERROR = "WebDriverException: " + "chrome not reachable while reading the chat list; " * 10
LISTS = [
    "tenants_workerprocess",
    "tenants_whatsappsession",
    "workers_outboundmessage",
    "tenants_messagelog",
    "tenants_tenant",
    "tenants_workerevent",
    "tenants_webhookendpoint",
    "tenants_webhookdelivery",
]


@pytest.fixture(scope="module")
def admin_server(django_db_setup: None) -> Iterator[LiveServer]:
    with plain_http_live_server() as server:
        yield server


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with browser_session(tmp_path / "admin-browser", width=1400, height=1000) as driver:
        yield driver


def long_tenant() -> Tenant:
    tenant = services.tenant_create(name=LONG_NAME)
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=4242)
    WorkerProcess.objects.filter(pk=tenant.worker.pk).update(
        host="worker-host-eu-central-1a.internal.example.com",
        browser_memory_mb=312.4,
        browser_cpu_percent=3.5,
    )
    services.worker_record_error(worker=tenant.worker, reason=LONG_ERROR)
    services.session_record_qr(session=tenant.session, value="2@code", data_uri=qr_png_data_uri("2@code"))
    for n in range(3):
        services.message_log_record(
            tenant=tenant,
            direction="IN",
            from_number="491512345678901",
            to_number="4930123456789",
            text=LONG_TEXT,
            wa_message_id=f"false_491512345678901@c.us_3EB0C767D71D2A1B4E36F9{n}",
        )
    message, _ = outbound_enqueue(tenant=tenant, to_number="491512345678901", text=LONG_TEXT)
    OutboundMessage.objects.filter(pk=message.pk).update(status="FAILED", attempts=5, last_error=LONG_ERROR)
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True, WEBHOOK_REQUIRE_HTTPS=False):
        endpoint = endpoint_create(
            tenant=tenant,
            url="http://127.0.0.1:9/" + "orders/whatsapp/events/incoming/" * 8,
            description=LONG_NAME,
            event_types=[events.MESSAGE_RECEIVED, events.MESSAGE_ACK],
        )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=timezone.now(), paused_reason=LONG_ERROR[:300], failing_since=timezone.now()
    )
    webhook_emit(tenant_id=tenant.id, event_type=events.MESSAGE_RECEIVED, data={"text": LONG_TEXT})
    WebhookDelivery.objects.filter(endpoint=endpoint).update(
        state="RETRYING", attempts=3, last_error=LONG_ERROR[:500]
    )
    return tenant


def log_in(driver: webdriver.Chrome, base_url: str, email: str) -> None:
    driver.get(f"{base_url}{reverse('admin:login')}")
    driver.find_element(By.NAME, "username").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "user-tools"), "the admin index")


# How wide the page and the list's own scrolling box are, against the room they have, and
# the texts and badges of the list that break over more than one line.
MEASURE = """
const results = document.querySelector('#changelist .results');
const wrapped = [...document.querySelectorAll('#result_list td span, #result_list td a')]
  .filter(el => el.getClientRects().length > 1).map(el => el.textContent.slice(0, 40));
return {
  page: [document.documentElement.scrollWidth, window.innerWidth],
  list: [results.scrollWidth, results.clientWidth],
  wrapped: wrapped,
};
"""


def test_it_fits_the_lists_into_1400_px_one_line_a_row(admin_server, browser, transactional_db, staff_user):
    long_tenant()
    log_in(browser, admin_server.url, staff_user.email)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for changelist in LISTS:
        browser.get(f"{admin_server.url}{reverse(f'admin:{changelist}_changelist')}")
        browser.save_screenshot(str(SHOTS / f"{changelist}.png"))
        assert LONG_NAME[:15] in browser.page_source, changelist
        found = browser.execute_script(MEASURE)
        page_width, room = found["page"]
        list_width, list_room = found["list"]
        assert page_width <= room, f"{changelist}: the page is {page_width} px wide in {room}"
        assert list_width <= list_room, f"{changelist}: the list is {list_width} px wide in {list_room}"
        assert found["wrapped"] == [], f"{changelist}: wrapped over lines: {found['wrapped']}"


def test_it_shows_the_full_text_on_hover(admin_server, browser, transactional_db, staff_user):
    long_tenant()
    log_in(browser, admin_server.url, staff_user.email)
    browser.get(f"{admin_server.url}{reverse('admin:tenants_messagelog_changelist')}")
    cell = browser.find_element(By.CSS_SELECTOR, "#result_list td.field-short_text span[title]")
    assert cell.get_attribute("title") == LONG_TEXT
    assert len(cell.text) <= 40 and cell.text.endswith("…")

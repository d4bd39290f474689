"""The Webhooks pages in a real headless Chromium: an endpoint added, its test event delivered,
failed deliveries and their attempts shown; on a laptop and on a phone."""

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of

from tenants.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_create
from tests.helpers.receiver import Reply
from tests.portal.test_browser import flash, log_in, page_fits_the_width, submit, text_of, wait
from workers.webhooks import dispatcher

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("WEBHOOK_SHOTS_DIR", "/tmp/shots-webhooks"))


def full_page_shot(browser, path: Path) -> None:
    """The whole page, not only what fits in the window."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def shoot(browser, phone_size, name: str) -> None:
    """A laptop and a phone screenshot of the page; on the phone it must not scroll sideways."""
    full_page_shot(browser, SHOTS / f"{name}-1280.png")
    with phone_size(browser):
        assert page_fits_the_width(browser), f"{name} scrolls sideways on a phone"
        full_page_shot(browser, SHOTS / f"{name}-390.png")


def click(browser, css: str) -> None:
    button = browser.find_element(By.CSS_SELECTOR, css)
    button.click()
    wait(browser).until(staleness_of(button), "the next page")


def fail_a_few(endpoint: WebhookEndpoint, receiver) -> WebhookDelivery:
    """A delivery retried after two 500s (the answer in HTML), and one the receiver refused."""
    receiver.replies = [
        Reply(status=500, body=b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"),
        Reply(status=400, body=b'{"error": "unknown chat"}'),
    ]
    texts = ["Do you have sourdough today? " * 3, "<b>cake</b> for Saturday"]
    made = [
        webhook_emit(tenant_id=endpoint.tenant_id, event_type=events.MESSAGE_RECEIVED, data={"text": text})
        for text in texts
    ]
    dispatcher.run_once()
    retried = WebhookDelivery.objects.get(event=made[0], endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    receiver.replies = [Reply(status=503, body=b"Service Unavailable: try later " * 30)]
    dispatcher.run_once()
    return retried


def test_it_shows_the_webhooks_pages_in_a_real_browser_and_on_a_phone(
    portal_server, browser, phone_size, tenant, tenant_user, transactional_db, receiver
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = portal_server.url
    log_in(browser, base)
    browser.get(f"{base}/portal/webhooks/")
    submit(browser, {"url": receiver.url, "description": "order bot"})
    [endpoint] = WebhookEndpoint.objects.filter(tenant=tenant)
    assert text_of(browser, "[data-signing-secret]") == endpoint.secret
    assert endpoint.event_types == list(events.EVENT_TYPES)
    shoot(browser, phone_size, "list-created")

    paused = endpoint_create(
        tenant=tenant,
        url=receiver.url + "/old-shop-integration-that-kept-failing",
        description="old shop",
        event_types=[events.MESSAGE_ACK],
    )
    WebhookEndpoint.objects.filter(pk=paused.pk).update(
        paused_at=timezone.now(),
        failing_since=timezone.now() - timedelta(hours=72),
        paused_reason="It failed every attempt for 72 hours; events are kept and sent when you enable it.",
    )
    browser.get(f"{base}/portal/webhooks/")
    shoot(browser, phone_size, "list")

    browser.get(f"{base}/portal/webhooks/{endpoint.id}/")
    click(browser, ".endpoint-actions button")  # Send a test event
    assert "A test event is queued" in flash(browser)
    dispatcher.run_once()
    retried = fail_a_few(endpoint, receiver)
    browser.get(f"{base}/portal/webhooks/{endpoint.id}/")
    states = [node.text for node in browser.find_elements(By.CSS_SELECTOR, "[data-delivery-state]")]
    assert states[0] == "Gave up" and states[2] == "Delivered"  # newest first
    assert states[1].startswith("Failed, retrying at ")
    shoot(browser, phone_size, "endpoint")
    browser.find_element(By.CSS_SELECTOR, ".secret-details summary").click()
    assert browser.find_element(By.CSS_SELECTOR, "[data-signing-secret]").is_displayed()
    browser.save_screenshot(str(SHOTS / "endpoint-secret-1280.png"))

    browser.get(f"{base}/portal/webhooks/deliveries/{retried.pk}/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-attempt]")) == 2
    assert "<h1>502 Bad Gateway</h1>" in text_of(browser, "[data-excerpt]")  # shown as text
    shoot(browser, phone_size, "delivery")
    click(browser, ".replay button")
    assert "Queued again" in flash(browser)

    browser.get(f"{base}/portal/webhooks/{paused.id}/")
    shoot(browser, phone_size, "endpoint-paused")
    click(browser, ".paused button")  # Enable
    assert "enabled: events are sent to it again" in flash(browser)
    assert text_of(browser, "[data-endpoint-state]") == "Enabled"

    browser.get(f"{base}/portal/webhooks/deliveries/?state=dead")
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-delivery]")) == 1
    browser.get(f"{base}/portal/webhooks/deliveries/")
    shoot(browser, phone_size, "deliveries")
    browser.get(f"{base}/portal/webhooks/deliveries/?state=exploded")
    assert "We couldn't show those deliveries." in browser.page_source

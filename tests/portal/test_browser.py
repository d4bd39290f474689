"""The portal in a real headless Chromium, against the live server, the simulator and a worker."""

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from portal.wording import STATE_WORDS, session_state_words
from tenants import services
from tenants.models import MessageLog, Tenant, WhatsAppSession
from tests.helpers.processes import Simulator, wait_until
from workers.models import OutboundMessage, ReplyRule
from workers.qr import qr_png_data_uri

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("PORTAL_SHOTS_DIR", "/tmp/portal-shots"))
PASSWORD = "correct horse battery"


def wait(driver: webdriver.Chrome, timeout: float = 10) -> WebDriverWait:
    # The live page swaps its parts in place: an element read just as it is replaced is
    # looked up again on the next poll rather than failing the wait.
    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )


def flash(driver: webdriver.Chrome) -> str:
    """The message the page shows after a form was sent."""
    return wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, ".flash").text, "a message")


def log_in(driver: webdriver.Chrome, base_url: str, email: str = "owner@acme.test") -> None:
    driver.get(f"{base_url}/portal/login/")
    driver.find_element(By.NAME, "username").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver).until(lambda d: d.current_url == f"{base_url}/portal/")


def headline(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.CSS_SELECTOR, '[data-field="headline"]').text


def qr_src(driver: webdriver.Chrome) -> str | None:
    image = driver.find_element(By.CSS_SELECTOR, "[data-qr-image]")
    return image.get_attribute("src") if image.is_displayed() else None


def text_of(driver: webdriver.Chrome, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def wait_for_headline(driver: webdriver.Chrome, text: str, timeout: float = 10) -> None:
    wait(driver, timeout).until(lambda d: headline(d) == text, f"the dashboard to say {text!r}")


def link_current_code(simulator: Simulator, tenant: Tenant) -> str | None:
    """Scan the code on screen, as the phone would; None if it rotated meanwhile."""
    code = WhatsAppSession.objects.get(tenant=tenant).last_qr
    if not code:
        return None
    try:
        return simulator.link(code)
    except AssertionError:
        return None


def page_fits_the_width(driver: webdriver.Chrome) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def submit(driver: webdriver.Chrome, fields: dict[str, str]) -> None:
    # Fill the page only once it has finished loading: a field found while the document is
    # still being built can be replaced under the driver ("does not belong to the document").
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)
    form = driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    form.click()
    # The click returns before the next page is there: wait for the old one to go.
    wait(driver).until(staleness_of(form), "the form to be submitted")


def test_it_links_receives_sends_and_adds_a_rule_in_a_real_browser(
    portal_server, browser, tenant, tenant_user, start_simulator, start_worker
):
    simulator = start_simulator(qr_rotate_seconds=3, loading_seconds=0.3, send_ack_seconds=0.1)
    base = portal_server.url
    log_in(browser, base)
    assert headline(browser) == STATE_WORDS["STOPPED"].headline
    browser.execute_script("window.__marker = 1")  # gone if the page ever reloads

    worker = start_worker(tenant.id, simulator)
    first = wait(browser, 20).until(qr_src, "a QR code on the dashboard")
    assert headline(browser) == "Scan the QR code with your phone"
    assert first.startswith("data:image/png;base64,")
    second = wait(browser, 10).until(lambda d: (src := qr_src(d)) != first and src, "the code to rotate")
    assert second.startswith("data:image/png;base64,")
    assert "of 6" in browser.find_element(By.CSS_SELECTOR, "[data-qr-count]").text

    session_id = wait_until(lambda: link_current_code(simulator, tenant), what="the phone to link")
    wait_for_headline(browser, "Connected")
    assert qr_src(browser) is None
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-field="worker"]').text == "Running")
    assert browser.execute_script("return window.__marker") == 1  # the same page, updated in place

    simulator.incoming(session_id, "15551234567", "hello bakery")
    wait_until(lambda: MessageLog.objects.filter(tenant=tenant, direction="IN").exists(), what="the message")
    browser.get(f"{base}/portal/messages/")
    assert "hello bakery" in browser.page_source
    assert "+15551234567" in browser.find_element(By.TAG_NAME, "main").text

    browser.get(f"{base}/portal/send/")
    submit(browser, {"to_number": "+1 555 123 4567", "text": "Thanks, see you soon"})
    assert "is queued" in flash(browser)
    wait_until(lambda: simulator.sent(session_id), what="the message in the simulator")
    assert [(m["chat"], m["text"]) for m in simulator.sent(session_id)] == [
        ("15551234567", "Thanks, see you soon")
    ]

    def shows_sent(driver: webdriver.Chrome) -> bool:
        driver.refresh()
        return driver.find_element(By.CSS_SELECTOR, "[data-outbound] [data-status]").text == "Sent"

    wait(browser).until(shows_sent, "the queue to show Sent")

    browser.get(f"{base}/portal/rules/new/")
    submit(browser, {"name": "Hours", "pattern": "hours", "reply_text": "We open at 8"})
    assert "Rule “Hours” added." in flash(browser)
    assert ReplyRule.objects.get(tenant=tenant).pattern == "hours"
    simulator.incoming(session_id, "15557654321", "what are your hours?")
    wait_until(lambda: len(simulator.sent(session_id)) == 2, what="the rule's reply")
    assert simulator.sent(session_id)[-1]["text"] == "We open at 8"
    assert worker.stop() == 0


# The dashboard in each state an owner is likely to see, as the worker would record it.
def to_qr(tenant: Tenant) -> None:
    services.session_record_qr(
        session=tenant.session, value="login-code", data_uri=qr_png_data_uri("login-code")
    )


def to_connected(tenant: Tenant) -> None:
    services.session_set_state(session=tenant.session, state="CONNECTED", reason="chat list shown")
    services.worker_set_status(worker=tenant.worker, status="RUNNING", reason="session connected")
    services.session_heartbeat(session=tenant.session, at=timezone.now() - timedelta(seconds=12))
    services.tenant_set_status(tenant=tenant, status="ACTIVE", reason="session connected")


def to_phone_offline(tenant: Tenant) -> None:
    services.session_set_state(
        session=tenant.session, state="PHONE_UNREACHABLE", reason="WhatsApp is trying to reach the phone"
    )


def to_disconnected(tenant: Tenant) -> None:
    services.session_set_state(session=tenant.session, state="DISCONNECTED", reason="connection dropped")


def to_logged_out(tenant: Tenant) -> None:
    reason = "logged out from the phone; scan a new QR code to link again"
    services.session_set_state(session=tenant.session, state="LOGGED_OUT", reason=reason)
    services.worker_record_error(worker=tenant.worker, reason=reason)
    services.tenant_set_status(tenant=tenant, status="ERROR", reason=reason)


def to_stopped(tenant: Tenant) -> None:
    services.session_set_state(session=tenant.session, state="STOPPED", reason="stopped on request")
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason="stopped on request")


def to_no_scan(tenant: Tenant) -> None:
    services.worker_set_status(worker=tenant.worker, status="STARTING", reason="worker process started")
    to_qr(tenant)
    reason = "QR code not scanned after 6 codes; start the worker again for new codes"
    services.session_set_state(session=tenant.session, state="STOPPED", reason=reason)
    services.worker_set_status(worker=tenant.worker, status="STOPPED", reason=reason)


STATES = [
    ("qr", to_qr, "QR"),
    ("connected", to_connected, "CONNECTED"),
    ("phone-offline", to_phone_offline, "PHONE_UNREACHABLE"),
    ("disconnected", to_disconnected, "DISCONNECTED"),
    ("logged-out", to_logged_out, "LOGGED_OUT"),
    ("stopped", to_stopped, "STOPPED"),
    ("no-scan", to_no_scan, "STOPPED"),
]


def test_it_follows_every_state_live_and_fits_a_phone(
    portal_server, browser, phone_size, tenant, tenant_user, transactional_db
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(browser, portal_server.url)
    browser.execute_script("window.__marker = 1")
    for name, move, state in STATES:
        tenant = Tenant.objects.select_related("session", "worker").get(pk=tenant.pk)
        move(tenant)
        since = timezone.localtime(WhatsAppSession.objects.get(tenant=tenant).state_changed_at)
        # The page words it as the server does, "since 10:42" included, without a reload.
        expected = "No code was scanned in time" if name == "no-scan" else None
        wait_for_headline(browser, expected or session_state_words(state, since=since).headline)
        if state == "QR":
            wait(browser).until(qr_src, "the QR code")
            assert re.fullmatch(r"New code in \d+ s", text_of(browser, "[data-qr-countdown]"))
            assert text_of(browser, "[data-qr-count]") == "Code 1 of 6"
        if state == "CONNECTED":
            wait(browser).until(lambda d: re.fullmatch(r"1\d s ago", text_of(d, '[data-field="heartbeat"]')))
            assert text_of(browser, '[data-field="tenant"]') == "Active"
            assert qr_src(browser) is None
        browser.save_screenshot(str(SHOTS / f"dashboard-{name}-1280.png"))
        with phone_size(browser):
            assert page_fits_the_width(browser), f"{name}: the dashboard scrolls sideways on a phone"
            browser.save_screenshot(str(SHOTS / f"dashboard-{name}-390.png"))
        if name == "no-scan":
            assert text_of(browser, ".state-action button") == "Show a new code"
    assert browser.execute_script("return window.__marker") == 1
    problem = browser.find_element(By.CSS_SELECTOR, '[data-field="problem"]').text
    assert problem.startswith("This device was logged out from your phone.\ntoday at ")
    # The bot stopped cleanly after the logout: the problem is past.
    assert text_of(browser, '[data-field="problem-term"]') == "Last problem (resolved)"


def test_it_copies_a_new_api_key_with_its_button(
    portal_server, browser, tenant, tenant_user, transactional_db
):
    log_in(browser, portal_server.url)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": portal_server.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    browser.get(f"{portal_server.url}/portal/api-keys/")
    submit(browser, {"name": "shop website"})
    key = text_of(browser, "[data-new-api-key]")
    browser.find_element(By.CSS_SELECTOR, '[data-copy="new-api-key"]').click()
    wait(browser).until(lambda d: text_of(d, '[data-copy-note="new-api-key"]') == "Copied.", "the copy")
    copied = browser.execute_async_script(
        "var done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, String);"
    )
    assert copied == key and key.startswith("wak_")


def test_it_fits_every_page_on_a_phone(
    portal_server, browser, phone_size, tenant, tenant_user, transactional_db
):
    long_text = "A very long message without many breaks: " + "supercalifragilistic" * 8
    services.message_log_record(
        tenant=tenant, direction="IN", from_number="4915112345678", to_number="", text=long_text
    )
    OutboundMessage.objects.create(
        tenant=tenant,
        to_number="4915112345678",
        text=long_text,
        status="FAILED",
        attempts=5,
        last_error="the number is not on WhatsApp",
    )
    ReplyRule.objects.create(
        tenant=tenant, name="Hours", pattern="hours|opening", match_type="REGEX", reply_text=long_text
    )
    services.setup_request_create(tenant=tenant, user=tenant_user, notes=long_text)
    to_connected(Tenant.objects.select_related("session", "worker").get(pk=tenant.pk))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with phone_size(browser):
        browser.get(f"{portal_server.url}/portal/login/")
        assert page_fits_the_width(browser)
        browser.save_screenshot(str(SHOTS / "login-390.png"))
    log_in(browser, portal_server.url)
    with phone_size(browser):
        for page in ["messages", "send", "rules", "history", "setup"]:
            browser.get(f"{portal_server.url}/portal/{page}/")
            assert page_fits_the_width(browser), f"{page} scrolls sideways on a phone"
            browser.save_screenshot(str(SHOTS / f"{page}-390.png"))
    for page in ["messages", "send", "rules", "history", "setup"]:
        browser.get(f"{portal_server.url}/portal/{page}/")
        browser.save_screenshot(str(SHOTS / f"{page}-1280.png"))


def test_it_links_by_phone_number_and_shows_a_sent_messages_ticks_up_to_read(
    portal_server, browser, tenant, tenant_user, start_simulator, start_worker
):
    simulator = start_simulator(loading_seconds=0.3, send_ack_seconds=0.1)
    base = portal_server.url
    log_in(browser, base)
    worker = start_worker(tenant.id, simulator)
    wait(browser, 20).until(qr_src, "a QR code on the dashboard")

    # No scan: the owner asks for a code for the phone's number instead.
    browser.find_element(By.CSS_SELECTOR, ".link-code summary").click()
    phone = browser.find_element(By.NAME, "phone")
    phone.send_keys("+1 555 000")
    # Something changes meanwhile: the page fetches its live parts, but not the one typed in.
    services.worker_record_error(worker=tenant.worker, reason="WhatsApp is open in another window")
    wait(browser).until(
        lambda d: "opened in another window" in text_of(d, '[data-field="problem"]'),
        "the details to follow the change",
    )
    assert phone.get_attribute("value") == "+1 555 000"  # the same field, still holding it
    phone.send_keys(" 9999")
    button = browser.find_element(By.CSS_SELECTOR, ".link-code button[type=submit]")
    button.click()
    wait(browser).until(staleness_of(button), "the request to be sent")
    assert "pairing code" in flash(browser)
    code = wait(browser, 15).until(
        lambda d: (text := text_of(d, ".link-code")) and re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text),
        "the pairing code to show by itself",
    )[1]
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "dashboard-pairing-code-1280.png"))

    # Typed on the phone, as WhatsApp shows it: the dashboard turns Connected.
    session_id = simulator.link_by_code(code.replace("-", ""))
    wait_for_headline(browser, "Connected", timeout=20)
    assert browser.find_elements(By.CSS_SELECTOR, ".link-code") == []

    browser.get(f"{base}/portal/send/")
    submit(browser, {"to_number": "+1 555 123 4567", "text": "Your cake is ready"})
    (sent,) = wait_until(lambda: simulator.sent(session_id), what="the message in the simulator")
    message = OutboundMessage.objects.get(tenant=tenant)
    wait_until(lambda: OutboundMessage.objects.get(pk=message.pk).ack == 2, what="delivered (by itself)")
    simulator.action(session_id, "ack", {"id": sent["id"], "ack": 3})  # the customer reads it

    def shows_read(driver: webdriver.Chrome) -> bool:
        driver.refresh()
        return bool(driver.find_elements(By.CSS_SELECTOR, '[data-outbound] [data-ticks="read"]'))

    wait(browser, 15).until(shows_read, "blue ticks on the Send page")
    browser.get(f"{base}/portal/messages/")
    assert (
        browser.find_element(By.CSS_SELECTOR, ".msg-out [data-ticks]").get_attribute("data-ticks") == "read"
    )
    browser.save_screenshot(str(SHOTS / "messages-ticks-1280.png"))
    # The owner's program reads the same from the API.
    browser.get(f"{base}/api/portal/tenant/current/messages/{message.pk}")
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text)["ack"] == 3
    assert worker.stop() == 0

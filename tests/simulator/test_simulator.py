"""The WhatsApp Web simulator, driven the way the worker drives the real site."""

import base64
import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.paths import PROJECT_DIR
from tests.helpers.simulator_http import Simulator

Browser = Callable[..., webdriver.Chrome]

QR_DIV = "div.landing-wrapper div[data-ref]"
QR_CANVAS = 'div[data-ref] > canvas[aria-label="Scan this QR code to link a device!"]'
QR_RELOAD = "div[data-ref] button"
CHAT_ROWS = '#pane-side > div div[role="grid"][aria-label="Chat list"] div[role="listitem"]'
COMPOSER = (
    '#main footer div.lexical-rich-text-input div[role="textbox"][contenteditable="true"]'
    '[data-tab="10"][aria-label="Type a message"]'
)
SEND_BUTTON = 'button[aria-label="Send"] span[data-icon="wds-ic-send-filled"]'
MODAL = 'div[data-animate-modal-popup="true"]'
PHONE = "15550001111"
CONTACT = "15551234567"
PRE_PLAIN_TEXT = re.compile(r"^\[\d{1,2}:\d{2} [AP]M, \d{1,2}/\d{1,2}/\d{4}\] .+: $")


def wait(driver: webdriver.Chrome, timeout: float = 10) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.05)


def find(driver: webdriver.Chrome, css: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, css)


def wait_for(driver: webdriver.Chrome, css: str, timeout: float = 10) -> WebElement:
    return wait(driver, timeout).until(lambda d: (find(d, css) or [None])[0])


def wait_gone(driver: webdriver.Chrome, css: str) -> None:
    wait(driver).until(lambda d: not find(d, css))


def read_qr(driver: webdriver.Chrome) -> tuple[str, str]:
    """Return (data-ref, decoded canvas), read in one script so a rotation can't split them."""
    ref, data_url = driver.execute_script(
        "const box = document.querySelector('div[data-ref]');"
        "return [box.dataset.ref, box.querySelector('canvas').toDataURL('image/png')];"
    )
    image = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return ref, results[0].text


def session_id_of(simulator: Simulator, qr: str) -> str:
    return next(s["id"] for s in simulator.sessions() if s["qr"] == qr)


def open_linked(simulator: Simulator, browser: Browser, phone: str = PHONE) -> tuple[webdriver.Chrome, str]:
    """A browser on the simulator whose session was linked by scanning its QR."""
    driver = browser()
    driver.get(simulator.base_url + "/")
    wait_for(driver, QR_CANVAS)
    qr = find(driver, QR_DIV)[0].get_attribute("data-ref")
    session_id = simulator.control("/link", {"qr": qr, "phone": phone})["id"]
    wait_for(driver, "#pane-side")
    return driver, session_id


def deliver(simulator: Simulator, session_id: str, text: str, **extra: object) -> dict:
    body = {"from": CONTACT, "text": text, **extra}
    return simulator.control(f"/sessions/{session_id}/incoming", body)


def poll_until(condition: Callable[[], object], message: str, timeout: float = 10) -> None:
    """Like WebDriverWait, for conditions outside the browser."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        threading.Event().wait(0.05)


def wait_for_polls(simulator: Simulator, session_id: str, count: int) -> None:
    """Wait until the page asked for state `count` more times (it saw everything before)."""
    start = simulator.session(session_id)["page_polls"]
    poll_until(
        lambda: simulator.session(session_id)["page_polls"] >= start + count, "the page stopped polling"
    )


def test_it_serves_every_entry_route_with_a_year_long_session_cookie(simulator: Simulator) -> None:
    for path in ("/", "/send?phone=15551234567&text=hi", "/?post_logout=1"):
        response = simulator.get(path)
        assert response.status == 200
        assert '<div id="app">' in response.body["html"]
        assert "Max-Age=31536000" in response.headers["Set-Cookie"]


@pytest.mark.browser
def test_it_shows_loading_then_a_decodable_qr_that_rotates_and_expires(
    start_simulator: Callable[..., Simulator], sim_browser: Browser
) -> None:
    simulator = start_simulator(qr_rotate_seconds=0.7, qr_max_rotations=2, loading_seconds=0.5)
    driver = sim_browser()
    driver.get(simulator.base_url + "/")
    assert driver.find_element(By.TAG_NAME, "progress").is_displayed()

    wait_for(driver, QR_CANVAS)
    first, decoded = read_qr(driver)
    assert decoded == first
    assert len(first.split(",")) == 4

    wait(driver).until(lambda d: find(d, QR_DIV)[0].get_attribute("data-ref") != first)
    second, decoded = read_qr(driver)
    assert decoded == second != first

    reload = wait_for(driver, QR_RELOAD)
    assert "Click to reload QR code" in reload.text
    assert not find(driver, QR_CANVAS)
    assert simulator.sessions()[0]["state"] == "qr_expired"
    reload.click()
    wait_for(driver, QR_CANVAS)
    fresh, decoded = read_qr(driver)
    assert decoded == fresh
    assert fresh not in (first, second)


@pytest.mark.browser
def test_it_links_by_qr_and_stays_linked_in_the_same_profile(
    start_simulator: Callable[..., Simulator], sim_browser: Browser, tmp_path
) -> None:
    simulator = start_simulator(loading_seconds=1.0)
    profile = tmp_path / "tenant-profile"
    driver = sim_browser(profile)
    driver.get(simulator.base_url + "/")
    wait_for(driver, QR_CANVAS)
    qr = find(driver, QR_DIV)[0].get_attribute("data-ref")
    assert simulator.sessions()[0]["qr"] == qr

    linked = simulator.control("/link", {"qr": qr, "phone": PHONE})
    assert linked["phone"] == PHONE
    wait_for(driver, "progress")  # syncing after the scan
    wait_for(driver, '#pane-side > div > div[role="grid"][aria-label="Chat list"]')
    assert find(driver, '#side div.lexical-rich-text-input div[role="textbox"][contenteditable="true"]')
    driver.quit()

    again = sim_browser(profile)
    again.get(simulator.base_url + "/")
    wait_for(again, "#pane-side")
    assert [s["id"] for s in simulator.sessions()] == [linked["id"]]
    assert simulator.session(f"phone:{PHONE}")["state"] == "linked"


@pytest.mark.browser
def test_it_shows_an_incoming_message_with_an_unread_badge_and_opens_the_chat(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    sent = deliver(simulator, session_id, "Hi there\nsecond line 😀", name="Alice")
    assert sent["data_id"].startswith(f"false_{CONTACT}@c.us_")

    badge = wait_for(driver, f'{CHAT_ROWS} span[aria-label="1 unread messages"]')
    assert badge.text == "1"
    row = find(driver, CHAT_ROWS)[0]
    assert row.find_element(By.CSS_SELECTOR, "span[title]").get_attribute("title") == f"+{CONTACT}"
    row.click()

    assert wait_for(driver, "#main header span[title]").get_attribute("title") == f"+{CONTACT}"
    message = wait_for(driver, f'#main div[role="row"] > div[data-id^="false_{CONTACT}@c.us_"]')
    assert message.get_attribute("data-id") == sent["data_id"]
    assert message.find_elements(By.CSS_SELECTOR, ".message-in")
    copyable = message.find_element(By.CSS_SELECTOR, "div.copyable-text[data-pre-plain-text]")
    assert PRE_PLAIN_TEXT.match(copyable.get_attribute("data-pre-plain-text"))
    assert copyable.get_attribute("data-pre-plain-text").endswith("] Alice: ")
    text = copyable.find_element(By.CSS_SELECTOR, "span.selectable-text")
    assert text.text == "Hi there\nsecond line 😀"
    wait_gone(driver, f"{CHAT_ROWS} span[aria-label*='unread']")


@pytest.mark.browser
def test_a_reloaded_page_has_no_chat_open_so_new_messages_are_unread(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    deliver(simulator, session_id, "first")
    wait_for(driver, f'{CHAT_ROWS} span[aria-label="1 unread messages"]')
    find(driver, CHAT_ROWS)[0].click()
    wait_gone(driver, f"{CHAT_ROWS} span[aria-label*='unread']")
    # Within a second of the reload the old page "looked at" the chat a moment ago; the new
    # page has nothing open, so the message must be unread (a restarted worker relies on it).
    driver.refresh()
    wait_for(driver, CHAT_ROWS)
    deliver(simulator, session_id, "second")
    assert wait_for(driver, f'{CHAT_ROWS} span[aria-label="1 unread messages"]').text == "1"


@pytest.mark.browser
def test_it_renders_a_repeated_message_id_once_unless_marked_duplicate(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    first = deliver(simulator, session_id, "once", id="ABC123")
    wait_for(driver, CHAT_ROWS).click()
    rows = f'#main div[role="row"] > div[data-id="{first["data_id"]}"]'
    wait_for(driver, rows)

    again = deliver(simulator, session_id, "once", id="ABC123")
    assert again["delivered"] is False
    deliver(simulator, session_id, "marker")
    wait(driver).until(lambda d: "marker" in d.find_element(By.ID, "main").text)
    assert len(find(driver, rows)) == 1

    assert deliver(simulator, session_id, "once", id="ABC123", duplicate=True)["delivered"]
    wait(driver).until(lambda d: len(find(d, rows)) == 2)


@pytest.mark.browser
def test_it_sends_from_the_send_url_with_emoji_and_line_breaks(
    start_simulator: Callable[..., Simulator], sim_browser: Browser
) -> None:
    simulator = start_simulator(send_ack_seconds=0.6)
    driver, session_id = open_linked(simulator, sim_browser)
    driver.get(f"{simulator.base_url}/send?phone={CONTACT}&text={quote('Hello')}")
    composer = wait_for(driver, COMPOSER)
    wait(driver).until(lambda d: composer.text == "Hello")
    assert wait_for(driver, "#main header span[title]").get_attribute("title") == f"+{CONTACT}"

    driver.execute_script("arguments[0].focus(); document.execCommand('insertText', false, ' 😀');", composer)
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    driver.execute_script("document.execCommand('insertText', false, 'second line');")
    wait_for(driver, SEND_BUTTON).click()

    outgoing = f'#main div[role="row"] > div[data-id^="true_{CONTACT}@c.us_"]'
    wait_for(driver, f'{outgoing} .message-out span[data-icon="msg-time"]')
    wait_for(driver, f'{outgoing} .message-out span[data-icon="msg-check"]')
    assert find(driver, f"{outgoing} span.selectable-text")[0].text == "Hello 😀\nsecond line"
    wait_gone(driver, SEND_BUTTON)  # the composer is empty again

    driver.execute_cdp_cmd("Input.insertText", {"text": "via CDP"})
    composer.send_keys(Keys.ENTER)
    wait(driver).until(lambda d: len(find(d, f'{outgoing} span[data-icon="msg-dblcheck"]')) == 2)

    sent = simulator.get(f"/sim/control/sessions/{session_id}/sent").body
    texts = [m["text"] for m in sent["messages"]]
    assert texts == ["Hello 😀\nsecond line", "via CDP"]
    assert sent["chats"][0]["number"] == CONTACT
    row_ids = [e.get_attribute("data-id") for e in find(driver, outgoing)]
    assert row_ids == [m["data_id"] for m in sent["messages"]]


@pytest.mark.browser
def test_it_rejects_invalid_numbers_in_the_send_url(simulator: Simulator, sim_browser: Browser) -> None:
    driver, _ = open_linked(simulator, sim_browser)
    simulator.control("/invalid-numbers", {"numbers": ["+15559999999"]})
    for phone in ("123", "15559999999"):
        driver.get(f"{simulator.base_url}/send?phone={phone}&text=hi")
        popup = wait_for(driver, MODAL)
        assert "Phone number shared via url is invalid." in popup.text
        popup.find_element(By.XPATH, ".//button[normalize-space()='OK']").click()
        wait_gone(driver, MODAL)
    assert not find(driver, "#main")


@pytest.mark.browser
def test_it_shows_the_conflict_modal_and_holds_messages_until_use_here(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    assert simulator.control(f"/sessions/{session_id}/conflict")["state"] == "conflict"
    modal = wait_for(driver, MODAL)
    assert "WhatsApp is open on another computer or browser." in modal.text
    buttons = modal.find_elements(By.TAG_NAME, "button")
    assert [b.text for b in buttons] == ["Close", "Use here"]

    assert deliver(simulator, session_id, "while in conflict")["held"] is True
    assert not find(driver, CHAT_ROWS)
    buttons[-1].click()

    wait_gone(driver, MODAL)
    wait_for(driver, f'{CHAT_ROWS} span[aria-label="1 unread messages"]')
    assert simulator.session(session_id)["state"] == "linked"


@pytest.mark.browser
def test_it_shows_the_phone_offline_banner_and_holds_messages_until_online(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/phone-offline")
    wait(driver).until(lambda d: "Trying to reach phone" in d.find_element(By.ID, "side").text)
    assert deliver(simulator, session_id, "while offline")["held"] is True
    wait_for_polls(simulator, session_id, 2)
    assert not find(driver, CHAT_ROWS)

    simulator.control(f"/sessions/{session_id}/phone-online")
    wait_for(driver, CHAT_ROWS)
    assert "Trying to reach phone" not in driver.find_element(By.ID, "side").text


@pytest.mark.browser
def test_it_logs_out_to_the_qr_page_from_the_control_api_and_the_menu(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/logout")
    wait(driver).until(lambda d: "post_logout=1" in d.current_url)
    wait_for(driver, QR_CANVAS)
    assert driver.execute_script("return localStorage.getItem('old-logout-cred')")
    assert simulator.session(session_id)["state"] == "qr"

    qr = find(driver, QR_DIV)[0].get_attribute("data-ref")
    simulator.control("/link", {"qr": qr, "phone": PHONE})
    driver.execute_script("localStorage.clear()")
    wait_for(driver, '#side button[aria-label="Menu"]').click()
    wait_for(driver, 'div[aria-label="Log out"]').click()
    wait_for(driver, MODAL).find_elements(By.TAG_NAME, "button")[-1].click()
    wait_for(driver, QR_CANVAS)
    assert "post_logout=1" in driver.current_url
    assert driver.execute_script("return localStorage.getItem('old-logout-cred')")
    assert simulator.session(session_id)["state"] == "qr"


@pytest.mark.browser
def test_it_keeps_two_profiles_in_independent_sessions(simulator: Simulator, sim_browser: Browser) -> None:
    linked, linked_id = open_linked(simulator, sim_browser)
    other = sim_browser()
    other.get(simulator.base_url + "/")
    wait_for(other, QR_CANVAS)
    other_qr = find(other, QR_DIV)[0].get_attribute("data-ref")

    deliver(simulator, linked_id, "only for the first")
    wait_for(linked, CHAT_ROWS)
    states = {s["id"]: s["state"] for s in simulator.sessions()}
    assert states == {linked_id: "linked", session_id_of(simulator, other_qr): "qr"}
    assert not find(other, "#pane-side")


@pytest.mark.browser
def test_it_stops_applying_updates_while_frozen(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    assert simulator.control(f"/sessions/{session_id}/freeze")["frozen"] == "stale"
    wait_for_polls(simulator, session_id, 2)
    deliver(simulator, session_id, "while frozen")
    wait_for_polls(simulator, session_id, 3)
    assert not find(driver, CHAT_ROWS)

    simulator.control(f"/sessions/{session_id}/unfreeze")
    wait_for(driver, CHAT_ROWS)


@pytest.mark.browser
def test_it_links_a_session_from_the_control_page(simulator: Simulator, sim_browser: Browser) -> None:
    driver = sim_browser()
    driver.get(simulator.base_url + "/")
    wait_for(driver, QR_CANVAS)
    page = driver.current_window_handle

    driver.switch_to.new_window("tab")
    driver.get(simulator.base_url + "/sim/control/")
    link = wait(driver).until(
        lambda d: d.find_elements(By.XPATH, "//tbody[@id='sessions']//button[text()='Link']")
    )
    link[0].click()
    wait(driver).until(lambda d: "linked" in d.find_element(By.ID, "sessions").text)

    driver.switch_to.window(page)
    wait_for(driver, "#pane-side")
    assert simulator.sessions()[0]["phone"] == PHONE


@pytest.mark.browser
def test_it_blocks_the_page_in_hang_mode_until_unfrozen(simulator: Simulator, sim_browser: Browser) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    simulator.control(f"/sessions/{session_id}/freeze", {"mode": "hang"})
    poll_until(lambda: simulator.session(session_id)["page_hung"], "the page never hung")

    unfreeze = threading.Timer(0.7, simulator.control, args=(f"/sessions/{session_id}/unfreeze",))
    started = time.monotonic()
    unfreeze.start()
    driver.execute_script("return document.title")
    assert time.monotonic() - started >= 0.6  # the script waited for the page to answer
    unfreeze.join()
    deliver(simulator, session_id, "after the hang")
    wait_for(driver, CHAT_ROWS)


def test_it_links_sessions_and_records_sends_through_the_page_api(simulator: Simulator) -> None:
    page = simulator.page_client()
    page.get("/")
    page.post("/sim/api/boot", {})
    session_id = simulator.sessions()[0]["id"]
    assert simulator.session(session_id)["state"] == "loading"
    poll_until(lambda: simulator.session(session_id)["state"] == "qr", "no QR after loading")
    session = simulator.session(session_id)

    assert page.post("/sim/api/send", {"chat": CONTACT, "text": "x", "id": "AB"}).status == 409
    simulator.control("/link", {"qr": session["qr"], "phone": f"+{PHONE}"})
    reply = page.post("/sim/api/send", {"chat": CONTACT, "text": " exact  text ", "id": "3EB0AA"})
    assert reply.status == 200
    assert reply.body["data_id"] == f"true_{CONTACT}@c.us_3EB0AA"
    sent = simulator.get(f"/sim/control/sessions/phone:{PHONE}/sent").body
    assert [(m["chat"], m["text"], m["id"]) for m in sent["messages"]] == [
        (CONTACT, " exact  text ", "3EB0AA")
    ]


def test_it_answers_bad_control_requests_with_clear_json_errors(simulator: Simulator) -> None:
    page = simulator.page_client()
    page.get("/")
    session_id = simulator.sessions()[0]["id"]

    unknown_qr = simulator.post("/sim/control/link", {"qr": "2@nope,a,b,c", "phone": PHONE})
    assert unknown_qr.status == 404
    assert "no session is showing this QR code" in unknown_qr.body["error"]

    bad_json = simulator.post("/sim/control/link", raw=b"{not json")
    assert (bad_json.status, bad_json.body["error"]) == (400, "request body is not valid JSON")
    assert simulator.post("/sim/control/link", raw=b"[1]").status == 400
    assert simulator.post("/sim/control/link", {"qr": "x", "phone": "12ab"}).status == 400

    incoming = f"/sim/control/sessions/{session_id}/incoming"
    assert simulator.post(incoming, {"from": CONTACT, "text": "hi"}).status == 409
    assert simulator.post(incoming, {"from": "12", "text": "hi"}).status == 400
    assert simulator.post(f"/sim/control/sessions/{session_id}/freeze", {"mode": "x"}).status == 400
    assert simulator.post("/sim/control/invalid-numbers", {"numbers": "1555"}).status == 400

    for path in ("/sim/control/sessions/nope", f"/sim/control/sessions/phone:{PHONE}", "/sim/control/what"):
        response = simulator.get(path)
        assert response.status == 404
        assert response.body["error"]
    assert simulator.post(f"/sim/control/sessions/{session_id}/explode").status == 404
    assert simulator.get("/sim/control/").status == 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_runs_from_the_management_command_until_a_stop_signal(
    stop_signal: signal.Signals, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DEBUG": "1", "LOG_FORMAT": "json", "LOG_DIR": str(tmp_path)}
    command = [sys.executable, "manage.py", "run_simulator", "--port", str(port), "--qr-rotate-seconds", "5"]
    process = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        simulator = Simulator(f"http://127.0.0.1:{port}")

        def answers() -> bool:
            assert process.poll() is None, process.communicate()[0]
            with contextlib.suppress(OSError):
                return simulator.get("/sim/control/sessions").status == 200
            return False

        poll_until(answers, "run_simulator never answered", timeout=30)
        process.send_signal(stop_signal)
        output = process.communicate(timeout=10)[0]
        assert process.returncode == 0, output
        assert "simulator stopped" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.browser
def test_grow_heap_holds_that_much_more_heap_on_the_open_page_only(
    simulator: Simulator, sim_browser: Browser
) -> None:
    driver, session_id = open_linked(simulator, sim_browser)
    wait_for_polls(simulator, session_id, 2)

    def heap_mb() -> float:
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        return driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"] / 2**20

    before = heap_mb()
    simulator.control(f"/sessions/{session_id}/grow-heap", {"mb": 40})
    poll_until(lambda: heap_mb() > before + 35, "the page never grew its heap by 40 MB")
    driver.refresh()
    wait_for_polls(simulator, session_id, 2)
    assert heap_mb() < before + 20  # a page loaded again does not grow it again

    for bad in ({"mb": "40"}, {"mb": 0}, {}):
        response = simulator.post(f"/sim/control/sessions/{session_id}/grow-heap", bad)
        assert response.status == 400
        assert "mb must be a whole number from 1 to 2048" in response.body["error"]


def test_a_page_loaded_again_gets_what_arrived_while_it_loaded_and_nothing_twice(
    simulator: Simulator,
) -> None:
    page = simulator.page_client()
    page.get("/")
    page.post("/sim/api/boot", {})
    session_id = simulator.sessions()[0]["id"]
    poll_until(lambda: simulator.session(session_id)["state"] == "qr", "no QR after loading")
    simulator.control("/link", {"qr": simulator.session(session_id)["qr"], "phone": f"+{PHONE}"})
    poll_until(lambda: page.get("/sim/api/state").body["view"] == "main", "never reached the main view")

    def feed(after: int) -> list[str]:
        return [m["text"] for m in page.get(f"/sim/api/state?feed={after}").body["feed"]]

    start = page.get("/sim/api/state").body["feed_start"]
    deliver(simulator, session_id, "seen by the first page")
    assert feed(start) == ["seen by the first page"]
    deliver(simulator, session_id, "came while the page reloaded")

    # The page is loaded again: it starts after what the first page fetched, not at "now".
    reloaded = page.get("/sim/api/state").body["feed_start"]
    assert feed(reloaded) == ["came while the page reloaded"]
    assert feed(page.get("/sim/api/state").body["feed_start"]) == []  # once is enough

"""Driving the simulator page's wa-js double (`window.WPP`) from Selenium, as the worker's bridge does."""

from collections.abc import Callable

from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.simulator_http import Simulator
from workers.whatsapp.contract import EVENTS

# JSON-safe copies of what WPP hands out (Errors become {"message": ...}).
PLAIN = (
    "const plain = (v) => v instanceof Error ? {message: v.message}"
    " : JSON.parse(JSON.stringify(v === undefined ? null : v));"
)
SUBSCRIBE = PLAIN + (
    "window.__events = [];"
    "for (const name of arguments[0]) {"
    "  WPP.on(name, (payload) => window.__events.push([name, plain(payload)]));"
    "}"
)


def open_page(simulator: Simulator, driver: webdriver.Chrome) -> None:
    """Load the page, wait for WPP.isReady and record every contract event into window.__events."""
    driver.set_script_timeout(10)
    driver.get(simulator.base_url + "/")
    wait(driver).until(lambda d: d.execute_script("return window.WPP && WPP.isReady"))
    driver.execute_script(SUBSCRIBE, list(EVENTS))


def wait(driver: webdriver.Chrome, timeout: float = 10) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.05)


def events(driver: webdriver.Chrome, name: str) -> list:
    return [payload for event, payload in driver.execute_script("return window.__events") if event == name]


def wait_event(
    driver: webdriver.Chrome,
    name: str,
    matches: Callable[[object], bool] = lambda payload: True,
    timeout: float = 10,
) -> object:
    """The first payload of `name` that matches, waiting for it."""

    def found(d: webdriver.Chrome) -> list:
        return [payload for payload in events(d, name) if matches(payload)]

    return wait(driver, timeout).until(found)[0]


def call(driver: webdriver.Chrome, expression: str, *args: object) -> dict:
    """Evaluate `expression` (its arguments are `args[0]`, ...) and await it.

    Returns {"ok": value} or {"error": message}.
    """
    script = (
        PLAIN + "const done = arguments[arguments.length - 1];"
        "const args = Array.from(arguments).slice(0, -1);"
        f"Promise.resolve().then(() => (function (args) {{ return {expression}; }})(args))"
        ".then((v) => done({ok: plain(v)}), (e) => done({error: String(e && e.message)}));"
    )
    return driver.execute_async_script(script, *args)


def ok(driver: webdriver.Chrome, expression: str, *args: object) -> object:
    result = call(driver, expression, *args)
    assert "ok" in result, result
    return result["ok"]


def link_by_qr(simulator: Simulator, driver: webdriver.Chrome, phone: str) -> str:
    """Link the page's session by the QR code WPP reports; returns the session id."""
    code = wait(driver).until(lambda d: call(d, "WPP.conn.getAuthCode()")["ok"])
    session_id = simulator.control("/link", {"qr": code["fullCode"], "phone": phone})["id"]
    wait_event(driver, "conn.main_ready")
    return session_id

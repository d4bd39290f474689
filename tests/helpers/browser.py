"""The headless Chromium that browser tests drive, started one way for every test."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from django.test import override_settings
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # as root, and in most containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # The machine's network is closed: no background calls home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--password-store=basic",
    "--lang=en-US",
    "--window-size=1280,900",
)


def launch_chromium(profile_dir: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


@contextlib.contextmanager
def browser_session(profile_dir: Path, *, width: int = 1280, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A browser for one test, quit afterwards even if the test broke it."""
    driver = launch_chromium(profile_dir)
    driver.set_window_size(width, height)
    try:
        yield driver
    finally:
        with contextlib.suppress(WebDriverException, OSError):
            driver.quit()


@contextlib.contextmanager
def plain_http_live_server() -> Iterator[LiveServer]:
    """pytest-django's live server (static files served), reachable over plain HTTP.

    The suite runs on production settings, whose HTTPS redirect and secure-only cookies a
    browser on http://localhost can't follow; they are read when the server's middleware
    loads, so they are switched off before it starts (and only while it runs).
    """
    with override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False):
        server = LiveServer("localhost")
        try:
            yield server
        finally:
            server.stop()

"""Fixtures for the WhatsApp Web simulator tests: a live server, HTTP helpers and headless Chromium."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException

from tests.helpers.browser import launch_chromium
from tests.helpers.simulator_http import DEFAULT_OPTIONS, Simulator
from workers.simulator import make_server


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., Simulator]]:
    servers = []

    def start(**options: float) -> Simulator:
        server = make_server("127.0.0.1", 0, **{**DEFAULT_OPTIONS, **options})
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        servers.append((server, thread))
        host, port = server.server_address[:2]
        return Simulator(f"http://{host}:{port}")

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def simulator(start_simulator: Callable[..., Simulator]) -> Simulator:
    return start_simulator()


@pytest.fixture
def sim_browser(tmp_path: Path) -> Iterator[Callable[..., webdriver.Chrome]]:
    """Start headless Chromium; each call gets its own profile unless one is passed."""
    drivers: list[webdriver.Chrome] = []

    def launch(profile_dir: Path | None = None) -> webdriver.Chrome:
        profile = profile_dir or tmp_path / f"profile-{len(drivers)}"
        driver = launch_chromium(profile)
        drivers.append(driver)
        return driver

    yield launch
    for driver in drivers:
        # A test may already have quit a browser to reuse its profile.
        with contextlib.suppress(WebDriverException, OSError):
            driver.quit()

"""The WhatsApp Web client: the only code that imports Selenium.

It starts Chromium on the tenant's own profile, opens WhatsApp Web, injects the page
observer (observer.js) and turns what the page shows into events (events.py). It sends a
message the way a person does: open the chat, type, press Send, wait for the clock icon to
turn into a tick. Every selector comes from selectors.py.
"""

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, cast
from urllib.parse import urlencode, urljoin

import urllib3
from selenium import webdriver
from selenium.common.exceptions import (
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.remote.webelement import WebElement

from workers.whatsapp import events
from workers.whatsapp.profile import prepare_profile
from workers.whatsapp.selectors import LOGGED_OUT_QUERY, SELECTORS, TEXTS

logger = logging.getLogger(__name__)

T = TypeVar("T")

OBSERVER_JS = (Path(__file__).parent / "observer.js").read_text(encoding="utf-8")
PAGE_LOAD_SECONDS = 60
_DRAIN_JS = """
const done = arguments[arguments.length - 1];
if (!window.__waWorker) { done(null); return; }
window.__waWorker.waitForEvents(arguments[0]).then(done);
"""


class ClientError(Exception):
    """Something went wrong driving the page."""


class BrowserGone(ClientError):
    """The browser or its driver stopped answering: restart it."""


class SelectorMissing(ClientError):
    """An element the worker needs is not on the page: WhatsApp may have changed it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no element matches selector {name!r} ({', '.join(SELECTORS[name])})")
        self.selector = name


class SendError(ClientError):
    permanent = False


class InvalidNumber(SendError):
    permanent = True


class SendUnconfirmed(SendError):
    # WhatsApp has the message but never confirmed it: sending again could deliver it twice.
    permanent = True


def chromium_major_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "140"
    digits = [part for part in out.split() if part[:1].isdigit()]
    return digits[0].split(".")[0] if digits else "140"


def desktop_user_agent(major: str) -> str:
    # A headless browser's own agent gets WhatsApp's "update your browser" page.
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


class WhatsAppClient:
    def __init__(
        self,
        *,
        url: str,
        profile_dir: Path,
        artifacts_dir: Path,
        chrome_binary: str,
        chromedriver_path: str,
        remote_url: str = "",
        command_timeout: float = 30.0,
        log: logging.Logger | logging.LoggerAdapter = logger,
    ) -> None:
        self.url = url
        self.profile_dir = profile_dir
        self.artifacts_dir = artifacts_dir
        self.chrome_binary = chrome_binary
        self.chromedriver_path = chromedriver_path
        self.remote_url = remote_url
        self.command_timeout = command_timeout
        self.log = log
        self._driver: webdriver.Remote | None = None
        self._service: Service | None = None
        self._view: str | None = None
        self._scanned = False
        # Whether the last send got as far as pressing Send (then it may have gone out).
        self.send_clicked = False

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # run_worker holds the tenant's session lock: a browser on this profile is an orphan.
        prepare_profile(self.profile_dir, kill_orphans=True)
        self._view, self._scanned = None, False
        try:
            self._driver = self._launch()
        except (WebDriverException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise BrowserGone(f"the browser did not start: {str(exc).strip()[:200]}") from exc
        self._call(lambda: self.driver.set_page_load_timeout(PAGE_LOAD_SECONDS))
        self._call(lambda: self.driver.set_script_timeout(self.command_timeout))
        self._navigate(self.url)
        self.log.info(
            "browser started", extra={"event": "browser_started", "browser_pids": self.browser_pids()}
        )

    def _options(self) -> webdriver.ChromeOptions:
        options = webdriver.ChromeOptions()
        options.binary_location = self.chrome_binary
        for flag in [
            "--headless=new",
            "--no-sandbox",  # required as root, and inside most containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--lang=en-US",  # labels are translated; the selectors' texts are English
            f"--user-agent={desktop_user_agent(chromium_major_version(self.chrome_binary))}",
            "--disable-blink-features=AutomationControlled",
            f"--user-data-dir={self.profile_dir}",
            "--window-size=1280,900",
            # This machine's network is closed: no background calls home.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            # Keep a hidden tab awake: WhatsApp must keep receiving while nobody looks.
            "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding",
            # Memory: one renderer is enough for one page.
            "--renderer-process-limit=1",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
        ]:
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
        return options

    def _launch(self) -> webdriver.Remote:
        options = self._options()
        if self.remote_url:
            config = ClientConfig(self.remote_url, timeout=int(self.command_timeout) + 2)
            return webdriver.Remote(command_executor=self.remote_url, options=options, client_config=config)
        # Its own session (process group), so stop() can kill the whole browser tree.
        self._service = Service(self.chromedriver_path, popen_kw={"start_new_session": True})
        driver = webdriver.Chrome(options=options, service=self._service)
        # A frozen page must not hang the worker forever: every command gets a deadline.
        # (WebDriver turns a str command_executor into a RemoteConnection: selenium casts too.)
        cast(RemoteConnection, driver.command_executor)._client_config.timeout = int(self.command_timeout) + 2
        return driver

    def stop(self, *, graceful: bool = True) -> None:
        """Quit the browser and kill whatever is left of its process tree.

        ``graceful=False`` skips asking a browser that already stopped answering (it would
        only time out again): its process group is killed at once.
        """
        driver, self._driver = self._driver, None
        if driver is not None and graceful:
            try:
                driver.quit()
            except (WebDriverException, OSError) as exc:
                self.log.warning("browser did not quit cleanly", extra={"error": str(exc)[:200]})
        process = self._service.process if self._service else None
        if process is not None:
            # Whatever quit() left behind (field notes, "Orphaned browsers"); gone is fine.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self._service = None

    def browser_root_pid(self) -> int | None:
        """The chromedriver process: the browser tree hangs below it."""
        process = self._service.process if self._service else None
        return process.pid if process is not None and process.poll() is None else None

    def browser_pids(self) -> list[int]:
        """The chromedriver and every browser process in its group."""
        process = self._service.process if self._service else None
        if process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == process.pid:
                        pids.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return sorted(pids)

    @property
    def driver(self) -> webdriver.Remote:
        if self._driver is None:
            raise BrowserGone("the browser is not running")
        return self._driver

    # --- reading the page ------------------------------------------------------------------

    def _navigate(self, url: str) -> None:
        """Load a page: a page load may take longer than any other command is allowed to."""
        # WebDriver turns a str command_executor into a RemoteConnection (selenium casts too).
        config = cast(RemoteConnection, self.driver.command_executor)._client_config
        usual, config.timeout = config.timeout, PAGE_LOAD_SECONDS + 5
        try:
            self._call(lambda: self.driver.get(url))
        except TimeoutException as exc:
            raise BrowserGone(f"the page did not load within {PAGE_LOAD_SECONDS} s") from exc
        finally:
            config.timeout = usual
        self._install_observer()

    def _install_observer(self) -> None:
        config = {"selectors": SELECTORS, "texts": TEXTS, "loggedOutQuery": LOGGED_OUT_QUERY}
        self._call(lambda: self.driver.execute_script(OBSERVER_JS, config))

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (TimeoutException, JavascriptException):
            raise
        except WebDriverException as exc:
            raise BrowserGone(str(exc).strip().splitlines()[0][:300]) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The driver itself did not answer in time (a frozen page or a dead browser).
            raise BrowserGone(f"the browser did not answer: {type(exc).__name__}") from exc

    def poll(self, timeout: float) -> list[events.Event]:
        """Wait up to ``timeout`` seconds for the page to show something, and say what."""
        started = time.monotonic()
        try:
            raw = self._call(lambda: self.driver.execute_async_script(_DRAIN_JS, int(timeout * 1000)))
        except TimeoutException as exc:
            if time.monotonic() - started < self.command_timeout / 2:
                # Long before the timeout: the document went away under the waiting script
                # (WhatsApp's logout navigates), which ChromeDriver reports as a script timeout.
                raw = None
            else:
                raise BrowserGone("the page did not answer within the script timeout") from exc
        if raw is None:  # a navigation replaced the document: watch the new one
            self._install_observer()
            return []
        found: list[events.Event] = []
        for item in raw:
            found.extend(self._translate(item))
        return found

    def _translate(self, item: dict) -> list[events.Event]:
        kind = item.get("type")
        if kind == "view":
            return self._translate_view(item["view"])
        if kind == "qr":
            return [events.QrCode(value=item["value"])]
        if kind == "phone":
            return [events.PhoneReachable() if item["reachable"] else events.PhoneUnreachable()]
        if kind == "logged_out":
            self._scanned = False
            return [events.LoggedOut()]
        if kind == "unread":
            self._open_chat_from_list(item["chat"])
            return []
        if kind == "message":
            sender = events.sender_of(item["id"]) or "".join(c for c in item.get("chat") or "" if c.isdigit())
            return [
                events.IncomingMessage(
                    wa_message_id=item["id"],
                    chat=item.get("chat") or "",
                    from_number=sender,
                    text=item.get("text") or "",
                    timestamp=events.parse_pre_plain_text(item.get("pre") or ""),
                )
            ]
        return []

    def _translate_view(self, view: str) -> list[events.Event]:
        previous, self._view = self._view, view
        if view == previous:
            return []
        if view == "loading" and previous in ("qr", "qr_expired"):
            self._scanned = True
            return [events.Authenticated()]
        if view == "ready":
            self._scanned = False
            return [events.Ready()]
        if view == "qr" and self._scanned:
            self._scanned = False
            return [events.AuthFailure(reason="the page asked for a new QR code after the scan")]
        if view == "qr_expired":
            return [events.QrExpired()]
        if view == "conflict":
            return [events.Conflict()]
        return []

    def page_health(self) -> dict:
        """Whether the chat list answers, and when the page last changed (for the heartbeat)."""
        health = self._call(
            lambda: self.driver.execute_script(
                "return window.__waWorker ? window.__waWorker.health() : null;"
            )
        )
        return health or {"chatListAnswers": False}

    # --- acting on the page ----------------------------------------------------------------

    def _find(self, name: str, root: WebElement | None = None) -> WebElement | None:
        scope = root or self.driver
        for css in SELECTORS[name]:
            try:
                return scope.find_element(By.CSS_SELECTOR, css)
            except NoSuchElementException:
                continue
        return None

    def _find_all(self, name: str) -> list[WebElement]:
        for css in SELECTORS[name]:
            found = self.driver.find_elements(By.CSS_SELECTOR, css)
            if found:
                return found
        return []

    def _wait_for(self, name: str, timeout: float) -> WebElement:
        deadline = time.monotonic() + timeout
        while True:
            found = self._call(lambda: self._find(name))
            if found is not None:
                return found
            if time.monotonic() > deadline:
                self._selector_missing(name)
            time.sleep(0.05)

    def _selector_missing(self, name: str) -> None:
        """Fail loudly: keep a screenshot and the page source, and name the selector."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        shot = self.artifacts_dir / f"selector-{name}-{stamp}.png"
        source = self.artifacts_dir / f"selector-{name}-{stamp}.html"
        try:
            self.driver.save_screenshot(str(shot))
            source.write_text(self.driver.page_source, encoding="utf-8")
        except (WebDriverException, OSError):
            self.log.exception("could not save the page for a missing selector", extra={"selector": name})
        self.log.error(
            "selector matched nothing",
            extra={
                "event": "selector_missing",
                "selector": name,
                "screenshot": str(shot),
                "page_source": str(source),
            },
        )
        raise SelectorMissing(name)

    def _open_chat_from_list(self, title: str) -> bool:
        for row in self._call(lambda: self._find_all("chat_rows")):
            try:
                label = self._find("chat_title", row)
                if label is not None and label.get_attribute("title") == title:
                    row.click()
                    return True
            except StaleElementReferenceException:
                continue
        return False

    def _open_chat(self, number: str) -> None:
        for row in self._call(lambda: self._find_all("chat_rows")):
            label = self._find("chat_title", row)
            # chat_title matches span[title] only: the attribute is there.
            title = cast(str, label.get_attribute("title")) if label else ""
            digits = "".join(c for c in title if c.isdigit())
            if digits == number:
                row.click()
                return
        # Not in the list: open it by number, as WhatsApp's click-to-chat links do.
        self._navigate(urljoin(self.url, "send?" + urlencode({"phone": number})))

    def _wait_for_chat_or_invalid(self, timeout: float) -> WebElement:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            box = self._call(lambda: self._find("compose_box"))
            if box is not None:
                return box
            modal = self._call(lambda: self._find("modal"))
            if modal is not None and any(t in modal.text for t in TEXTS["invalid_number"]):
                button = self._find("modal_buttons")
                if button is not None:
                    button.click()
                raise InvalidNumber("WhatsApp says the phone number is invalid")
            time.sleep(0.05)
        self._selector_missing("compose_box")
        raise AssertionError("unreachable")

    def _outgoing_ids(self) -> set[str]:
        script = (
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute('data-id'));"
        )
        ids = self._call(lambda: self.driver.execute_script(script, ", ".join(SELECTORS["message_rows"])))
        return {i for i in ids or [] if i and i.startswith("true_")}

    def _type(self, box: WebElement, text: str) -> None:
        # send_keys can't type emoji (outside the BMP); the editor's insertText can.
        box.click()
        for index, line in enumerate(text.split("\n")):
            if index:
                ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(
                    Keys.SHIFT
                ).perform()
            if line:
                self.driver.execute_script(
                    "arguments[0].focus(); document.execCommand('insertText', false, arguments[1]);",
                    box,
                    line,
                )

    def send_text(self, number: str, text: str, *, timeout: float = 30.0) -> str:
        """Send ``text`` to ``number``; returns WhatsApp's id of the sent message."""
        self.send_clicked = False
        self._open_chat(number)
        box = self._wait_for_chat_or_invalid(timeout)
        before = self._outgoing_ids()
        self._call(lambda: self._type(box, text))
        button = self._wait_for("send_button", timeout)
        self.send_clicked = True
        self._call(button.click)
        return self._wait_for_delivery(before, timeout)

    def _wait_for_delivery(self, before: set[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        script = """
        const rows = Array.from(document.querySelectorAll(arguments[0]));
        const pending = arguments[1];
        return rows.map(r => [r.getAttribute('data-id'), !!r.querySelector(pending)]);
        """
        new_id = None
        while time.monotonic() < deadline:
            rows = self._call(
                lambda: self.driver.execute_script(
                    script, ", ".join(SELECTORS["message_rows"]), ", ".join(SELECTORS["pending_icon"])
                )
            )
            for row_id, pending in rows or []:
                if row_id and row_id.startswith("true_") and row_id not in before:
                    new_id = row_id
                    if not pending:
                        return row_id
            time.sleep(0.05)
        if new_id is None:
            raise SendError("the message never appeared in the chat")
        raise SendUnconfirmed(f"WhatsApp did not confirm message {new_id} within {timeout:.0f} s")

    def take_over(self) -> None:
        """Answer the conflict dialog with "Use here" (its last button)."""
        buttons = self._call(
            lambda: self.driver.find_elements(By.CSS_SELECTOR, SELECTORS["modal_buttons"][0])
        )
        if not buttons:
            self._selector_missing("modal_buttons")
        self._call(lambda: buttons[-1].click())

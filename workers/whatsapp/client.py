"""The WhatsApp Web client: the only code that imports Selenium.

It starts Chromium on the tenant's own profile, opens WhatsApp Web and talks to it through
WhatsApp Web's own modules, by the page library wa-js (``window.WPP``), never through its
markup: after every page load it injects the pinned wa-js (where the page has no ``WPP`` of
its own, as the simulator does) with the page's CSP bypassed, then our bridge (bridge.js),
which queues wa-js's events for poll() and answers the calls below. Every WPP name used is
listed in contract.py.
"""

import base64
import binascii
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

import urllib3
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection

from workers.procinfo import process_tree
from workers.whatsapp import events
from workers.whatsapp.profile import prepare_profile
from workers.whatsapp.wajs import wa_js_source

logger = logging.getLogger(__name__)

T = TypeVar("T")

BRIDGE_JS = (Path(__file__).parent / "bridge.js").read_text(encoding="utf-8")
PAGE_LOAD_SECONDS = 60
BROWSER_START_SECONDS = 30
DEVTOOLS_PORT_FILE = "DevToolsActivePort"
_DRAIN_JS = """
const done = arguments[arguments.length - 1];
if (!window.__waWorker) { done(null); return; }
window.__waWorker.waitForEvents(arguments[0]).then(done);
"""
_CALL_JS = """
const done = arguments[arguments.length - 1];
if (!window.__waWorker) { done(null); return; }
window.__waWorker.call(arguments[0], arguments[1]).then(done);
"""


class ClientError(Exception):
    """Something went wrong driving the page."""


class BrowserGone(ClientError):
    """The browser or its driver stopped answering: restart it."""


class CallFailed(ClientError):
    """wa-js refused a call (its promise rejected): fails that one action, not the worker."""


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


def is_headless_shell(binary: str) -> bool:
    """Debian's chromium-headless-shell: the browser without its desktop parts."""
    return "headless-shell" in Path(binary).name


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
        self._browser: subprocess.Popen | None = None
        self._reset_page_state()
        # Numbers WhatsApp said exist (contact.queryExists), asked once per worker.
        self._known_numbers: set[str] = set()
        # Whether the last send was handed to wa-js (then it may have gone out).
        self.send_handed_over = False

    def _reset_page_state(self) -> None:
        self._scanned = False  # a code was accepted, the account not yet ready
        self._ready = False  # conn.main_ready seen on this page
        self._mode = ""  # the last stream mode
        self._unreachable = False

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # run_worker holds the tenant's session lock: a browser on this profile is an orphan.
        prepare_profile(self.profile_dir, kill_orphans=True)
        self._reset_page_state()
        try:
            self._driver = self._launch()
        except (WebDriverException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise BrowserGone(f"the browser did not start: {str(exc).strip()[:200]}") from exc
        self._call(lambda: self.driver.set_page_load_timeout(PAGE_LOAD_SECONDS))
        self._call(lambda: self.driver.set_script_timeout(self.command_timeout))
        self._bypass_csp()
        self._navigate(self.url)
        self.log.info(
            "browser started", extra={"event": "browser_started", "browser_pids": self.browser_pids()}
        )

    def _flags(self) -> list[str]:
        """Chromium's command line; each memory flag was kept because it measured smaller
        with the end-to-end tests still passing (README, "Memory per session")."""
        return [
            "--no-sandbox",  # required as root, and inside most containers
            # Memory: browser, renderer, GPU and network in one process (-55% at ten sessions).
            "--single-process",
            "--no-zygote",
            # No GPU, and no GPU emulated (SwiftShader): pages are drawn in software (-9 MB).
            "--disable-gpu",
            "--disable-software-rasterizer",
            "--disable-gpu-compositing",
            "--disable-dev-shm-usage",
            "--lang=en-US",
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
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            # The full browser needs telling; the headless shell is nothing else.
            *([] if is_headless_shell(self.chrome_binary) else ["--headless=new"]),
        ]

    def _options(self) -> webdriver.ChromeOptions:
        """For a remote grid, which starts the browser itself."""
        options = webdriver.ChromeOptions()
        options.binary_location = self.chrome_binary
        for flag in self._flags():
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
        return options

    def _launch(self) -> webdriver.Remote:
        if self.remote_url:
            config = ClientConfig(self.remote_url, timeout=int(self.command_timeout) + 2)
            return webdriver.Remote(
                command_executor=self.remote_url, options=self._options(), client_config=config
            )
        # The browser is started here, not by ChromeDriver: the headless shell opens no page
        # of its own, which ChromeDriver's launcher waits for. ChromeDriver then attaches.
        # Each runs in its own session (process group), so stop() can kill both trees.
        self._browser = self._start_browser()
        options = webdriver.ChromeOptions()
        options.debugger_address = f"127.0.0.1:{self._devtools_port(self._browser)}"
        self._service = Service(self.chromedriver_path, popen_kw={"start_new_session": True})
        driver = webdriver.Chrome(options=options, service=self._service)
        # A frozen page must not hang the worker forever: every command gets a deadline.
        # (WebDriver turns a str command_executor into a RemoteConnection: selenium casts too.)
        cast(RemoteConnection, driver.command_executor)._client_config.timeout = int(self.command_timeout) + 2
        return driver

    def _start_browser(self) -> subprocess.Popen:
        (self.profile_dir / DEVTOOLS_PORT_FILE).unlink(missing_ok=True)
        return subprocess.Popen(
            [self.chrome_binary, *self._flags(), "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _devtools_port(self, browser: subprocess.Popen) -> int:
        """The port the browser chose, from the file it writes into its profile."""
        deadline = time.monotonic() + BROWSER_START_SECONDS
        path = self.profile_dir / DEVTOOLS_PORT_FILE
        while time.monotonic() < deadline:
            if browser.poll() is not None:
                raise OSError(f"the browser exited at start with code {browser.returncode}")
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(path.read_text().split()[0])
            time.sleep(0.05)
        raise OSError(f"the browser opened no DevTools port within {BROWSER_START_SECONDS} s")

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
        # ChromeDriver attached to the browser, so quit() leaves it running: kill both trees
        # (whatever is left of them is gone either way; field notes, "Orphaned browsers").
        for process in (self._service.process if self._service else None, self._browser):
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._service = None
        self._browser = None

    def browser_root_pids(self) -> list[int]:
        """ChromeDriver and the browser, while they run: their trees are what the session costs."""
        roots = (self._service.process if self._service else None, self._browser)
        return [p.pid for p in roots if p is not None and p.poll() is None]

    def browser_pids(self) -> list[int]:
        """ChromeDriver, the browser and every process below them."""
        return sorted(process_tree(*self.browser_root_pids()))

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
        self._install_bridge()

    def _cdp(self, method: str, params: dict | None = None) -> dict | None:
        """A DevTools command; None where the driver offers none (a remote grid may not)."""
        execute_cdp = getattr(self.driver, "execute_cdp_cmd", None)
        if execute_cdp is None:
            return None
        return self._call(lambda: execute_cdp(method, params or {}))

    def _bypass_csp(self) -> None:
        """WhatsApp's Content-Security-Policy would refuse our scripts (as wppconnect does it)."""
        self._cdp("Page.setBypassCSP", {"enabled": True})

    def _install_bridge(self) -> None:
        """wa-js where the page has none (the simulator brings its own), then our bridge."""
        if not self._call(lambda: self.driver.execute_script("return typeof window.WPP !== 'undefined';")):
            self._call(lambda: self.driver.execute_script(wa_js_source()))
        installed = self._call(lambda: self.driver.execute_script(BRIDGE_JS))
        if installed == "no-wpp":
            raise BrowserGone("wa-js did not load into the page (no window.WPP)")

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
        """Wait up to ``timeout`` seconds for wa-js to report something, and say what."""
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
        if raw is None:  # a navigation replaced the document: inject into the new one
            self._install_bridge()
            return []
        found: list[events.Event] = []
        for item in raw:
            found.extend(self._translate(item))
        return found

    def _translate(self, item: dict) -> list[events.Event]:
        kind = item.get("type")
        if kind == "snapshot":
            return self._translate_snapshot(item)
        if kind == "auth_code":
            if not item.get("code"):
                return []
            if self._scanned and not self._ready:
                self._scanned = False
                return [events.AuthFailure(reason="WhatsApp asked for a new QR code after the scan")]
            return [events.QrCode(value=item["code"])]
        if kind == "qr_idle":
            return [events.QrExpired()]
        if kind == "authenticated":
            self._scanned = True
            return [events.Authenticated()]
        if kind == "main_ready":
            return self._became_ready()
        if kind == "logout":
            self._scanned = self._ready = False
            return [events.LoggedOut()]
        if kind == "stream_mode":
            return self._translate_mode(item.get("mode") or "")
        if kind == "stream_info":
            return self._translate_info(item.get("info") or "")
        if kind == "link_code":
            return [events.LinkCode(code=item["code"])] if item.get("code") else []
        if kind == "link_code_expired":
            return [events.LinkCodeExpired()]
        if kind == "link_code_error":
            return [events.LinkCodeError(reason=str(item.get("error") or "unknown error")[:300])]
        if kind == "message":
            message = self._incoming(item)
            return [message] if message else []
        if kind == "group_members":
            group = item.get("group") or ""
            if not group.endswith("@g.us"):
                return []
            return [
                events.GroupMembers(
                    group_id=group,
                    group_name=str(item.get("group_name") or "")[:200],
                    action=str(item.get("action") or "")[:20],
                    count=item["count"] if isinstance(item.get("count"), int) else 0,
                    includes_me=bool(item.get("me")),
                )
            ]
        if kind == "ack":
            ids = tuple(i for i in item.get("ids") or [] if isinstance(i, str))
            ack = item.get("ack")
            return [events.Ack(wa_message_ids=ids, ack=ack)] if ids and isinstance(ack, int) else []
        return []

    def _translate_snapshot(self, item: dict) -> list[events.Event]:
        if item.get("main_ready"):
            found = self._became_ready()
            return found + self._translate_mode(item.get("mode") or "")
        if item.get("code"):
            return [events.QrCode(value=item["code"])]
        return self._translate_mode(item.get("mode") or "")

    def _became_ready(self) -> list[events.Event]:
        if self._ready:
            return []
        self._scanned, self._ready, self._mode = False, True, "MAIN"
        return [events.Ready()]

    def _translate_mode(self, mode: str) -> list[events.Event]:
        previous, self._mode = self._mode, mode
        if mode == previous:
            return []
        if mode == "CONFLICT":
            return [events.Conflict()]
        if mode in events.BLOCKED_REASONS:
            return [events.Blocked(mode=mode, reason=events.BLOCKED_REASONS[mode])]
        if mode == "OFFLINE":
            return self._translate_info("OFFLINE")
        if mode == "MAIN" and previous in ("CONFLICT", "OFFLINE") and self._ready:
            self._unreachable = False  # the session is back (taken over, or online again)
            return [events.PhoneReachable()]
        return []

    def _translate_info(self, info: str) -> list[events.Event]:
        """Stream info after the session is up: OFFLINE and reconnecting mean the phone is away."""
        if not self._ready:
            return []
        unreachable = info in ("OFFLINE", "CONNECTING", "RESUMING", "OPENING")
        if unreachable and not self._unreachable:
            self._unreachable = True
            return [events.PhoneUnreachable(info=info)]
        if info == "NORMAL" and self._unreachable:
            self._unreachable = False
            return [events.PhoneReachable()]
        return []

    @staticmethod
    def _incoming(item: dict) -> events.IncomingMessage | None:
        """A message someone else wrote; our own, status posts and replays are not incoming."""
        chat = item.get("chat") or ""
        if item.get("from_me") or not item.get("is_new", True) or not item.get("id"):
            return None
        if not chat or chat.endswith("@broadcast") or chat.endswith("@newsletter"):
            return None
        sent = item.get("t")
        media = item.get("media")
        return events.IncomingMessage(
            wa_message_id=item["id"],
            chat_id=chat,
            sender_id=item.get("author") or chat,
            is_group=bool(item.get("group")) or chat.endswith("@g.us"),
            kind=str(item.get("kind") or "chat"),
            text=item.get("body") or "",
            timestamp=datetime.fromtimestamp(sent, tz=UTC) if isinstance(sent, int | float) else None,
            quoted_id=item.get("quoted") or "",
            group_name=str(item.get("group_name") or ""),
            mentions_me=bool(item.get("mentions_me")),
            media=events.MediaInfo(
                mime_type=str(media.get("mimetype") or "")[:100],
                file_name=str(media.get("filename") or "")[:255],
                size=media["size"] if isinstance(media.get("size"), int) else None,
            )
            if isinstance(media, dict)
            else None,
        )

    def page_health(self) -> dict:
        """A round trip to wa-js: whether WhatsApp says its main view is ready, and when the
        page last reported an event (for the heartbeat)."""
        health = self._call(
            lambda: self.driver.execute_script(
                "return window.__waWorker ? window.__waWorker.health() : null;"
            )
        )
        return health or {"mainReady": False}

    def page_heap_mb(self) -> float | None:
        """The JavaScript heap the page uses (CDP Runtime.getHeapUsage); None without CDP."""
        usage = self._cdp("Runtime.getHeapUsage")
        return round(usage["usedSize"] / (1024 * 1024), 1) if usage else None

    def reload_page(self) -> None:
        """Load WhatsApp Web again in the same browser and profile: the page's heap starts
        afresh, the session stays linked (no new QR code)."""
        self._navigate(self.url)
        # The old page's objects go now, not at V8's leisure: the next heartbeat's reading
        # must not count them and reload again.
        self._cdp("HeapProfiler.collectGarbage")

    # --- calling wa-js ---------------------------------------------------------------------

    def _wpp(self, name: str, *args: object) -> object:
        """One call through the bridge; a rejected call raises CallFailed with wa-js's words."""
        try:
            answer = self._call(lambda: self.driver.execute_async_script(_CALL_JS, name, list(args)))
        except TimeoutException as exc:
            raise BrowserGone(f"wa-js did not answer {name} within the script timeout") from exc
        if answer is None:
            raise CallFailed(f"{name}: the page has no bridge (it was navigating)")
        if "error" in answer:
            raise CallFailed(f"{name}: {str(answer['error'])[:300]}")
        return answer.get("ok")

    def resolve_phone(self, wa_id: str) -> str:
        """The phone number behind a LID, when WhatsApp knows it; "" when it does not."""
        if not wa_id.endswith("@lid"):
            return ""
        try:
            entry = self._wpp("resolve", wa_id)
        except CallFailed as exc:
            self.log.info("lid not resolved", extra={"event": "lid_unresolved", "error": str(exc)[:200]})
            return ""
        return events.phone_of((entry or {}).get("phone") or "") if isinstance(entry, dict) else ""

    def request_link_code(self, phone: str) -> str:
        """Ask WhatsApp for a pairing code for ``phone`` (digits); later codes come as events."""
        code = self._wpp("linkCode", phone)
        if not isinstance(code, str) or not code:
            raise CallFailed("linkCode: WhatsApp returned no code")
        return code

    def download_media(self, wa_message_id: str) -> bytes:
        """The file of a media message, fetched by WhatsApp Web (wa-js downloadMedia)."""
        data_url = self._wpp("download", wa_message_id)
        if not isinstance(data_url, str) or "," not in data_url:
            raise CallFailed("download: WhatsApp returned no file")
        try:
            return base64.b64decode(data_url.partition(",")[2], validate=True)
        except binascii.Error as exc:
            raise CallFailed("download: the file was not valid base64") from exc

    def mark_read(self, chat_id: str) -> None:
        with contextlib.suppress(CallFailed):  # a receipt not sent is not worth failing over
            self._wpp("markRead", chat_id)

    def send_text(self, recipient: str, text: str) -> events.SentMessage:
        """Hand ``text`` to WhatsApp for ``recipient`` (a number, a LID or a group id).

        Before the first send to a phone number, WhatsApp is asked whether it exists: a
        number not on WhatsApp fails at once, permanently. Returns the new message's id and
        its first ack; later acks arrive as events.
        """
        return self._send(recipient, "sendText", text)

    def send_file(self, recipient: str, file: events.OutgoingFile) -> events.SentMessage:
        """``send_text`` for a file with its caption (wa-js sendFileMessage)."""
        data_url = f"data:{file.mime_type};base64,{base64.b64encode(file.data).decode()}"
        options = {
            "type": "audio" if file.kind == "ptt" else file.kind,
            "isPtt": file.kind == "ptt",
            "caption": file.caption,
            "filename": file.file_name,
            "mimetype": file.mime_type,
        }
        return self._send(recipient, "sendFile", data_url, options)

    def _send(self, recipient: str, call: str, *args: object) -> events.SentMessage:
        self.send_handed_over = False
        chat_id = events.chat_id_for(recipient)
        if chat_id.endswith("@c.us") and chat_id not in self._known_numbers:
            try:
                found = self._wpp("exists", chat_id)
            except CallFailed as exc:
                raise SendError(f"could not check the number: {exc}") from exc
            if not found:
                raise InvalidNumber("this number is not on WhatsApp")
            self._known_numbers.add(chat_id)
        self.send_handed_over = True
        try:
            sent = self._wpp(call, chat_id, *args)
        except CallFailed as exc:
            raise SendError(str(exc)) from exc
        if not isinstance(sent, dict) or not sent.get("id"):
            raise SendUnconfirmed("WhatsApp took the message but returned no id")
        ack = sent.get("ack")
        return events.SentMessage(wa_message_id=sent["id"], ack=ack if isinstance(ack, int) else 0)

    def take_over(self) -> None:
        """ "Use here": take the session back from the other window."""
        self._wpp("takeOver")

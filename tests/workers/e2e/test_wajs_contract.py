"""The worker's contract with wa-js (workers/whatsapp/contract.py) against the pinned package.

The real ``wppconnect-wa.js`` is injected into a blank page in headless Chromium, the way the
worker injects it into WhatsApp Web; without WhatsApp's modules it still builds the whole
``WPP`` namespace, so every function, property and event the worker uses can be looked up.
The ``.d.ts`` declarations shipped beside it say which parameters each function takes.
"""

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver

from tests.helpers.browser import browser_session
from workers.whatsapp import contract, wajs

# WhatsApp's own modules (WPP.whatsapp.*) are found by wa-js only in a real WhatsApp page:
# reading one on a blank page starts a search that cannot succeed, so only its key is checked.
RUNTIME_NAMESPACE = "whatsapp"

# Walks window.WPP by dotted paths and says what each one is, without reading the members
# of WhatsApp's own modules (an own key of WPP.whatsapp is "runtime").
KINDS_JS = """
const [paths, runtimeNamespace] = arguments;
const kinds = {};
for (const path of paths) {
  let value = window.WPP;
  let kind = null;
  const parts = path.split('.');
  for (const [i, part] of parts.entries()) {
    if (value === undefined || value === null) { kind = 'missing'; break; }
    if (i > 0 && parts[i - 1] === runtimeNamespace && value === window.WPP[runtimeNamespace]) {
      kind = Object.getOwnPropertyDescriptor(value, part) ? 'runtime' : 'missing';
      break;
    }
    value = value[part];
  }
  kinds[path] = kind || (value === undefined ? 'missing' : typeof value);
}
return kinds;
"""

# A policy like WhatsApp Web's (no inline or foreign scripts), bypassed over CDP as the worker
# does, so the page the file runs in is set up like the real one.
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "script-src 'self'"}


class _BlankPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        for name, value in PAGE_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>blank</title><body></body>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def blank_page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BlankPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    with browser_session(tmp_path_factory.mktemp("wajs-contract")) as driver:
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        yield driver


@pytest.fixture
def blank_page(chromium: webdriver.Chrome, blank_page_url: str) -> webdriver.Chrome:
    """The browser on a fresh blank page, with no WPP yet."""
    chromium.get(blank_page_url)
    return chromium


def inject(driver: webdriver.Chrome, wa_js_file: Path) -> None:
    driver.execute_script(wa_js_file.read_text(encoding="utf-8"))


def page_problems(driver: webdriver.Chrome, dist_dir: Path) -> list[str]:
    """What the contract names that the WPP built by ``dist_dir``'s file lacks."""
    inject(driver, dist_dir / "wppconnect-wa.js")
    kinds = kinds_in_page(driver, [*contract.FUNCTIONS, *contract.PROPERTIES])
    # A runtime name's key is all a blank page can show; declaration_problems checks the rest.
    problems = [
        f"{path} is not a function in WPP"
        for path in contract.FUNCTIONS
        if kinds[path] not in ("function", "runtime")
    ]
    problems += [f"{name} is missing from WPP" for name in contract.PROPERTIES if kinds[name] == "missing"]
    return problems


def declaration_problems(dist_dir: Path) -> list[str]:
    """Where the .d.ts files disagree with the contract: a function or event they don't declare,
    a parameter under another name or in another place, an event the file never emits."""
    problems = []
    for path, passed in contract.FUNCTIONS.items():
        declared = wajs.declared_parameters(dist_dir, path)
        if declared is None:
            problems.append(f"{path} is not declared in the .d.ts files")
        elif list(passed) != declared[: len(passed)]:
            problems.append(
                f"{path} is declared as ({', '.join(declared)}), the worker passes ({', '.join(passed)})"
            )
    events = wajs.declared_events(dist_dir)
    source = (dist_dir / "wppconnect-wa.js").read_text(encoding="utf-8")
    for event in contract.EVENTS:
        if event not in events:
            problems.append(f"event {event} is not declared in the .d.ts files")
        if f'"{event}"' not in source and f"'{event}'" not in source:
            problems.append(f"event {event} is never emitted by wppconnect-wa.js")
    return problems


def contract_problems(driver: webdriver.Chrome, dist_dir: Path) -> list[str]:
    return page_problems(driver, dist_dir) + declaration_problems(dist_dir)


def kinds_in_page(driver: webdriver.Chrome, paths: list[str]) -> dict[str, str]:
    return driver.execute_script(KINDS_JS, paths, RUNTIME_NAMESPACE)


@pytest.mark.browser
def test_it_finds_everything_the_worker_uses_in_the_pinned_wa_js(blank_page: webdriver.Chrome) -> None:
    assert contract_problems(blank_page, wajs.DIST_DIR) == []
    # The file the test injected is the pinned one.
    assert blank_page.execute_script("return window.WPP.version") == wajs.wa_js_version()


@pytest.mark.browser
def test_it_checks_whatsapps_own_modules_by_key_only(blank_page: webdriver.Chrome) -> None:
    inject(blank_page, wajs.DIST_DIR / "wppconnect-wa.js")
    kinds = kinds_in_page(blank_page, ["whatsapp.Socket.takeover", "whatsapp.NoSuchModule.takeover"])
    assert kinds == {"whatsapp.Socket.takeover": "runtime", "whatsapp.NoSuchModule.takeover": "missing"}
    assert wajs.declared_parameters(wajs.DIST_DIR, "whatsapp.Socket.takeover") == []


@pytest.mark.browser
def test_it_reports_a_function_removed_from_wa_js(blank_page: webdriver.Chrome, tmp_path: Path) -> None:
    dist = shutil.copytree(wajs.DIST_DIR, tmp_path / "dist")
    # Gone from the file's export map and from its declaration, as in a release that drops it.
    bundle = dist / "wppconnect-wa.js"
    export = 'Object.defineProperty(t,"sendTextMessage",'
    assert bundle.read_text(encoding="utf-8").count(export) == 1
    bundle.write_text(
        bundle.read_text(encoding="utf-8").replace(export, export.replace("sendText", "sendPlain"))
    )
    declaration = dist / "chat" / "functions" / "sendTextMessage.d.ts"
    declaration.write_text(
        declaration.read_text(encoding="utf-8").replace(" sendTextMessage(", " sendPlainMessage(")
    )

    assert contract_problems(blank_page, dist) == [
        "chat.sendTextMessage is not a function in WPP",
        "chat.sendTextMessage is not declared in the .d.ts files",
    ]


def test_it_reports_a_renamed_parameter(tmp_path: Path) -> None:
    dist = shutil.copytree(wajs.DIST_DIR, tmp_path / "dist", ignore=shutil.ignore_patterns("*.js"))
    shutil.copy(wajs.DIST_DIR / "wppconnect-wa.js", dist)
    declaration = dist / "chat" / "functions" / "markIsRead.d.ts"
    declaration.write_text(declaration.read_text(encoding="utf-8").replace("(chatId", "(chat"))

    assert declaration_problems(dist) == ["chat.markIsRead is declared as (chat), the worker passes (chatId)"]


def test_it_follows_renaming_re_exports_to_the_declaration() -> None:
    # contact.queryExists is `export { queryWidExists as queryExists } from './queryWidExists'`.
    assert wajs.declared_parameters(wajs.DIST_DIR, "contact.queryExists") == ["contactId"]
    assert wajs.declared_parameters(wajs.DIST_DIR, "contact.noSuchFunction") is None
    assert "chat.new_message" in wajs.declared_events(wajs.DIST_DIR)


def test_it_names_the_install_command_when_wa_js_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(wajs, "WA_JS_PATH", tmp_path / "wppconnect-wa.js")
    wajs.wa_js_source.cache_clear()
    try:
        with pytest.raises(wajs.WaJsMissing, match=r"make node_modules/\.installed.*npm ci --ignore-scripts"):
            wajs.wa_js_source()
    finally:
        wajs.wa_js_source.cache_clear()


def test_it_reads_the_pinned_version() -> None:
    pinned = json.loads((wajs.PROJECT_DIR / "package.json").read_text(encoding="utf-8"))
    assert wajs.wa_js_version() == pinned["dependencies"][contract.WA_JS_PACKAGE]

"""HTTP server of the WhatsApp Web simulator: the page, its JSON API and the control API.

Page (what the worker sees; the session is the `wa_sim_sid` cookie, kept a year)
  GET  /, /send?phone=&text=, /?post_logout=1   the single-page app
  GET  /sim/static/<file>                        its assets
  POST /sim/api/boot {"post_logout"}             page load: loading view, fresh QR round
  GET  /sim/api/state?chat=<id>&after=<seq>&feed=<seq>
                                                 what to render (the open chat's messages changed
                                                 after `after`; with `feed`, every chat's)
  POST /sim/api/open-chat {"phone"}  /read {"chat"}  /send {"chat","text","id"}
  POST /sim/api/qr-reload  /use-here  /logout
  POST /sim/api/link-code {"phone"}              a pairing code for that phone ({"code"})
  GET  /sim/api/query-exists?id=  /pn-lid?id=    number check; lid <-> phone pair
  GET  /sim/api/hang-wait                        blocks while frozen in "hang" mode
  Chat ids: digits or <digits>@c.us (a person), <digits>-<digits>@g.us or <18 digits>@g.us
  (a group), <digits>@lid (a person whose number is hidden).

The page defines `window.WPP`, a double of wa-js for exactly the names in
workers/whatsapp/contract.py, on top of this API (static/app.js).

Control (tests, demos; <ref> is a session id or `phone:<digits>`)
  GET  /sim/control/                             clickable control page
  GET  /sim/control/sessions                     {"sessions": [session, ...]}
  GET  /sim/control/sessions/<ref>               session
  GET  /sim/control/sessions/<ref>/sent          what the page sent, flat and per chat
  POST /sim/control/link {"qr","phone"}          link the session showing that QR (404 if none)
  POST /sim/control/link-code {"code"}           link the session showing that pairing code to the
                                                 phone it was asked for (404 if none or expired)
  POST /sim/control/sessions/<ref>/expire-qr | conflict | phone-offline |
       phone-online | logout | freeze {"mode": "stale"|"hang"} | unfreeze
  POST /sim/control/sessions/<ref>/incoming {"from","text","name"?,"id"?,"duplicate"?,
       "group"? (a group id; "from" is the participant), "lid"? (the sender is <lid>@lid;
       "from", optional, the phone it resolves to), "quoted"? (a message id),
       "status"? (true: a status@broadcast post)}
  POST /sim/control/sessions/<ref>/tos-block | deprecated-version | unblock   stream modes
  POST /sim/control/sessions/<ref>/acks {"mode": "server"|"device"|"read"|"never"}
                                                 how far new sends go by themselves (default device)
  POST /sim/control/sessions/<ref>/ack {"id", "ack": -1..4}   one sent message's ack
  GET|POST /sim/control/invalid-numbers {"numbers": [...]}

Frozen: "stale" keeps the page polling but applying nothing (the DOM stops changing,
clicks on chats do nothing, sends stay pending until unfrozen); "hang" blocks the
page's main thread, so WebDriver reads and scripts wait until unfrozen.
Errors are JSON `{"error": "..."}` with 400, 404 or 409; never a traceback page.
"""

import json
import logging
import mimetypes
import re
import signal
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from workers.simulator.session import SessionConfig
from workers.simulator.state import BadRequest, NotFound, SimulatorError, SimulatorState

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE_NAME = "wa_sim_sid"
SESSION_HEADER = "X-WA-Sim-Session"
COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_BODY_BYTES = 24 * 1024 * 1024  # a 16 MB file, base64-encoded
# A page frozen in "hang" mode re-asks at this interval, so a closed server
# or an unfreeze never leaves a request blocked for long.
HANG_WAIT_SECONDS = 5.0
PHONE_REF = re.compile(r"phone:[^/]*")
SESSION_ROUTE = re.compile(r"^/sim/control/sessions/(?P<ref>[^/]+)(?:/(?P<action>[a-z-]+))?$")


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        self.state = state
        super().__init__(address, SimulatorHandler)

    def server_close(self) -> None:
        self.state.close()
        super().server_close()


class SimulatorHandler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    server_version = "WhatsAppWebSimulator/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("simulator request", extra={"method": self.command, "path": self._log_path()})

    def _log_path(self) -> str:
        # No query string (phone and text of /send) and no `phone:<digits>` refs in logs.
        return PHONE_REF.sub("phone:<redacted>", self._path())

    # --- dispatch ----------------------------------------------------------

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _query(self) -> dict[str, str]:
        query = parse_qs(urlsplit(self.path).query)
        return {key: values[-1] for key, values in query.items()}

    def _dispatch(self, method: str) -> None:
        self._body: dict | None = None
        self._set_cookie = False
        try:
            self._route(method, self._path())
        except SimulatorError as error:
            self._send_json({"error": error.message}, status=error.status)
        except (BrokenPipeError, ConnectionResetError):
            # The browser went away mid-request (killed, or a page that hung): nothing to answer.
            logger.debug("simulator client went away", extra={"path": self._log_path()})
        except Exception:
            logger.exception("simulator request failed", extra={"path": self._log_path()})
            self._send_json({"error": "internal simulator error"}, status=500)

    def _route(self, method: str, path: str) -> None:
        if path in ("/", "/send") and method == "GET":
            self._send_page("index.html")
        elif path.startswith("/sim/static/") and method == "GET":
            self._send_static(path.removeprefix("/sim/static/"))
        elif path == "/favicon.ico":
            self._send_bytes(b"", "image/x-icon", status=204)
        elif path.startswith("/sim/api/"):
            self._route_page_api(method, path.removeprefix("/sim/api/"))
        elif path in ("/sim/control", "/sim/control/") and method == "GET":
            self._send_bytes((STATIC_DIR / "control.html").read_bytes(), "text/html")
        elif path.startswith("/sim/control/"):
            self._route_control(method, path)
        else:
            raise NotFound("no such page")

    # --- page --------------------------------------------------------------

    def _page_session(self) -> str:
        # The page keeps its session id in IndexedDB too, as WhatsApp keeps its keys: unlike
        # the cookie jar, which Chromium writes out every 30 s, IndexedDB is on disk as soon
        # as a write commits, so a browser killed right after a login still has it.
        stored = self.headers.get(SESSION_HEADER) or None
        session_id, created = self.server.state.page_session(stored or self._cookie_session())
        self._set_cookie = created or (stored is not None and stored != self._cookie_session())
        return session_id

    def _cookie_session(self) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(COOKIE_NAME)
        return morsel.value if morsel else None

    def _cookie_header(self, session_id: str) -> tuple[str, str]:
        # A year, so a browser profile restarted later is the same, still linked, session.
        value = f"{COOKIE_NAME}={session_id}; Max-Age={COOKIE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax"
        return ("Set-Cookie", value)

    def _send_page(self, name: str) -> None:
        session_id = self._page_session()
        body = (STATIC_DIR / name).read_bytes()
        self._send_bytes(body, "text/html", headers=[self._cookie_header(session_id)])

    def _send_static(self, name: str) -> None:
        allowed = {path.name for path in STATIC_DIR.iterdir() if path.is_file()}
        if name not in allowed:
            raise NotFound("no such asset")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self._send_bytes((STATIC_DIR / name).read_bytes(), content_type)

    def _route_page_api(self, method: str, action: str) -> None:
        if (method, action) == ("GET", "media"):  # downloadMedia: the file itself, not JSON
            found = self.server.state.media_of(self._page_session(), self._query().get("id"))
            self._send_bytes(found.data, found.mimetype or "application/octet-stream")
            return
        handlers: dict[tuple[str, str], Callable[[str], dict]] = {
            ("POST", "boot"): self._api_boot,
            ("GET", "state"): self._api_state,
            ("POST", "open-chat"): lambda sid: self.server.state.open_chat(
                sid, self._json_body().get("phone")
            ),
            ("POST", "read"): lambda sid: self.server.state.mark_read(sid, self._json_body().get("chat")),
            ("POST", "send"): self._api_send,
            ("POST", "qr-reload"): self.server.state.reload_qr,
            ("POST", "use-here"): self.server.state.use_here,
            ("POST", "logout"): self.server.state.page_logout,
            ("POST", "link-code"): lambda sid: self.server.state.start_link_code(
                sid, self._json_body().get("phone")
            ),
            ("GET", "query-exists"): lambda sid: self.server.state.query_exists(self._query().get("id")),
            ("GET", "pn-lid"): lambda sid: self.server.state.pn_lid_entry(self._query().get("id")),
            ("GET", "hang-wait"): lambda sid: {
                "hung": self.server.state.wait_while_hung(sid, HANG_WAIT_SECONDS)
            },
        }
        handler = handlers.get((method, action))
        if handler is None:
            raise NotFound("no such page API route")
        session_id = self._page_session()
        headers = [self._cookie_header(session_id)] if self._set_cookie else []
        self._send_json(handler(session_id), headers=headers)

    def _api_boot(self, session_id: str) -> dict:
        post_logout = bool(self._json_body().get("post_logout"))
        return {**self.server.state.boot(session_id, post_logout=post_logout), "session_id": session_id}

    def _api_state(self, session_id: str) -> dict:
        query = self._query()
        after, feed = query.get("after", "0"), query.get("feed")
        if not after.isdigit() or (feed is not None and not feed.isdigit()):
            raise BadRequest("after and feed must be non-negative integers")
        return self.server.state.page_state(
            session_id,
            open_chat=query.get("chat"),
            after=int(after),
            feed_after=int(feed) if feed is not None else None,
        )

    def _api_send(self, session_id: str) -> dict:
        body = self._json_body()
        return self.server.state.page_send(
            session_id,
            chat=body.get("chat"),
            text=body.get("text"),
            msg_id=body.get("id"),
            media=body.get("media"),
        )

    # --- control -----------------------------------------------------------

    def _route_control(self, method: str, path: str) -> None:
        state = self.server.state
        if path == "/sim/control/sessions" and method == "GET":
            self._send_json({"sessions": state.sessions()})
        elif path == "/sim/control/link" and method == "POST":
            body = self._json_body()
            result = state.link(body.get("qr"), body.get("phone"))
            self._control_done("link", result)
        elif path == "/sim/control/link-code" and method == "POST":
            self._control_done("link-code", state.link_by_code(self._json_body().get("code")))
        elif path == "/sim/control/invalid-numbers" and method == "GET":
            self._send_json({"numbers": state.invalid_numbers()})
        elif path == "/sim/control/invalid-numbers" and method == "POST":
            numbers = state.set_invalid_numbers(self._json_body().get("numbers"))
            logger.info("simulator control action", extra={"action": "invalid-numbers"})
            self._send_json({"numbers": numbers})
        elif match := SESSION_ROUTE.match(path):
            self._route_session(method, match["ref"], match["action"] or "")
        else:
            raise NotFound("no such control route")

    def _route_session(self, method: str, ref: str, action: str) -> None:
        state = self.server.state
        if method == "GET" and action in ("", "sent"):
            self._send_json(state.describe(ref) if not action else state.sent(ref))
            return
        if method == "GET" and action == "media":  # a file the worker sent, for the control page
            found = state.sent_media(ref, self._query().get("id"))
            self._send_bytes(
                found.data, "application/octet-stream", headers=[("Content-Disposition", "attachment")]
            )
            return
        actions: dict[str, Callable[[], dict]] = {
            "expire-qr": lambda: state.expire_qr(ref),
            "incoming": lambda: self._control_incoming(ref),
            "group-change": lambda: state.group_change(
                ref,
                group=self._json_body().get("group"),
                action=self._json_body().get("action"),
                participants=self._json_body().get("participants"),
                name=self._json_body().get("name"),
            ),
            "conflict": lambda: state.set_conflict(ref),
            "phone-offline": lambda: state.set_phone_offline(ref, True),
            "phone-online": lambda: state.set_phone_offline(ref, False),
            "logout": lambda: state.logout(ref),
            "freeze": lambda: state.freeze(
                ref,
                self._json_body().get("mode", "stale"),
                until_reload=self._json_body().get("until_reload", False),
            ),
            "unfreeze": lambda: state.unfreeze(ref),
            "grow-heap": lambda: state.grow_heap(ref, self._json_body().get("mb")),
            "tos-block": lambda: state.set_block(ref, "TOS_BLOCK"),
            "deprecated-version": lambda: state.set_block(ref, "DEPRECATED_VERSION"),
            "unblock": lambda: state.set_block(ref, None),
            "acks": lambda: state.set_ack_mode(ref, self._json_body().get("mode")),
            "ack": lambda: state.set_message_ack(
                ref, self._json_body().get("id"), self._json_body().get("ack")
            ),
        }
        if method != "POST" or action not in actions:
            raise NotFound("no such control route")
        self._control_done(action, actions[action]())

    def _control_incoming(self, ref: str) -> dict:
        body = self._json_body()
        fields = {"sender": body.get("from"), "msg_id": body.get("id")}
        for name in (
            "text",
            "name",
            "duplicate",
            "group",
            "lid",
            "quoted",
            "status",
            "media",
            "mentions",
            "group_name",
        ):
            if name in body:
                fields[name] = body[name]
        return self.server.state.deliver_incoming(ref, **fields)

    def _control_done(self, action: str, result: dict) -> None:
        logger.info("simulator control action", extra={"action": action, "session_id": result["id"]})
        self._send_json(result)

    # --- I/O ---------------------------------------------------------------

    def _json_body(self) -> dict:
        if self._body is not None:
            return self._body
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise BadRequest(f"body must be JSON of at most {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(int(length)) if int(length) else b"{}"
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest("request body is not valid JSON") from error
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        self._body = body
        return body

    def _send_json(
        self, payload: dict, *, status: int = 200, headers: list[tuple[str, str]] | None = None
    ) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send_bytes(body, "application/json", status=status, headers=headers)

    def _send_bytes(
        self,
        body: bytes,
        content_type: str,
        *,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if content_type.startswith(("text/", "application/j")) else ""
        self.send_header("Content-Type", content_type + charset)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and status != HTTPStatus.NO_CONTENT:
            self.wfile.write(body)


def make_server(
    host: str = "127.0.0.1",
    port: int = 9000,
    *,
    qr_rotate_seconds: float = 20.0,
    qr_max_rotations: int = 6,
    loading_seconds: float = 0.6,
    send_ack_seconds: float = 0.2,
    link_code_seconds: float = 195.0,
) -> ThreadingHTTPServer:
    """Bind the simulator (port 0 picks a free port: read `server.server_address`)."""
    if qr_rotate_seconds <= 0 or qr_max_rotations < 1:
        raise ValueError("qr_rotate_seconds must be > 0 and qr_max_rotations >= 1")
    if loading_seconds < 0 or send_ack_seconds < 0:
        raise ValueError("loading_seconds and send_ack_seconds must be >= 0")
    if link_code_seconds <= 0:
        raise ValueError("link_code_seconds must be > 0")
    config = SessionConfig(
        qr_rotate_seconds=qr_rotate_seconds,
        qr_max_rotations=qr_max_rotations,
        loading_seconds=loading_seconds,
        send_ack_seconds=send_ack_seconds,
        link_code_seconds=link_code_seconds,
    )
    return SimulatorHTTPServer((host, port), SimulatorState(config))


def serve(host: str = "127.0.0.1", port: int = 9000, **options: Any) -> None:
    """Run the simulator until SIGTERM or SIGINT (Ctrl-C), then close it cleanly.

    `options` are `make_server`'s keyword options.
    """
    server = make_server(host, port, **options)
    previous = _stop_on_signals(server)
    bound_host, bound_port = server.server_address[:2]
    logger.info("simulator listening", extra={"host": bound_host, "port": bound_port})
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.server_close()
        logger.info("simulator stopped")


# What signal.signal returns and takes back: a handler, SIG_DFL / SIG_IGN, or None.
_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _stop_on_signals(server: ThreadingHTTPServer) -> dict[int, _SignalHandler]:
    """Make SIGTERM/SIGINT end `serve_forever`; returns the handlers to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever, which runs in this very thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    return {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}

"""How the platform's states read to a shop owner: plain words, no jargon, no internals.

Pure functions and tables only. The dashboard's JavaScript gets the same tables as JSON
(``dashboard_wording``), so the page rendered by the server and the page updated live can
never word the same state differently.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tenants.models import Tenant, WhatsAppSession, WorkerEvent, WorkerProcess

State = WhatsAppSession.State

# Where the state's "since" time goes in a headline (the JS fills it the same way).
SINCE = "{since}"


@dataclass(frozen=True)
class StateWords:
    headline: str
    detail: str
    tone: str  # ok, info, warn, bad or off: the colour the page gives it


STATE_WORDS: dict[str, StateWords] = {
    State.STOPPED: StateWords(
        "Not running — ask us to start it",
        "Your WhatsApp connection is switched off. Send us a request under Setup and we will start it.",
        "off",
    ),
    State.STARTING: StateWords(
        "Starting — this takes a few seconds",
        "We are opening WhatsApp for you. A code to scan appears here if your phone needs linking.",
        "info",
    ),
    State.QR: StateWords(
        "Scan the QR code with your phone",
        "On your phone, open WhatsApp, go to Linked devices, tap Link a device and point the camera "
        "at this code.",
        "info",
    ),
    State.CONNECTED: StateWords(
        "Connected",
        "Your WhatsApp is linked: messages arrive here and replies go out.",
        "ok",
    ),
    State.DEGRADED: StateWords(
        "Connected, but not answering — we are restarting it",
        "Messages may arrive a minute late. Nothing to do on your side.",
        "warn",
    ),
    State.PHONE_UNREACHABLE: StateWords(
        "Your phone is offline — messages will arrive when it's back",
        "Check that your phone is switched on and has internet.",
        "warn",
    ),
    State.DISCONNECTED: StateWords(
        f"Disconnected since {SINCE} — we are reconnecting",
        "Nothing to do on your side: we reconnect by ourselves.",
        "warn",
    ),
    State.CONFLICT: StateWords(
        "WhatsApp is open in another window",
        "WhatsApp Web works in one window at a time. Close it on your computer so we can take over again.",
        "warn",
    ),
    State.LOGGED_OUT: StateWords(
        "Logged out from your phone — scan a new code to link again",
        "This device was removed under Linked devices on your phone. A new code appears here when we "
        "restart the connection.",
        "bad",
    ),
    State.AUTH_FAILURE: StateWords(
        "WhatsApp refused the login — scan a new code to link again",
        "We have been alerted and will start a new login for you.",
        "bad",
    ),
}

# The states as the history names them: short, since the "why" goes beside them.
STATE_NAMES: dict[str, str] = {
    State.STOPPED: "Not running",
    State.STARTING: "Starting",
    State.QR: "Waiting for a code to be scanned",
    State.CONNECTED: "Connected",
    State.DEGRADED: "Not answering, restarting",
    State.PHONE_UNREACHABLE: "Phone offline",
    State.DISCONNECTED: "Disconnected",
    State.CONFLICT: "Open in another window",
    State.LOGGED_OUT: "Logged out from the phone",
    State.AUTH_FAILURE: "Login refused by WhatsApp",
}

WORKER_WORDS: dict[str, str] = {
    WorkerProcess.Status.STARTING: "Starting",
    WorkerProcess.Status.RUNNING: "Running",
    WorkerProcess.Status.STOPPING: "Stopping",
    WorkerProcess.Status.STOPPED: "Not running",
    WorkerProcess.Status.ERROR: "Stopped by a problem — we have been alerted",
}

TENANT_WORDS: dict[str, str] = {
    Tenant.Status.NEW: "New — not linked yet",
    Tenant.Status.ACTIVE: "Active",
    Tenant.Status.ERROR: "Needs attention — we have been alerted",
    Tenant.Status.SUSPENDED: "Suspended — contact us to switch it back on",
}

# The reasons the worker, the stale check and the orchestration record, by how they start.
# Anything else reads as the fallback: raw reasons can name hosts, staff or exceptions.
REASON_WORDS: list[tuple[str, str]] = [
    ("browser lost", "Our browser for WhatsApp stopped responding; we restarted it."),
    ("the chat list stopped answering", "WhatsApp stopped answering; we restarted it."),
    ("browser memory", "Our browser for WhatsApp grew too big; we restarted it."),
    ("no heartbeat", "We stopped hearing from your WhatsApp connection for a while."),
    ("heartbeat resumed", "We heard from your WhatsApp connection again."),
    ("crashed", "It stopped because of a problem on our side; we have been alerted."),
    (
        "QR code not scanned",
        "No code was scanned in time, so we paused. Ask us to start again for new codes.",
    ),
    ("QR code shown", "A code was ready to scan."),
    ("logged out", "This device was logged out from your phone."),
    ("authentication failed", "WhatsApp refused the login."),
    ("WhatsApp is open in another window", "WhatsApp was opened in another window."),
    ("WhatsApp is trying to reach the phone", "WhatsApp could not reach your phone."),
    ("phone reachable again", "Your phone is back online."),
    ("chat list shown", "Your phone is linked and WhatsApp is open."),
    ("session connected", "Your phone is linked and WhatsApp is open."),
    ("opening WhatsApp Web", "We started opening WhatsApp."),
    ("worker process started", "We started your connection."),
    ("start by", "Started by our team."),
    ("restart by", "Restarted by our team."),
    ("stop by", "Stopped by our team."),
    ("stopped by", "Stopped by our team."),
    ("stopped on request", "Stopped by our team."),
]
FALLBACK_REASON = "Something went wrong on our side; we have been alerted."
NO_PROBLEM = "None"

# The QR code's caption; {n}, {max} and {seconds} are filled in by the server and the script.
QR_COUNT = "Code {n} of {max}"
QR_COUNTDOWN = "New code in {seconds} s"
QR_DUE = "A new code is on its way…"


def session_state_words(state: str, since: datetime | None = None) -> StateWords:
    """The headline, detail and tone for a session state; ``since`` is local time."""
    words = STATE_WORDS.get(state) or StateWords(f"Unknown state {state}", "", "off")
    since_text = f"{since:%H:%M}" if since else "a moment ago"
    return StateWords(words.headline.replace(SINCE, since_text), words.detail, words.tone)


def worker_words(status: str) -> str:
    return WORKER_WORDS.get(status, status)


def tenant_words(status: str) -> str:
    return TENANT_WORDS.get(status, status)


def reason_words(reason: str) -> str:
    """A recorded reason or last error in plain words; "" for none."""
    text = reason.strip()
    if not text:
        return ""
    for prefix, words in REASON_WORDS:
        if text.lower().startswith(prefix.lower()):
            return words
    return FALLBACK_REASON


def event_words(event: WorkerEvent) -> str:
    """One timeline entry as a short sentence: what happened."""
    Kind = WorkerEvent.Kind
    if event.kind == Kind.SESSION_STATE:
        return STATE_NAMES.get(event.new_value, event.new_value)
    if event.kind == Kind.WORKER_STATUS:
        return f"Connection process: {worker_words(event.new_value).lower()}"
    if event.kind == Kind.STALE_MARKED:
        return "We stopped hearing from your connection"
    return "A problem was recorded"


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    why: str
    lasted: str  # how long a session state lasted; "" for other entries
    tone: str


def _event_tone(event: WorkerEvent) -> str:
    if event.kind == WorkerEvent.Kind.SESSION_STATE:
        return STATE_WORDS[event.new_value].tone if event.new_value in STATE_WORDS else "off"
    if event.kind == WorkerEvent.Kind.WORKER_STATUS:
        return "bad" if event.new_value == WorkerProcess.Status.ERROR else "off"
    return "bad" if event.kind == WorkerEvent.Kind.STALE_MARKED else "warn"


def timeline_entries(events: list[WorkerEvent], now: datetime) -> list[TimelineEntry]:
    """``events`` (newest first) in plain words; each session state says how long it lasted.

    A state lasts until the next state change; the newest one is still going ("so far").
    """
    entries = []
    ended_at: datetime | None = None
    for event in events:
        lasted = ""
        if event.kind == WorkerEvent.Kind.SESSION_STATE:
            if ended_at is None:
                lasted = f"{duration_words(now - event.created_at)} so far"
            else:
                lasted = duration_words(ended_at - event.created_at)
            ended_at = event.created_at
        entries.append(
            TimelineEntry(
                at=event.created_at,
                what=event_words(event),
                why=reason_words(event.reason),
                lasted=lasted,
                tone=_event_tone(event),
            )
        )
    return entries


def qr_caption(*, count: int, max_count: int, expires_in: int) -> tuple[str, str]:
    """``("Code 2 of 6", "New code in 14 s")``: which code this is and when the next comes."""
    countdown = QR_COUNTDOWN.format(seconds=expires_in) if expires_in > 0 else QR_DUE
    return QR_COUNT.format(n=count, max=max_count), countdown


def duration_words(duration: timedelta) -> str:
    """``42 s``, ``5 min``, ``2 h 5 min``, ``3 d 4 h``: how long a state lasted."""
    seconds = max(int(duration.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 3600:
        return f"{minutes} min"
    if seconds < 86400:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def uptime_words(share: float | None) -> str:
    """``99.5 %`` (or ``100 %``) of the time connected; ``no data yet`` before the first state change."""
    if share is None:
        return "no data yet"
    percent = f"{share * 100:.1f}".removesuffix(".0")
    return f"{percent} %"


def dashboard_wording() -> dict[str, object]:
    """The tables above as JSON for the dashboard's live updates."""
    return {
        "states": {state: vars(words) for state, words in STATE_WORDS.items()},
        "since": SINCE,
        "workers": dict(WORKER_WORDS),
        "tenants": dict(TENANT_WORDS),
        "reasons": REASON_WORDS,
        "fallbackReason": FALLBACK_REASON,
        "noProblem": NO_PROBLEM,
        "qrCount": QR_COUNT,
        "qrCountdown": QR_COUNTDOWN,
        "qrDue": QR_DUE,
    }

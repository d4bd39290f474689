"""How the platform's states read to a shop owner: plain words, no jargon, no internals.

Pure functions and tables only. The dashboard is worded here and rendered by the server
alone: its script asks the status API whether anything changed and then fetches the page
again, so the page can never word the same state two ways.

"We have been alerted" is said only beside what really sends staff an alert: a worker or
tenant status turning ERROR (``tenants.alerts.record_transition``) and the stale check. A
reason alone never says it: the same reason also comes with events that alert nobody.
"""

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from tenants.formatting import percent
from tenants.history import NO_SCAN_WORDS, QR_NOT_SCANNED, in_line_words, uptime_from_events
from tenants.models import (
    Ack,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
    WhatsAppSession,
    WorkerEvent,
    WorkerProcess,
)

State = WhatsAppSession.State
Status = WorkerProcess.Status
Kind = WorkerEvent.Kind

# Where the state's "since" time goes in a headline.
SINCE = "{since}"


@dataclass(frozen=True)
class StateWords:
    headline: str
    detail: str
    tone: str  # ok, info, warn, bad or off: the colour the page gives it


STATE_WORDS: dict[str, StateWords] = {
    State.STOPPED: StateWords(
        "Not running",
        "Your bot is switched off, so messages are not read or answered.",
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
        "This device was removed under Linked devices on your phone. Scan a new code here to link it again.",
        "bad",
    ),
    State.AUTH_FAILURE: StateWords(
        # The tenant turns ERROR with this state, and that alerts staff.
        "WhatsApp refused the login — scan a new code to link again",
        "We have been alerted. Scan a new code here to link your phone again.",
        "bad",
    ),
    State.BLOCKED: StateWords(
        "WhatsApp has blocked this session",
        "WhatsApp refuses this number (its terms of service) or our network. We have been alerted; "
        "the reason is in your timeline.",
        "bad",
    ),
    State.UPDATE_NEEDED: StateWords(
        "WhatsApp asks for a newer version — we are on it",
        "WhatsApp says our version of WhatsApp Web is too old. We have been alerted and will update it.",
        "bad",
    ),
}

# A stopped session reads differently when we know why it stopped.
QR_TIMEOUT_WORDS = StateWords(
    NO_SCAN_WORDS,
    "The codes to link your phone ran out before one was scanned, so we paused. "
    "Press “Show a new code” when your phone is at hand.",
    "warn",
)
SUSPENDED_STOPPED_WORDS = StateWords(
    "Not running — this account is suspended",
    "Your bot is switched off while the account is suspended. Contact us to switch it back on.",
    "off",
)

# The start button's words: a new code when the phone must be linked, else a plain start.
START_LOGIN = "Show a new code"
START_AGAIN = "Start again"
STARTING_LOGIN = "Starting your bot: a code to scan appears here in a few seconds."
STARTING_AGAIN = "Starting your bot again: it says “Connected” here in a few seconds."
START_UNAVAILABLE = (
    "We could not start your bot just now: our side is not answering. Try again in a minute; "
    "if it keeps happening, tell us under Setup."
)
START_FAILED = (
    "We could not start your bot just now. Try again in a minute; if it keeps happening, tell us under Setup."
)
START_SUSPENDED = "This account is suspended, so your bot can't be started. Contact us to switch it back on."
START_RUNNING = "Your bot is already running."
LINK_CODE_ASKED = "WhatsApp is making your pairing code: it shows here in a few seconds."

SUSPENDED_BANNER = (
    "This account is suspended: your bot is switched off and nothing is sent. "
    "You can still read everything here. Contact us to switch it back on."
)
SUSPENDED_SENDING = "This account is suspended: sending is switched off. Contact us to switch it back on."

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
    State.BLOCKED: "Blocked by WhatsApp",
    State.UPDATE_NEEDED: "WhatsApp Web version too old",
}

# The dashboard's "Your bot": the worker process, in the tenant's words.
WORKER_WORDS: dict[str, str] = {
    Status.STARTING: "Starting",
    Status.RUNNING: "Running",
    Status.STOPPING: "Stopping",
    Status.STOPPED: "Not running",
    Status.ERROR: "Stopped by a problem — we have been alerted",
}

# The history's entries for the worker's own status changes.
WORKER_EVENT_WORDS: dict[str, str] = {
    Status.STARTING: "Bot starting",
    Status.RUNNING: "Bot running",
    Status.STOPPING: "Bot stopping",
    Status.STOPPED: "Bot stopped",
    Status.ERROR: "Bot stopped by a problem — we have been alerted",
}
STALE_WORDS = "We stopped hearing from your bot — we have been alerted"
PROBLEM_RECORDED = "A problem was recorded"
# A reload keeps the login; a restart of the browser does too, but takes longer.
MEMORY_WORDS: dict[str, str] = {
    WorkerEvent.MemoryRecovery.PAGE_RELOAD: "WhatsApp reloaded to free memory (still linked)",
    WorkerEvent.MemoryRecovery.BROWSER_RESTART: "Browser restarted to free memory (still linked)",
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
    # Memory entries say what was done (reloaded or restarted); the reason says why.
    ("browser memory", "Our browser for WhatsApp was using too much memory."),
    ("page heap", "WhatsApp's page was using too much memory."),
    ("no heartbeat", "We stopped hearing from your WhatsApp connection for a while."),
    ("heartbeat resumed", "We heard from your WhatsApp connection again."),
    (
        "the previous worker process",
        "Your bot's last run ended suddenly (it was stopped from outside or crashed).",
    ),
    ("crashed", "It stopped because of a problem on our side."),
    (
        QR_NOT_SCANNED,
        "No code was scanned in time, so we paused. Press “Show a new code” on the dashboard for new ones.",
    ),
    ("QR code shown", "A code was ready to scan."),
    ("logged out", "This device was logged out from your phone."),
    ("authentication failed", "WhatsApp refused the login."),
    ("WhatsApp is open in another window", "WhatsApp was opened in another window."),
    ("WhatsApp is trying to reach the phone", "WhatsApp could not reach your phone."),
    ("phone reachable again", "Your phone is back online."),
    ("chat list shown", "Your phone is linked and WhatsApp is open."),
    ("session connected", "Your phone is linked and WhatsApp is open."),
    ("WhatsApp ready", "Your phone is linked and WhatsApp is open."),
    ("opening WhatsApp Web", "We started opening WhatsApp."),
    ("worker process started", "We started your bot."),
    ("start by", "Started from the portal or by our team."),
    ("restart by", "Restarted by our team."),
    ("stop by", "Stopped by our team."),
    ("stopped by", "Stopped by our team."),
    ("stopped on request", "Stopped by our team."),
    ("stopped: the tenant was suspended", "Stopped because your account was suspended."),
    ("suspended by", "Your account was suspended."),
    ("reactivated by", "Your account was switched back on."),
]
FALLBACK_REASON = "Something went wrong."
NO_PROBLEM = "None"

# The QR code's caption; {n}, {max} and {seconds} are filled in by the server and the script.
QR_COUNT = "Code {n} of {max}"
QR_COUNTDOWN = "New code in {seconds} s"
QR_DUE = "A new code is on its way…"


@dataclass(frozen=True)
class Ticks:
    """A sent message's ticks, as WhatsApp draws them on the phone, with words for each."""

    marks: str
    words: str
    kind: str  # pending, sent, delivered, read or error: how the page colours them


TICKS: dict[int | None, Ticks] = {
    None: Ticks("🕓", "Not yet confirmed by WhatsApp", "pending"),
    Ack.PENDING: Ticks("🕓", "Not yet confirmed by WhatsApp", "pending"),
    Ack.SERVER: Ticks("✓", "Sent", "sent"),
    Ack.DEVICE: Ticks("✓✓", "Delivered", "delivered"),
    Ack.READ: Ticks("✓✓", "Read", "read"),
    Ack.PLAYED: Ticks("✓✓", "Played", "read"),
    Ack.ERROR: Ticks("!", "WhatsApp could not send it", "error"),
}


def ticks(ack: int | None) -> Ticks:
    return TICKS.get(ack, TICKS[None])


def session_state_words(state: str, since: datetime | None = None) -> StateWords:
    """The headline, detail and tone for a session state; ``since`` is local time."""
    words = STATE_WORDS.get(state) or StateWords(f"Unknown state {state}", "", "off")
    since_text = f"{since:%H:%M}" if since else "a moment ago"
    return StateWords(words.headline.replace(SINCE, since_text), words.detail, words.tone)


def dashboard_state_words(
    state: str, *, since: datetime | None, no_scan: bool, suspended: bool, start_position: int | None = None
) -> StateWords:
    """The dashboard's headline: a stopped session says why, when that is for the tenant to act
    on; a starting one, its place in line when the server is opening several at once."""
    if state == State.STARTING and start_position:
        return StateWords(
            f"{in_line_words(start_position)} — this takes a little longer",
            "The server is opening several WhatsApp sessions at once, a few at a time so each "
            "opens quickly. Yours opens as soon as the ones before it have.",
            "info",
        )
    if state == State.STOPPED and suspended:
        return SUSPENDED_STOPPED_WORDS
    if state == State.STOPPED and no_scan:
        return QR_TIMEOUT_WORDS
    return session_state_words(state, since=since)


def start_words(*, needs_login: bool) -> tuple[str, str]:
    """The start button's label and the message once pressed."""
    return (START_LOGIN, STARTING_LOGIN) if needs_login else (START_AGAIN, STARTING_AGAIN)


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


def moment_words(at: datetime, now: datetime) -> str:
    """``today at 10:42``, ``yesterday at 10:42``, ``on Mon 3 Nov at 10:42`` (local times)."""
    days = (now.date() - at.date()).days
    if days == 0:
        return f"today at {at:%H:%M}"
    if days == 1:
        return f"yesterday at {at:%H:%M}"
    return f"on {at:%a} {at.day} {at:%b} at {at:%H:%M}"


@dataclass(frozen=True)
class ProblemWords:
    term: str  # "Last problem", or "Last problem (resolved)" once it is past
    what: str
    when: str  # "" when the time is not known
    resolved: bool = False


def problem_words(reason: str, *, at: datetime | None, now: datetime, resolved: bool) -> ProblemWords:
    """The dashboard's last problem; ``at`` and ``now`` are local times."""
    if not reason.strip():
        return ProblemWords("Last problem", NO_PROBLEM, "")
    term = "Last problem (resolved)" if resolved else "Last problem"
    return ProblemWords(term, reason_words(reason), moment_words(at, now) if at else "", resolved)


# --- The history ---------------------------------------------------------------------------

# A worker status change recorded with a session state change of the same meaning, this close
# in time, is the same happening told twice (the worker writes both, a browser quit apart).
MERGE_WINDOW = timedelta(seconds=60)
SAME_MEANING: dict[str, frozenset[str]] = {
    Status.STARTING: frozenset({State.STARTING}),
    Status.RUNNING: frozenset({State.CONNECTED}),
    Status.STOPPING: frozenset({State.STOPPED}),
    Status.STOPPED: frozenset({State.STOPPED}),
    # A crash stops the session too: one entry, worded as the crash.
    Status.ERROR: frozenset({State.STOPPED}),
}


def event_words(event: WorkerEvent) -> str:
    """One timeline entry as a short sentence: what happened."""
    if event.kind == Kind.SESSION_STATE:
        return STATE_NAMES.get(event.new_value, event.new_value)
    if event.kind == Kind.WORKER_STATUS:
        return WORKER_EVENT_WORDS.get(event.new_value, event.new_value)
    if event.kind == Kind.STALE_MARKED:
        return STALE_WORDS
    if event.kind == Kind.MEMORY:
        return MEMORY_WORDS.get(event.new_value, PROBLEM_RECORDED)
    return PROBLEM_RECORDED


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    why: str
    lasted: str  # how long a session state lasted; "" for other entries
    tone: str


def _event_tone(event: WorkerEvent) -> str:
    if event.kind == Kind.SESSION_STATE:
        return STATE_WORDS[event.new_value].tone if event.new_value in STATE_WORDS else "off"
    if event.kind == Kind.WORKER_STATUS:
        tones: dict[str, str] = {Status.ERROR: "bad", Status.RUNNING: "ok"}
        return tones.get(event.new_value, "off")
    return "bad" if event.kind == Kind.STALE_MARKED else "warn"


def _means_the_same(event: WorkerEvent, state_change: WorkerEvent) -> bool:
    if event.kind == Kind.WORKER_STATUS:
        return state_change.new_value in SAME_MEANING.get(event.new_value, frozenset())
    # A recorded error with the state change's own reason (a logout, a refused login).
    return event.kind == Kind.ERROR and bool(event.reason) and event.reason == state_change.reason


def _companion(event: WorkerEvent, state_changes: list[WorkerEvent]) -> WorkerEvent | None:
    """The session state change that ``event`` only accompanies, if any: the nearest in time."""
    if event.kind not in (Kind.WORKER_STATUS, Kind.ERROR):
        return None
    near = [
        change
        for change in state_changes
        if abs(change.created_at - event.created_at) <= MERGE_WINDOW and _means_the_same(event, change)
    ]
    return min(near, key=lambda change: abs(change.created_at - event.created_at), default=None)


def _merge(events: list[WorkerEvent]) -> tuple[list[WorkerEvent], dict[int, WorkerEvent]]:
    """The events that get an entry, and the crashes that word the state change they came with."""
    state_changes = [event for event in events if event.kind == Kind.SESSION_STATE]
    kept, crashes = [], {}
    for event in events:
        companion = _companion(event, state_changes)
        if companion is None:
            kept.append(event)
        elif event.kind == Kind.WORKER_STATUS and event.new_value == Status.ERROR:
            crashes[id(companion)] = event
    return kept, crashes


def timeline_entries(events: list[WorkerEvent], now: datetime) -> list[TimelineEntry]:
    """``events`` (newest first) in plain words, one entry per thing that happened.

    Each session state says how long it lasted: until the next state change, the newest one
    still going ("so far").
    """
    kept, crashes = _merge(events)
    entries = []
    ended_at: datetime | None = None
    for event in kept:
        lasted = ""
        if event.kind == Kind.SESSION_STATE:
            if ended_at is None:
                lasted = f"{duration_words(now - event.created_at)} so far"
            else:
                lasted = duration_words(ended_at - event.created_at)
            ended_at = event.created_at
        words = crashes.get(id(event), event)
        entries.append(
            TimelineEntry(
                at=event.created_at,
                what=event_words(words),
                why=reason_words(words.reason),
                lasted=lasted,
                tone=_event_tone(words),
            )
        )
    return entries


# --- Uptime --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    tone: str
    width: float  # percent of the strip
    title: str


@dataclass(frozen=True)
class UptimeStrip:
    label: str
    value: str
    segments: list[Segment]
    since: datetime | None  # set while the period is not over yet: the first recorded state


def _segment(state: str, start: datetime, end: datetime, observed: timedelta) -> Segment:
    first, last = timezone.localtime(start), timezone.localtime(end)
    title = (
        f"{STATE_NAMES.get(state, state)}: {first:%a} {first.day} {first:%b} {first:%H:%M} to "
        f"{last:%a} {last.day} {last:%b} {last:%H:%M} ({duration_words(end - start)})"
    )
    tone = STATE_WORDS[state].tone if state in STATE_WORDS else "off"
    return Segment(tone=tone, width=round((end - start) / observed * 100, 2), title=title)


def uptime_strip(
    *,
    before: str | None,
    changes: list[tuple[datetime, str]],
    start: datetime,
    now: datetime,
    period: str,
) -> UptimeStrip | None:
    """The session's states from ``start`` to ``now`` as segments of a strip, and the share connected.

    Read as ``tenants.history.uptime_from_events`` reads it (``before``: the state before
    ``start``; ``changes``: (time, state) from it, oldest first), so the number is the admin's;
    time before the first recorded state is not drawn and doesn't count. None: no data yet.
    """
    if before is None and not changes:
        return None
    observed_from = start if before is not None else changes[0][0]
    observed = now - observed_from
    if observed <= timedelta():
        return None
    bounds = [(observed_from, before), *changes, (now, None)]
    segments = [
        _segment(state, moment, following, observed)
        for (moment, state), (following, _) in itertools.pairwise(bounds)
        if state is not None and following > moment
    ]
    since = observed_from if before is None else None
    local = timezone.localtime(since) if since else None
    label = f"Connected since {local:%a} {local.day} {local:%b}, {local:%H:%M}" if local else period
    value = uptime_words(uptime_from_events(before, changes, start, now))
    return UptimeStrip(label=label, value=value, segments=segments, since=since)


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
    """``99.5 %`` of the time connected, as the admin says it; ``no data yet`` before any state."""
    return "no data yet" if share is None else percent(share)


def dashboard_wording() -> dict[str, object]:
    """The QR caption's words for the dashboard's script, which turns the codes live."""
    return {"qrCount": QR_COUNT, "qrCountdown": QR_COUNTDOWN, "qrDue": QR_DUE}


# --- Webhooks ------------------------------------------------------------------------------

Delivery = WebhookDelivery.State
# The deliveries filter: the state's name in the URL (``?state=dead``) and in words.
DELIVERY_FILTER_WORDS: dict[str, str] = {
    Delivery.PENDING: "Waiting",
    Delivery.RETRYING: "Failed, retrying",
    Delivery.SUCCEEDED: "Delivered",
    Delivery.DEAD: "Gave up",
}
DELIVERY_TONES: dict[str, str] = {
    Delivery.PENDING: "info",
    Delivery.RETRYING: "warn",
    Delivery.SUCCEEDED: "ok",
    Delivery.DEAD: "bad",
}


@dataclass(frozen=True)
class ToneWords:
    words: str
    tone: str  # ok, info, warn, bad or off


def clock_words(at: datetime, now: datetime) -> str:
    """``14:05`` today, ``Tue 3 Nov, 14:05`` on another day (local times)."""
    if at.date() == now.date():
        return f"{at:%H:%M}"
    return f"{at:%a} {at.day} {at:%b}, {at:%H:%M}"


def delivery_state_words(delivery: WebhookDelivery, now: datetime) -> ToneWords:
    """``Waiting``, ``Failed, retrying at 14:05``, ``Delivered`` or ``Gave up``."""
    tone = DELIVERY_TONES.get(delivery.state, "off")
    if getattr(delivery, "behind_earlier", False):
        # The claim's order rule: nothing is stuck, it goes once the earlier one has.
        return ToneWords("Waiting for an earlier event of its chat", tone)
    if delivery.state == Delivery.RETRYING:
        at = clock_words(timezone.localtime(delivery.next_attempt_at), timezone.localtime(now))
        return ToneWords(f"Failed, retrying at {at}", tone)
    return ToneWords(DELIVERY_FILTER_WORDS.get(delivery.state, delivery.state), tone)


def delivery_result_words(delivery: WebhookDelivery) -> str:
    """What the receiver last answered: ``HTTP 500``, the error, or ``—`` before any attempt."""
    if delivery.last_status_code is not None:
        return f"HTTP {delivery.last_status_code}"
    return delivery.last_error or "—"


def endpoint_state_words(endpoint: WebhookEndpoint) -> ToneWords:
    """Sending, switched off by the tenant, or paused by us after failing (its reason shown beside)."""
    if not endpoint.enabled:
        return ToneWords("Disabled by you", "off")
    if endpoint.paused_at is not None:
        return ToneWords("Paused after failing", "bad")
    return ToneWords("Enabled", "ok")


def event_types_words(event_types: list[str], all_types: list[str]) -> str:
    """``All events``, or the names subscribed to."""
    if set(all_types) <= set(event_types):
        return "All events"
    return ", ".join(event_types) or "None"

import json
from datetime import UTC, datetime, timedelta

import pytest

from portal import wording
from tenants.models import Tenant, WhatsAppSession, WorkerEvent, WorkerProcess

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", WhatsAppSession.State.values)
def test_it_words_every_session_state_for_a_person(state):
    words = wording.session_state_words(state, since=datetime(2026, 11, 29, 10, 42))
    assert words.headline and words.detail
    assert words.tone in {"ok", "info", "warn", "bad", "off"}
    assert not words.headline.startswith("Unknown state")
    assert "{since}" not in words.headline
    assert wording.STATE_NAMES[state]


@pytest.mark.parametrize("status", WorkerProcess.Status.values)
def test_it_words_every_worker_status(status):
    assert wording.worker_words(status) != status


@pytest.mark.parametrize("status", Tenant.Status.values)
def test_it_words_every_tenant_status(status):
    assert wording.tenant_words(status) != status


def test_it_says_what_the_owner_should_do_in_the_states_that_need_them():
    State = WhatsAppSession.State
    assert wording.session_state_words(State.QR).headline == "Scan the QR code with your phone"
    assert "Linked devices" in wording.session_state_words(State.QR).detail
    assert wording.session_state_words(State.CONNECTED).headline == "Connected"
    # The tenant starts it from the dashboard: nobody needs to be asked.
    assert wording.session_state_words(State.STOPPED).headline == "Not running"
    assert (
        wording.session_state_words(State.PHONE_UNREACHABLE).headline
        == "Your phone is offline — messages will arrive when it's back"
    )
    assert "scan a new code" in wording.session_state_words(State.LOGGED_OUT).headline


def test_it_says_since_when_a_session_is_disconnected():
    words = wording.session_state_words("DISCONNECTED", since=datetime(2026, 11, 29, 10, 42))
    assert words.headline == "Disconnected since 10:42 — we are reconnecting"


def test_it_turns_recorded_reasons_into_plain_words_and_hides_internals():
    assert wording.reason_words("") == ""
    assert "logged out" in wording.reason_words("logged out from the phone; scan a new QR code")
    assert wording.reason_words("browser lost: chrome not reachable").startswith("Our browser")
    crash = wording.reason_words("crashed: KeyError: 'secret-host.internal'")
    assert "KeyError" not in crash and "secret-host" not in crash
    assert wording.reason_words("stopped by staff@platform.test") == "Stopped by our team."
    assert wording.reason_words("something nobody wrote down") == wording.FALLBACK_REASON


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (42, "42 s"),
        (300, "5 min"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (86400 * 3 + 3600 * 4, "3 d 4 h"),
    ],
)
def test_it_says_how_long_a_state_lasted(seconds, words):
    assert wording.duration_words(timedelta(seconds=seconds)) == words


def test_it_shows_uptime_as_a_percentage_or_no_data():
    assert wording.uptime_words(None) == "no data yet"
    assert wording.uptime_words(0.995) == "99.5 %"
    assert wording.uptime_words(0.0) == "0.0 %"


def event(kind: str, new: str, minutes_ago: int, reason: str = "") -> WorkerEvent:
    return WorkerEvent(
        kind=kind, new_value=new, reason=reason, created_at=NOW - timedelta(minutes=minutes_ago)
    )


def test_it_tells_how_long_each_state_lasted_newest_still_going():
    Kind = WorkerEvent.Kind
    events = [  # newest first, as the timeline gives them
        event(Kind.SESSION_STATE, "CONNECTED", 10, "phone reachable again"),
        event(Kind.ERROR, "", 30, "WhatsApp is open in another window"),
        event(Kind.SESSION_STATE, "PHONE_UNREACHABLE", 40, "WhatsApp is trying to reach the phone"),
        event(Kind.SESSION_STATE, "CONNECTED", 160, "chat list shown"),
    ]
    entries = wording.timeline_entries(events, NOW)
    assert [(e.what, e.lasted) for e in entries] == [
        ("Connected", "10 min so far"),
        ("A problem was recorded", ""),
        ("Phone offline", "30 min"),
        ("Connected", "2 h"),
    ]
    assert entries[2].why == "WhatsApp could not reach your phone."
    assert entries[2].tone == "warn"


def test_it_gives_the_page_script_the_servers_qr_captions():
    table = json.loads(json.dumps(wording.dashboard_wording()))
    assert (table["qrCount"], table["qrCountdown"], table["qrDue"]) == (
        wording.QR_COUNT,
        wording.QR_COUNTDOWN,
        wording.QR_DUE,
    )


def test_it_captions_the_qr_code_with_its_number_and_the_time_to_the_next():
    assert wording.qr_caption(count=2, max_count=6, expires_in=14) == ("Code 2 of 6", "New code in 14 s")
    assert wording.qr_caption(count=6, max_count=6, expires_in=0)[1] == "A new code is on its way…"


def test_it_never_claims_an_alert_from_a_reason_alone():
    # Reasons come with events that alert (a status into ERROR) and with ones that don't.
    for _, words in wording.REASON_WORDS:
        assert "alerted" not in words
    assert "alerted" not in wording.FALLBACK_REASON


def test_it_says_what_happened_to_a_killed_worker_without_claiming_an_alert():
    reason = "the previous worker process (pid 4242) ended without stopping: killed or crashed"
    entries = wording.timeline_entries([event(WorkerEvent.Kind.ERROR, "", 5, reason)], NOW)
    assert entries[0].why == "Your bot's last run ended suddenly (it was stopped from outside or crashed)."
    assert "alerted" not in entries[0].what + entries[0].why


def test_it_says_we_were_alerted_where_an_alert_was_sent():
    Kind = WorkerEvent.Kind
    crash = wording.timeline_entries([event(Kind.WORKER_STATUS, "ERROR", 5, "crashed: KeyError")], NOW)
    stale = wording.timeline_entries([event(Kind.STALE_MARKED, "ERROR", 5, "no heartbeat for 95 s")], NOW)
    assert "we have been alerted" in crash[0].what
    assert "we have been alerted" in stale[0].what


def at(kind: str, new: str, seconds_ago: float, reason: str = "") -> WorkerEvent:
    return WorkerEvent(
        kind=kind, new_value=new, reason=reason, created_at=NOW - timedelta(seconds=seconds_ago)
    )


def test_it_tells_one_entry_per_thing_that_happened():
    Kind = WorkerEvent.Kind
    quit_reason = "stopped on request (SIGTERM/SIGINT)"
    events = [  # newest first: a start, a link, a clean stop, as the worker records them
        at(Kind.WORKER_STATUS, "STOPPED", 100, quit_reason),
        at(Kind.SESSION_STATE, "STOPPED", 100.1, quit_reason),
        at(Kind.WORKER_STATUS, "STOPPING", 103, quit_reason),
        at(Kind.WORKER_STATUS, "RUNNING", 3000, "session connected"),
        at(Kind.SESSION_STATE, "CONNECTED", 3000.01, "chat list shown"),
        at(Kind.SESSION_STATE, "QR", 3060, "QR code shown"),
        at(Kind.SESSION_STATE, "STARTING", 3070, "opening WhatsApp Web"),
        at(Kind.WORKER_STATUS, "STARTING", 3070.01, "worker process started"),
    ]
    entries = wording.timeline_entries(events, NOW)
    assert [e.what for e in entries] == [
        "Not running",
        "Connected",
        "Waiting for a code to be scanned",
        "Starting",
    ]
    assert entries[1].lasted == "48 min"


def test_it_keeps_a_crash_as_one_entry_that_says_it_was_a_crash():
    Kind = WorkerEvent.Kind
    reason = "crashed: RuntimeError: boom"
    events = [
        at(Kind.WORKER_STATUS, "ERROR", 10, reason),
        at(Kind.SESSION_STATE, "STOPPED", 10.2, reason),
        at(Kind.SESSION_STATE, "CONNECTED", 600, "chat list shown"),
    ]
    entries = wording.timeline_entries(events, NOW)
    assert [(e.what, e.tone) for e in entries] == [
        ("Bot stopped by a problem — we have been alerted", "bad"),
        ("Connected", "ok"),
    ]
    assert entries[0].lasted == "10 s so far"
    assert entries[0].why == "It stopped because of a problem on our side."


def test_it_keeps_worker_entries_that_say_something_new():
    Kind = WorkerEvent.Kind
    reason = "logged out from the phone; scan a new QR code to link again"
    events = [
        at(Kind.WORKER_STATUS, "RUNNING", 10, "heartbeat resumed"),
        at(Kind.STALE_MARKED, "ERROR", 200, "no heartbeat for 95 s"),
        at(Kind.ERROR, "", 900, reason),
        at(Kind.SESSION_STATE, "LOGGED_OUT", 900.1, reason),
    ]
    entries = wording.timeline_entries(events, NOW)
    assert [e.what for e in entries] == [
        "Bot running",
        "We stopped hearing from your bot — we have been alerted",
        "Logged out from the phone",
    ]


def test_it_rounds_uptime_down_never_up_to_a_full_hundred():
    assert wording.uptime_words(0.99965) == "99.9 %"
    assert wording.uptime_words(1.0) == "100.0 %"


def test_it_blames_nobody_for_a_reason_it_does_not_know():
    # A disconnect's reason comes from the page ("connection dropped"): maybe the phone's network.
    assert wording.reason_words("connection dropped") == "Something went wrong."


def test_it_words_a_reactivation_as_what_happened():
    from portal.wording import reason_words

    assert reason_words("reactivated by staff@platform.test") == "Your account was switched back on."

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
    assert wording.session_state_words(State.STOPPED).headline == "Not running — ask us to start it"
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
    assert wording.uptime_words(1.0) == "100 %"
    assert wording.uptime_words(0.0) == "0 %"


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


def test_it_gives_the_page_script_the_same_words_as_the_server():
    table = json.loads(json.dumps(wording.dashboard_wording()))
    for state in WhatsAppSession.State.values:
        assert table["states"][state]["headline"] == wording.STATE_WORDS[state].headline
    assert table["reasons"][0] == list(wording.REASON_WORDS[0])


def test_it_captions_the_qr_code_with_its_number_and_the_time_to_the_next():
    assert wording.qr_caption(count=2, max_count=6, expires_in=14) == ("Code 2 of 6", "New code in 14 s")
    assert wording.qr_caption(count=6, max_count=6, expires_in=0)[1] == "A new code is on its way…"

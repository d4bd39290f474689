"""The WhatsApp client against the simulator, in this process: what it sees, how it fails."""

import json
import logging

import pytest

from tests.helpers.processes import wait_until
from workers.whatsapp import events
from workers.whatsapp.client import InvalidNumber, SelectorMissing, WhatsAppClient

pytestmark = pytest.mark.browser


@pytest.fixture
def client(simulator, tmp_path):
    client = WhatsAppClient(
        url=simulator.url + "/",
        profile_dir=tmp_path / "profile",
        artifacts_dir=tmp_path / "artifacts",
        chrome_binary="/usr/bin/chromium",
        chromedriver_path="/usr/bin/chromedriver",
        command_timeout=10,
    )
    client.start()
    yield client
    client.stop()


def collect(client, kind, timeout=15.0):
    seen = []

    def found():
        seen.extend(client.poll(timeout=0.5))
        return next((e for e in seen if isinstance(e, kind)), None)

    return wait_until(found, timeout=timeout, what=kind.__name__)


def test_it_saves_the_page_and_names_the_selector_that_matched_nothing(client, tmp_path, caplog):
    collect(client, events.QrCode)
    with caplog.at_level(logging.ERROR), pytest.raises(SelectorMissing, match="compose_box"):
        client._wait_for("compose_box", timeout=0.3)
    (shot,) = (tmp_path / "artifacts").glob("selector-compose_box-*.png")
    (source,) = (tmp_path / "artifacts").glob("selector-compose_box-*.html")
    assert shot.stat().st_size > 1000
    assert "data-ref" in source.read_text()
    (record,) = [r for r in caplog.records if r.message == "selector matched nothing"]
    assert record.selector == "compose_box"


def test_it_reports_a_scan_then_ready_then_the_message(client, simulator):
    qr = collect(client, events.QrCode).value
    session_id = simulator.link(qr)
    collect(client, events.Ready)
    data_id = simulator.incoming(session_id, "15551234567", "hello\nthere 👋")
    message = collect(client, events.IncomingMessage)
    assert (message.wa_message_id, message.from_number, message.text) == (
        data_id,
        "15551234567",
        "hello\nthere 👋",
    )


def test_it_refuses_an_invalid_number_as_permanent(client, simulator):
    session_id = simulator.link(collect(client, events.QrCode).value)
    collect(client, events.Ready)
    simulator.set_invalid_numbers(["15550000000"])
    with pytest.raises(InvalidNumber) as raised:
        client.send_text("15550000000", "hi")
    assert raised.value.permanent
    assert simulator.sent(session_id) == []


def test_it_sends_emoji_and_newlines_intact(client, simulator):
    session_id = simulator.link(collect(client, events.QrCode).value)
    collect(client, events.Ready)
    text = "Line one 😀\nLine two 🎉\n\nafter a blank line"
    wa_id = client.send_text("15557654321", text)
    (sent,) = simulator.sent(session_id)
    assert sent["text"] == text
    assert wa_id.startswith("true_15557654321@c.us_")
    assert json.dumps(sent["text"]) == json.dumps(text)

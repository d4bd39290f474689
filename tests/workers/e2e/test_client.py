"""The WhatsApp client against the simulator's wa-js double, in this process: what it sees, how it fails."""

import json

import pytest

from tests.helpers.processes import wait_until
from workers.whatsapp import events
from workers.whatsapp.client import InvalidNumber, WhatsAppClient

pytestmark = pytest.mark.browser


@pytest.fixture
def client(simulator, tmp_path):
    client = WhatsAppClient(
        url=simulator.url + "/",
        profile_dir=tmp_path / "profile",
        artifacts_dir=tmp_path / "artifacts",
        chrome_binary="/usr/bin/chromium-headless-shell",
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


def test_it_reports_a_scan_then_ready_then_the_message(client, simulator):
    qr = collect(client, events.QrCode).value
    session_id = simulator.link(qr)
    collect(client, events.Ready)
    data_id = simulator.incoming(session_id, "15551234567", "hello\nthere 👋")
    message = collect(client, events.IncomingMessage)
    assert (message.wa_message_id, message.chat_id, message.sender_id, message.text) == (
        data_id,
        "15551234567@c.us",
        "15551234567@c.us",
        "hello\nthere 👋",
    )
    assert not message.is_group
    assert message.timestamp is not None


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
    result = client.send_text("15557654321", text)
    (sent,) = simulator.sent(session_id)
    assert sent["text"] == text
    assert result.wa_message_id.startswith("true_15557654321@c.us_")
    assert result.ack == 0
    assert json.dumps(sent["text"]) == json.dumps(text)


def test_its_acks_follow_the_message_up_to_delivered(client, simulator):
    session_id = simulator.link(collect(client, events.QrCode).value)
    collect(client, events.Ready)
    result = client.send_text("15557654321", "hello")
    acks = []

    def delivered():
        acks.extend(
            e.ack
            for e in client.poll(timeout=0.5)
            if isinstance(e, events.Ack) and result.wa_message_id in e.wa_message_ids
        )
        return 2 in acks

    wait_until(delivered, timeout=15, what="a delivered ack")
    assert acks == sorted(acks)  # one tick, then two: never backwards (a fast page may skip one)
    assert simulator.sent(session_id)[0]["ack"] == 2

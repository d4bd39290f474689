"""Every event type has its handler, and what each does is what a tenant sees."""

import pytest

from tenants.models import MessageLog, Tenant, WhatsAppSession, WorkerEvent
from workers.models import OutboundMessage
from workers.runtime.context import StopWorker
from workers.services import reply_rule_create
from workers.whatsapp import events

# One example of each event type; a new type without an example (and a handler) fails below.
SAMPLES: dict[type, events.Event] = {
    events.QrCode: events.QrCode(value="2@abc"),
    events.QrExpired: events.QrExpired(),
    events.Authenticated: events.Authenticated(),
    events.Ready: events.Ready(),
    events.IncomingMessage: events.IncomingMessage(
        wa_message_id="false_15551234567@c.us_A1",
        chat_id="15551234567@c.us",
        sender_id="15551234567@c.us",
        is_group=False,
        kind="chat",
        text="hi",
        timestamp=None,
    ),
    events.Ack: events.Ack(wa_message_ids=("true_15551234567@c.us_X",), ack=2),
    events.GroupMembers: events.GroupMembers(
        group_id="120363012345678901@g.us", group_name="Regulars", action="add", count=2, includes_me=False
    ),
    events.LinkCode: events.LinkCode(code="ABCD1234"),
    events.LinkCodeExpired: events.LinkCodeExpired(),
    events.LinkCodeError: events.LinkCodeError(reason="bad number"),
    events.Disconnected: events.Disconnected(reason="socket closed"),
    events.AuthFailure: events.AuthFailure(reason="refused"),
    events.Conflict: events.Conflict(),
    events.Blocked: events.Blocked(mode="TOS_BLOCK", reason=events.BLOCKED_REASONS["TOS_BLOCK"]),
    events.PhoneUnreachable: events.PhoneUnreachable(),
    events.PhoneReachable: events.PhoneReachable(),
    events.LoggedOut: events.LoggedOut(),
}


def incoming(
    wa_message_id: str, chat_id: str, *, sender_id: str = "", text: str = "hours?"
) -> events.IncomingMessage:
    return events.IncomingMessage(
        wa_message_id=wa_message_id,
        chat_id=chat_id,
        sender_id=sender_id or chat_id,
        is_group=chat_id.endswith("@g.us"),
        kind="chat",
        text=text,
        timestamp=None,
    )


def test_there_is_an_example_of_every_event_type():
    assert set(SAMPLES) == set(events.EVENT_TYPES)


@pytest.mark.parametrize("kind", events.EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_every_event_type_is_handled(worker, kind):
    try:
        worker.handlers.handle(SAMPLES[kind])
    except StopWorker:  # some stop the worker (codes ran out): handled, on purpose
        assert kind is events.QrExpired


def state(worker) -> str:
    return WhatsAppSession.objects.get(tenant=worker.ctx.tenant).state


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("TOS_BLOCK", "BLOCKED"), ("PROXYBLOCK", "BLOCKED"), ("DEPRECATED_VERSION", "UPDATE_NEEDED")],
)
def test_a_block_needs_a_person_and_says_why(connected, mode, expected):
    connected.handlers.handle(events.Blocked(mode=mode, reason=events.BLOCKED_REASONS[mode]))
    assert state(connected) == expected
    assert Tenant.objects.get(pk=connected.ctx.tenant.pk).status == Tenant.Status.ERROR
    reasons = WorkerEvent.objects.filter(tenant=connected.ctx.tenant).values_list("reason", flat=True)
    assert events.BLOCKED_REASONS[mode] in reasons


def test_a_lid_sender_is_logged_as_given_with_the_phone_wa_js_resolved_and_answered(connected, fake_client):
    reply_rule_create(tenant=connected.ctx.tenant, name="Hours", pattern="hours", reply_text="8 to 5")
    fake_client.lids["123456789012345@lid"] = "15551234567"
    fake_client.pending.append(incoming("false_123456789012345@lid_L1", "123456789012345@lid"))
    connected.step()
    log = MessageLog.objects.get(direction="IN")
    assert (log.chat_id, log.from_number) == ("123456789012345@lid", "15551234567")
    assert OutboundMessage.objects.get().to_number == "15551234567"


def test_an_unresolvable_lid_is_answered_at_the_lid(connected, fake_client):
    reply_rule_create(tenant=connected.ctx.tenant, name="Hours", pattern="hours", reply_text="8 to 5")
    fake_client.pending.append(incoming("false_99887766554433@lid_L2", "99887766554433@lid"))
    connected.step()
    assert MessageLog.objects.get(direction="IN").from_number == ""
    assert OutboundMessage.objects.get().to_number == "99887766554433@lid"


def test_a_group_message_is_logged_with_its_participant_and_not_answered(connected, fake_client):
    reply_rule_create(tenant=connected.ctx.tenant, name="Hours", pattern="hours", reply_text="8 to 5")
    fake_client.pending.append(
        incoming(
            "false_120363041234@g.us_G1_15551234567@c.us", "120363041234@g.us", sender_id="15551234567@c.us"
        )
    )
    connected.step()
    log = MessageLog.objects.get(direction="IN")
    assert (log.chat_id, log.sender_id, log.from_number, log.is_group) == (
        "120363041234@g.us",
        "15551234567@c.us",
        "15551234567",
        True,
    )
    assert not OutboundMessage.objects.exists()


def test_each_chat_with_new_messages_is_marked_read_once_they_are_logged(connected, fake_client):
    fake_client.pending += [
        incoming("false_15551234567@c.us_A1", "15551234567@c.us"),
        incoming("false_15551234567@c.us_A2", "15551234567@c.us"),
        incoming("false_15557654321@c.us_B1", "15557654321@c.us"),
    ]
    connected.step()
    assert fake_client.read == ["15551234567@c.us", "15557654321@c.us"]
    assert MessageLog.objects.filter(direction="IN").count() == 3


def test_a_pairing_code_asked_for_in_the_portal_is_requested_and_shown(worker, fake_client):
    from tenants import services as tenant_services

    worker.handlers.handle(events.QrCode(value="2@abc"))
    tenant_services.session_request_link_code(
        session=WhatsAppSession.objects.get(tenant=worker.ctx.tenant), phone="15551234567"
    )
    worker.step()
    assert fake_client.link_codes == ["15551234567"]
    session = WhatsAppSession.objects.get(tenant=worker.ctx.tenant)
    assert session.link_code == "ABCD1234" and session.link_code_expires_at is not None
    worker.handlers.handle(events.LinkCodeExpired())
    session.refresh_from_db()
    assert session.link_code == "" and "expired" in session.link_code_error

    # Asking again, for the same number, gets a new code: the tenant is never left waiting.
    tenant_services.session_request_link_code(session=session, phone="15551234567")
    worker._next_link_check = 0.0
    worker.step()
    assert fake_client.link_codes == ["15551234567", "15551234567"]


def test_a_pairing_code_announced_twice_is_shown_once(worker):
    # wa-js returns the code and also announces it (conn.link_code_change): one entry.
    worker.handlers.handle(events.LinkCode(code="ABCD1234"))
    worker.handlers.handle(events.LinkCode(code="ABCD1234"))
    worker.handlers.handle(events.LinkCode(code="WXYZ9876"))  # a refreshed code is news
    shown = WorkerEvent.objects.filter(tenant=worker.ctx.tenant, kind="QR_ISSUED", reason="pairing code")
    assert shown.count() == 2
    assert WhatsAppSession.objects.get(tenant=worker.ctx.tenant).link_code == "WXYZ9876"


def test_a_pairing_code_is_no_longer_offered_once_the_session_links(worker):
    worker.handlers.handle(events.LinkCode(code="ABCD1234"))
    worker.handlers.handle(events.Ready())
    session = WhatsAppSession.objects.get(tenant=worker.ctx.tenant)
    assert (session.state, session.link_code, session.link_code_expires_at) == ("CONNECTED", "", None)

"""The sender: the queue sent once, acks stored, the unconfirmed flagged, bad numbers refused."""

from tenants.models import MessageLog
from workers.models import OutboundMessage
from workers.services import outbound_enqueue
from workers.whatsapp import events

from .conftest import ago


def test_a_queued_message_is_sent_once_and_its_acks_follow_it(connected, fake_client):
    message, _ = outbound_enqueue(
        tenant=connected.ctx.tenant, to_number="+1 555 123 4567", text="hello 👋\nthere"
    )
    connected.step()
    connected.step()
    assert fake_client.sent == [("15551234567", "hello 👋\nthere")]
    message.refresh_from_db()
    assert (message.status, message.ack) == ("SENT", 0)
    for ack in (1, 3, 2):  # a late "delivered" never undoes "read"
        fake_client.pending.append(events.Ack(wa_message_ids=(message.wa_message_id,), ack=ack))
        connected.step()
    message.refresh_from_db()
    log = MessageLog.objects.get(direction="OUT")
    assert (message.ack, log.ack) == (3, 3)
    assert message.ack_at is not None and log.ack_at is not None


def test_a_number_not_on_whatsapp_fails_at_once_and_is_not_retried(connected, fake_client):
    fake_client.invalid.add("15550000000")
    message, _ = outbound_enqueue(tenant=connected.ctx.tenant, to_number="15550000000", text="hi")
    connected.step()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("FAILED", 1)
    assert "not on WhatsApp" in message.last_error


def test_a_send_never_acknowledged_is_flagged_not_confirmed_and_a_late_ack_clears_it(connected, fake_client):
    message, _ = outbound_enqueue(tenant=connected.ctx.tenant, to_number="15551234567", text="hi")
    connected.step()
    message.refresh_from_db()
    OutboundMessage.objects.filter(pk=message.pk).update(sent_at=ago(61))
    connected.sender._next_unconfirmed_check = 0
    connected.step()
    message.refresh_from_db()
    assert message.status == "UNCONFIRMED" and "did not confirm" in message.last_error
    fake_client.pending.append(events.Ack(wa_message_ids=(message.wa_message_id,), ack=1))
    connected.step()
    message.refresh_from_db()
    assert (message.status, message.ack) == ("SENT", 1)


def test_an_error_ack_fails_the_message_with_the_reason(connected, fake_client):
    message, _ = outbound_enqueue(tenant=connected.ctx.tenant, to_number="15551234567", text="hi")
    connected.step()
    message.refresh_from_db()
    fake_client.pending.append(events.Ack(wa_message_ids=(message.wa_message_id,), ack=-1))
    connected.step()
    message.refresh_from_db()
    assert (message.status, message.ack) == ("FAILED", -1)

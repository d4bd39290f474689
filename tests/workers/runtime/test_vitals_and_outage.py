"""Heartbeat only on a wa-js round trip; the outage buffer's typed records, kept in order."""

import pytest
from django.db import OperationalError

from tenants.models import WhatsAppSession
from workers.runtime.outage import OutageBuffer, OwedEvent
from workers.whatsapp import events
from workers.whatsapp.client import BrowserGone


def test_a_page_whose_wa_js_stops_answering_is_not_alive(connected, fake_client):
    fake_client.main_ready = False
    connected.ctx.next_heartbeat = 0
    with pytest.raises(BrowserGone, match="stopped answering"):
        connected.vitals.maybe_heartbeat()


def test_a_live_page_heartbeats(connected, fake_client):
    connected.ctx.next_heartbeat = 0
    connected.vitals.maybe_heartbeat()
    assert WhatsAppSession.objects.get(tenant=connected.ctx.tenant).last_seen_at is not None


def test_only_the_qr_code_on_screen_is_kept_and_the_rest_in_order():
    buffer = OutageBuffer()
    buffer.add_events([events.QrCode("1"), events.Authenticated(), events.QrCode("2"), events.Ready()])
    written = []
    buffer.replay(lambda owed: written.append(owed.event))
    assert written == [events.Authenticated(), events.QrCode("2"), events.Ready()]
    assert len(buffer) == 0


def test_a_replay_cut_by_the_database_keeps_what_is_left():
    buffer = OutageBuffer()
    buffer.add_events([events.Authenticated(), events.Ready()])
    written = []

    def write(owed: OwedEvent) -> None:
        if isinstance(owed.event, events.Ready):
            raise OperationalError("server closed the connection")
        written.append(owed.event)

    with pytest.raises(OperationalError):
        buffer.replay(write)
    assert written == [events.Authenticated()] and len(buffer) == 1

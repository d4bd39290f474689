"""Events are written with the facts they report, for the endpoints that asked for them."""

import pytest
from django.db import transaction
from django.utils import timezone

from tenants import services
from tenants.models import Ack, WebhookDelivery, WebhookEvent, WhatsAppSession
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_create, endpoint_update
from tests.helpers.workers import incoming
from workers import services as worker_services


class Rollback(Exception):
    pass


def received(tenant, wa_id: str = "false_15551230001@c.us_A1", text: str = "hello"):
    return worker_services.inbound_message_handle(
        tenant=tenant, message=incoming(wa_message_id=wa_id, from_number="15551230001", text=text)
    )


def bodies(endpoint, event_type: str | None = None) -> list[dict]:
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("id")
    return [d.event.payload for d in rows if event_type in (None, d.event_type)]


def test_a_message_received_is_an_event_with_what_the_worker_knows(endpoint, tenant):
    received(tenant, text="Do you have sourdough?")
    [body] = bodies(endpoint, events.MESSAGE_RECEIVED)
    assert body["type"] == "message.received"
    data = body["data"]
    assert data["message_id"] == "false_15551230001@c.us_A1"
    assert (data["chat_id"], data["from"], data["sender_id"]) == (
        "15551230001@c.us",
        "15551230001",
        "15551230001@c.us",
    )
    assert data["text"] == "Do you have sourdough?"
    assert data["group_id"] is None and data["type"] == "chat"


def test_a_group_message_names_its_group_and_who_wrote(endpoint, tenant):
    worker_services.inbound_message_handle(
        tenant=tenant,
        message=worker_services.Incoming(
            wa_message_id="false_120363@g.us_B2_15551230002@c.us",
            chat_id="120363000000000001@g.us",
            sender_id="15551230002@c.us",
            from_number="15551230002",
            text="who is bringing the cake?",
            is_group=True,
            quoted_wa_message_id="false_120363@g.us_A0",
        ),
    )
    [body] = bodies(endpoint, events.MESSAGE_RECEIVED)
    assert body["data"]["group_id"] == "120363000000000001@g.us"
    assert body["data"]["sender_id"] == "15551230002@c.us"
    assert body["data"]["quoted_message_id"] == "false_120363@g.us_A0"


def test_a_fact_rolled_back_leaves_no_event_and_a_committed_one_leaves_it(endpoint, tenant):
    with pytest.raises(Rollback), transaction.atomic():
        received(tenant, wa_id="false_1@c.us_ROLLED")
        raise Rollback
    assert not WebhookEvent.objects.exists()
    received(tenant, wa_id="false_1@c.us_KEPT")
    assert WebhookEvent.objects.count() == 1


def test_a_message_logged_twice_is_announced_once(endpoint, tenant):
    received(tenant)
    received(tenant)
    assert len(bodies(endpoint, events.MESSAGE_RECEIVED)) == 1


def test_only_endpoints_that_asked_for_the_event_and_are_enabled_get_it(tenant, other_tenant, local_urls):
    acks_only = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/a", event_types=[events.MESSAGE_ACK])
    switched_off = endpoint_create(
        tenant=tenant, url="http://127.0.0.1:9/b", event_types=[events.MESSAGE_RECEIVED]
    )
    endpoint_update(endpoint=switched_off, enabled=False)
    theirs = endpoint_create(
        tenant=other_tenant, url="http://127.0.0.1:9/c", event_types=[events.MESSAGE_RECEIVED]
    )
    received(tenant)
    assert not WebhookDelivery.objects.filter(endpoint__in=[acks_only, switched_off, theirs]).exists()


def test_a_paused_endpoint_keeps_queuing_so_nothing_is_lost(endpoint, tenant):
    endpoint.paused_at = timezone.now()
    endpoint.save()
    received(tenant)
    assert len(bodies(endpoint, events.MESSAGE_RECEIVED)) == 1


def test_the_outbound_queue_announces_sent_acks_failed_and_not_confirmed(endpoint, tenant):
    message, _ = worker_services.outbound_enqueue(
        tenant=tenant, to_number="15551230001", text="Your order is ready", idempotency_key="order-7"
    )
    claimed = worker_services.outbound_claim_next(tenant=tenant)
    worker_services.outbound_mark_sent(message=claimed, wa_message_id="true_15551230001@c.us_S1")
    worker_services.outbound_record_ack(
        tenant=tenant, wa_message_ids=["true_15551230001@c.us_S1"], ack=Ack.DEVICE, at=timezone.now()
    )
    worker_services.outbound_record_ack(
        tenant=tenant, wa_message_ids=["true_15551230001@c.us_S1"], ack=Ack.READ, at=timezone.now()
    )
    [sent] = bodies(endpoint, events.MESSAGE_SENT)
    assert sent["data"]["outbound_id"] == str(message.id)
    assert sent["data"]["message_id"] == "true_15551230001@c.us_S1"
    assert sent["data"]["idempotency_key"] == "order-7"
    assert [b["data"]["ack"] for b in bodies(endpoint, events.MESSAGE_ACK)] == ["delivered", "read"]

    failing, _ = worker_services.outbound_enqueue(tenant=tenant, to_number="15559990000", text="hi")
    worker_services.outbound_mark_failed(
        message=worker_services.outbound_claim_next(tenant=tenant),
        reason="This number is not on WhatsApp.",
        permanent=True,
        max_attempts=5,
    )
    [failed] = bodies(endpoint, events.MESSAGE_FAILED)
    assert failed["data"]["outbound_id"] == str(failing.id)
    assert failed["data"]["error"] == "This number is not on WhatsApp."

    silent, _ = worker_services.outbound_enqueue(tenant=tenant, to_number="15551230003", text="hello?")
    worker_services.outbound_mark_sent(
        message=worker_services.outbound_claim_next(tenant=tenant), wa_message_id="true_x_S3"
    )
    worker_services.outbound_flag_unconfirmed(
        tenant=tenant, timeout_seconds=60, now=timezone.now() + timezone.timedelta(minutes=2)
    )
    last_ack = bodies(endpoint, events.MESSAGE_ACK)[-1]["data"]
    assert (last_ack["outbound_id"], last_ack["ack"]) == (str(silent.id), "not_confirmed")


def test_a_retried_send_is_not_announced_as_failed_until_it_gives_up(endpoint, tenant):
    worker_services.outbound_enqueue(tenant=tenant, to_number="15551230001", text="hi")
    worker_services.outbound_mark_failed(
        message=worker_services.outbound_claim_next(tenant=tenant),
        reason="browser busy",
        permanent=False,
        max_attempts=5,
    )
    assert bodies(endpoint, events.MESSAGE_FAILED) == []


def test_session_changes_are_announced_in_order_without_the_login_code(endpoint, tenant):
    session = WhatsAppSession.objects.get(tenant=tenant)
    services.session_set_state(session=session, state="STARTING")
    services.session_record_qr(session=session, value="2@secret-qr", data_uri="data:image/png;base64,AAAA")
    services.session_request_link_code(session=session, phone="15550009999")
    services.session_record_link_code(
        session=session, code="ABCD1234", expires_at=timezone.now() + timezone.timedelta(minutes=3)
    )
    services.session_set_state(session=session, state="CONNECTED", reason="linked")
    states = [(b["data"]["state"], b["data"]["reason"]) for b in bodies(endpoint, events.SESSION_STATUS)]
    assert states[-3:] == [("qr", "QR code shown"), ("qr", "pairing code shown"), ("connected", "linked")]
    everything = str(bodies(endpoint))
    assert "secret-qr" not in everything and "ABCD1234" not in everything
    qr = next(b for b in bodies(endpoint, events.SESSION_STATUS) if b["data"]["state"] == "qr")
    assert qr["data"]["qr_url"] == "/api/portal/tenant/current/qr"
    assert {d.order_key for d in WebhookDelivery.objects.filter(event_type=events.SESSION_STATUS)} == {
        "session"
    }


def test_a_worker_status_change_is_announced(endpoint, tenant):
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=4242)
    [body] = bodies(endpoint, events.WORKER_STATUS)
    assert (body["data"]["status"], body["data"]["previous"]) == ("starting", "stopped")


def test_another_tenants_facts_never_reach_this_tenants_endpoint(endpoint, other_tenant):
    received(other_tenant)
    services.session_set_state(session=WhatsAppSession.objects.get(tenant=other_tenant), state="STARTING")
    assert bodies(endpoint) == []


def test_a_worker_the_stale_check_marks_down_is_announced_with_the_reason(endpoint, tenant):
    services.worker_set_status(worker=tenant.worker, status="RUNNING")
    worker = tenant.worker
    now = timezone.now()
    stale = services.StaleWorker(
        worker.id,
        tenant.id,
        worker.process_name,
        "host-1",
        now - timezone.timedelta(minutes=5),
        tenant.status,
    )
    services.workers_mark_stale_bulk(workers=[stale], now=now, threshold_seconds=120)
    body = bodies(endpoint, events.WORKER_STATUS)[-1]
    assert (body["data"]["previous"], body["data"]["status"]) == ("running", "error")
    assert "no heartbeat" in body["data"]["reason"]

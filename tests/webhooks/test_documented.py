"""The OpenAPI document's ``webhooks`` section says what receivers are really sent: every event
type, its fields, an example, and the signature headers."""

import pytest
from django.utils import timezone

from tenants import services
from tenants.models import Ack, WebhookDelivery, WhatsAppSession
from tenants.webhooks import events
from tenants.webhooks.services import endpoint_send_test
from tests.helpers.workers import incoming
from workers import services as worker_services


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def component(schema: dict, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def documented_data(schema: dict, event_type: str) -> dict:
    body = schema["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]
    event = component(schema, body["schema"])
    assert event["properties"]["type"]["enum"] == [event_type]
    return component(schema, event["properties"]["data"])


def sent_for_real(endpoint, tenant) -> dict[str, list[dict]]:
    """Every event type, made by the code paths that make them in production."""
    worker_services.inbound_message_handle(
        tenant=tenant,
        message=incoming(wa_message_id="false_15551230001@c.us_D1", from_number="15551230001", text="hi"),
    )
    worker_services.outbound_enqueue(
        tenant=tenant, to_number="15551230001", text="Ready", idempotency_key="k1"
    )
    worker_services.outbound_mark_sent(
        message=worker_services.outbound_claim_next(tenant=tenant), wa_message_id="true_15551230001@c.us_S1"
    )
    worker_services.outbound_record_ack(
        tenant=tenant, wa_message_ids=["true_15551230001@c.us_S1"], ack=Ack.READ, at=timezone.now()
    )
    worker_services.outbound_enqueue(tenant=tenant, to_number="15559990000", text="hi")
    worker_services.outbound_mark_failed(
        message=worker_services.outbound_claim_next(tenant=tenant),
        reason="not on WhatsApp",
        permanent=True,
        max_attempts=5,
    )
    session = WhatsAppSession.objects.get(tenant=tenant)
    services.session_set_state(session=session, state="STARTING")
    services.session_record_qr(session=session, value="2@qr", data_uri="data:image/png;base64,AAAA")
    services.worker_set_status(worker=tenant.worker, status="STARTING", pid=7)
    endpoint_send_test(endpoint=endpoint)
    sent: dict[str, list[dict]] = {}
    for delivery in WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event"):
        sent.setdefault(delivery.event_type, []).append(delivery.event.payload["data"])
    return sent


def test_every_event_type_is_documented_with_the_fields_it_is_really_sent_with(schema, endpoint, tenant):
    sent = sent_for_real(endpoint, tenant)
    assert set(sent) == set(events.ALL_TYPES) == set(schema["webhooks"])
    for event_type, bodies in sent.items():
        data = documented_data(schema, event_type)
        for body in bodies:
            assert set(body) <= set(data["properties"]), event_type
            assert set(data.get("required", [])) <= set(body), event_type


def test_each_documented_event_has_an_example_in_its_documented_shape(schema):
    for event_type in events.ALL_TYPES:
        data = documented_data(schema, event_type)
        body = schema["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]
        [example] = body["examples"].values()
        assert example["value"]["type"] == event_type
        assert set(example["value"]["data"]) <= set(data["properties"]), event_type
        assert set(data.get("required", [])) <= set(example["value"]["data"]), event_type


def test_the_signature_headers_and_the_retry_rule_are_documented(schema):
    assert schema["openapi"].startswith("3.1")
    for event_type, path_item in schema["webhooks"].items():
        headers = {p["name"] for p in path_item["post"]["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, event_type
        assert {"200", "429", "500"} <= set(path_item["post"]["responses"])


def test_no_login_credential_is_in_a_documented_example(schema):
    examples = str(
        [
            path_item["post"]["requestBody"]["content"]["application/json"]["examples"]
            for path_item in schema["webhooks"].values()
        ]
    )
    assert "data:image/png" not in examples and "whsec_" not in examples and "2@" not in examples

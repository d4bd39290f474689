"""The portal API's webhooks: a tenant's program manages its endpoints, reads its deliveries
and replays them with its own API key, and never reaches another tenant's."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.api_keys import api_key_create
from tenants.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks import events
from tenants.webhooks.outbox import webhook_emit
from tenants.webhooks.services import endpoint_create, signing_secrets
from tests.helpers.api import bearer
from tests.helpers.receiver import Reply, WebhookReceiver
from workers.webhooks import dispatcher

BASE = "/api/portal/webhooks"
State = WebhookDelivery.State


@pytest.fixture
def other_key(other_tenant, other_user) -> str:
    return api_key_create(tenant=other_tenant, name="rival bot", scope="SEND", created_by=other_user)[1]


@pytest.fixture
def endpoint(acme_endpoint) -> WebhookEndpoint:
    return acme_endpoint


def emit(endpoint: WebhookEndpoint, event_type: str = events.MESSAGE_RECEIVED) -> WebhookDelivery:
    event = webhook_emit(tenant_id=endpoint.tenant_id, event_type=event_type, data={"text": "hi"})
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def set_state(delivery: WebhookDelivery, state: str, **fields) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state, **fields)


def post(client, path: str, key: str, data: object = None):
    return client.post(f"{BASE}{path}", data, content_type="application/json", **bearer(key))


def patch(client, path: str, key: str, data: object):
    return client.patch(f"{BASE}{path}", data, content_type="application/json", **bearer(key))


# --- Endpoints -----------------------------------------------------------------------------


def test_an_endpoint_is_added_and_its_secret_is_shown_in_that_answer_only(client, send_key, local_urls):
    response = post(
        client,
        "/endpoints",
        send_key,
        {"url": "http://127.0.0.1:8099/hook", "event_types": ["message.received", "session.status"]},
    )
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert (created["url"], created["event_types"], created["enabled"], created["sending"]) == (
        "http://127.0.0.1:8099/hook",
        ["message.received", "session.status"],
        True,
        True,
    )
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == created["secret"]
    [listed] = client.get(f"{BASE}/endpoints", **bearer(send_key)).json()
    shown = client.get(f"{BASE}/endpoints/{created['id']}", **bearer(send_key)).json()
    assert listed["id"] == shown["id"] == created["id"]
    assert "secret" not in listed and "secret" not in shown
    assert created["secret"] not in str(listed) + str(shown)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "http://shop.example/hook", "event_types": ["message.received"]}, "url", "https"),
        ({"url": "https://127.0.0.1/hook", "event_types": ["message.received"]}, "url", "address"),
        ({"url": "https://169.254.169.254/latest", "event_types": ["message.received"]}, "url", "address"),
        ({"url": "https://93.184.215.14/hook", "event_types": []}, "event_types", "at least one"),
        (
            {"url": "https://93.184.215.14/hook", "event_types": ["message.deleted"]},
            "event_types",
            "valid choice",
        ),
        ({"event_types": ["message.received"]}, "url", "required"),
    ],
)
def test_a_bad_endpoint_is_refused_with_its_field_and_nothing_saved(client, send_key, body, field, words):
    response = post(client, "/endpoints", send_key, body)
    assert response.status_code == 400
    assert words in str(response.json()[field])
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_is_changed_and_a_bad_change_changes_nothing(client, send_key, endpoint):
    response = patch(
        client, f"/endpoints/{endpoint.id}", send_key, {"event_types": ["message.ack"], "description": "acks"}
    )
    assert response.status_code == 200
    assert (response.json()["event_types"], response.json()["description"]) == (["message.ack"], "acks")

    refused = patch(client, f"/endpoints/{endpoint.id}", send_key, {"url": "ftp://x", "description": "new"})
    assert refused.status_code == 400 and "url" in refused.json()
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == ("http://127.0.0.1:9/acme", "acks")


def test_disabling_an_endpoint_stops_new_events(client, send_key, endpoint, tenant):
    response = patch(client, f"/endpoints/{endpoint.id}", send_key, {"enabled": False})
    assert (response.json()["enabled"], response.json()["sending"]) == (False, False)
    assert webhook_emit(tenant_id=tenant.id, event_type=events.MESSAGE_RECEIVED, data={}) is None


def test_enabling_an_endpoint_paused_after_failing_sends_what_waited(client, send_key, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=timezone.now(), paused_reason="HTTP 500")
    waiting = emit(endpoint)
    set_state(waiting, State.RETRYING, next_attempt_at=timezone.now() + timedelta(hours=5))
    assert client.get(f"{BASE}/endpoints/{endpoint.id}", **bearer(send_key)).json()["sending"] is False

    response = patch(client, f"/endpoints/{endpoint.id}", send_key, {"enabled": True})
    assert (response.json()["sending"], response.json()["paused_at"]) == (True, None)
    waiting.refresh_from_db()
    assert waiting.next_attempt_at <= timezone.now()


def test_rotating_gives_a_new_secret_and_the_old_one_signs_for_a_day(client, send_key, endpoint):
    old = endpoint.secret
    response = post(client, f"/endpoints/{endpoint.id}/rotate-secret", send_key)
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old
    endpoint.refresh_from_db()
    expires = endpoint.previous_secret_expires_at
    assert timedelta(hours=23) < expires - timezone.now() <= timedelta(hours=24)
    assert signing_secrets(endpoint, timezone.now()) == [new, old]
    assert signing_secrets(endpoint, expires + timedelta(seconds=1)) == [new]


def test_a_test_event_reaches_the_receiver_and_its_delivery_shows_the_answer(
    client, send_key, local_urls, tenant
):
    receiver = WebhookReceiver()
    try:
        endpoint = endpoint_create(tenant=tenant, url=receiver.url, event_types=[events.MESSAGE_ACK])
        response = post(client, f"/endpoints/{endpoint.id}/test", send_key)
        assert response.status_code == 202
        queued = response.json()
        assert (queued["event_type"], queued["state"]) == ("webhook.test", "PENDING")
        dispatcher.run_once()
        [received] = receiver.received
        assert received.headers["webhook-id"] == queued["webhook_id"]
        assert received.json["data"]["endpoint_id"] == str(endpoint.id)
        detail = client.get(f"{BASE}/deliveries/{queued['id']}", **bearer(send_key)).json()
        assert detail["state"] == "SUCCEEDED"
        [attempt] = detail["attempts"]
        assert attempt["status_code"] == 200
        assert detail["body"]["type"] == "webhook.test"
    finally:
        receiver.stop()


def test_deleting_an_endpoint_deletes_its_deliveries(client, send_key, endpoint):
    emit(endpoint)
    response = client.delete(f"{BASE}/endpoints/{endpoint.id}", **bearer(send_key))
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_read_only_key_reads_but_changes_nothing(client, read_key, endpoint, local_urls):
    assert client.get(f"{BASE}/endpoints", **bearer(read_key)).status_code == 200
    delivery = emit(endpoint)
    set_state(delivery, State.DEAD)
    attempts = [
        post(client, "/endpoints", read_key, {"url": "http://127.0.0.1:9/x", "event_types": ["message.ack"]}),
        patch(client, f"/endpoints/{endpoint.id}", read_key, {"description": "mine now"}),
        client.delete(f"{BASE}/endpoints/{endpoint.id}", **bearer(read_key)),
        post(client, f"/endpoints/{endpoint.id}/rotate-secret", read_key),
        post(client, f"/endpoints/{endpoint.id}/test", read_key),
        post(client, f"/deliveries/{delivery.id}/replay", read_key),
        post(client, "/replay", read_key, {"since": (timezone.now() - timedelta(days=1)).isoformat()}),
    ]
    assert [r.status_code for r in attempts] == [403] * 7
    assert attempts[0].json()["detail"] == "This API key is read-only."
    endpoint_now = WebhookEndpoint.objects.get()
    assert (endpoint_now.description, endpoint_now.secret) == ("acme bot", endpoint.secret)
    assert WebhookDelivery.objects.get().state == State.DEAD


# --- Deliveries ----------------------------------------------------------------------------


def test_deliveries_are_paged_newest_first_and_filtered(client, read_key, endpoint, tenant, local_urls):
    acks = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/acks", event_types=[events.MESSAGE_ACK])
    made = [emit(endpoint) for _ in range(5)]
    ack = emit(acks, events.MESSAGE_ACK)
    set_state(made[1], State.DEAD)

    first = client.get(f"{BASE}/deliveries?limit=4", **bearer(read_key)).json()
    assert [d["id"] for d in first["results"]] == [ack.id, made[4].id, made[3].id, made[2].id]
    second = client.get(f"{BASE}/deliveries?limit=4&before={first['next_cursor']}", **bearer(read_key)).json()
    assert [d["id"] for d in second["results"]] == [made[1].id, made[0].id]
    assert second["next_cursor"] is None

    def ids(query: str) -> list[int]:
        return [
            d["id"] for d in client.get(f"{BASE}/deliveries?{query}", **bearer(read_key)).json()["results"]
        ]

    assert ids("state=dead") == ids("state=DEAD") == [made[1].id]
    assert ids("event=message.ack") == [ack.id]
    assert ids(f"endpoint={acks.id}") == [ack.id]
    row = first["results"][1]
    assert row["webhook_id"] == made[4].webhook_id and row["endpoint"] == str(endpoint.id)
    assert row["next_attempt_at"] is not None  # waiting


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("state=lost", "state must be one of"),
        ("event=message.deleted", "event must be one of"),
        ("before=abc", "next_cursor"),
        ("before=99999999999999999999999", "next_cursor"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("endpoint=not-a-uuid", "endpoint"),
    ],
)
def test_a_bad_filter_is_a_400_in_words(client, read_key, query, words):
    response = client.get(f"{BASE}/deliveries?{query}", **bearer(read_key))
    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_a_delivery_shows_its_body_and_each_attempt(client, read_key, local_urls, tenant):
    receiver = WebhookReceiver()
    try:
        endpoint = endpoint_create(tenant=tenant, url=receiver.url, event_types=[events.MESSAGE_RECEIVED])
        receiver.replies = [Reply(500, body=b"oven on fire")]
        delivery = emit(endpoint)
        dispatcher.run_once()
        detail = client.get(f"{BASE}/deliveries/{delivery.id}", **bearer(read_key)).json()
    finally:
        receiver.stop()
    assert detail["state"] == "RETRYING" and detail["attempt_count"] == 1
    [attempt] = detail["attempts"]
    assert (attempt["status_code"], attempt["response_excerpt"]) == (500, "oven on fire")
    assert detail["body"] == delivery.event.payload


def test_one_delivery_is_replayed_with_the_same_webhook_id(client, send_key, endpoint):
    delivery = emit(endpoint)
    set_state(delivery, State.DEAD, attempts=8)
    response = post(client, f"/deliveries/{delivery.id}/replay", send_key)
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["attempt_count"]) == ("PENDING", 0)
    assert response.json()["webhook_id"] == delivery.webhook_id


def test_every_failed_or_dead_delivery_since_a_time_is_replayed(
    client, send_key, endpoint, tenant, local_urls
):
    other = endpoint_create(tenant=tenant, url="http://127.0.0.1:9/b", event_types=[events.MESSAGE_RECEIVED])
    dead, retrying, delivered, old = emit(endpoint), emit(endpoint), emit(endpoint), emit(endpoint)
    set_state(dead, State.DEAD)
    set_state(retrying, State.RETRYING)
    set_state(delivered, State.SUCCEEDED)
    set_state(old, State.DEAD, created_at=timezone.now() - timedelta(days=3))
    WebhookDelivery.objects.filter(endpoint=other).update(state=State.DEAD)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    only_one = post(client, "/replay", send_key, {"since": since, "endpoint": str(endpoint.id)})
    assert (only_one.status_code, only_one.json()) == (202, {"queued": 2})
    states = dict(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("id", "state"))
    assert states == {dead.id: "PENDING", retrying.id: "PENDING", delivered.id: "SUCCEEDED", old.id: "DEAD"}
    assert post(client, "/replay", send_key, {"since": since}).json() == {"queued": 4}  # the other's too


@pytest.mark.parametrize(
    "body", [{}, {"since": "yesterday"}, {"since": "2026-12-01T00:00:00Z", "endpoint": "x"}]
)
def test_a_replay_without_a_good_since_is_refused(client, send_key, body):
    assert post(client, "/replay", send_key, body).status_code == 400


# --- Another tenant ------------------------------------------------------------------------


@pytest.fixture
def acme(endpoint) -> tuple[WebhookEndpoint, WebhookDelivery]:
    delivery = emit(endpoint)
    set_state(delivery, State.DEAD)
    return endpoint, delivery


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/endpoints/{e}"),
        ("patch", "/endpoints/{e}"),
        ("delete", "/endpoints/{e}"),
        ("post", "/endpoints/{e}/rotate-secret"),
        ("post", "/endpoints/{e}/test"),
        ("get", "/deliveries/{d}"),
        ("post", "/deliveries/{d}/replay"),
    ],
)
def test_another_tenants_endpoint_or_delivery_is_not_found_and_untouched(
    client, other_key, acme, method, path
):
    endpoint, delivery = acme
    url = BASE + path.format(e=endpoint.id, d=delivery.id)
    response = getattr(client, method)(
        url, {"description": "mine"}, content_type="application/json", **bearer(other_key)
    )
    assert response.status_code == 404
    endpoint_now = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (endpoint_now.description, endpoint_now.secret) == ("acme bot", endpoint.secret)
    assert endpoint_now.previous_secret == ""
    assert list(WebhookDelivery.objects.values_list("id", "state")) == [(delivery.id, "DEAD")]


def test_another_tenants_lists_and_replays_never_show_or_touch_this_tenants(client, other_key, acme):
    endpoint, _ = acme
    assert client.get(f"{BASE}/endpoints", **bearer(other_key)).json() == []
    assert client.get(f"{BASE}/deliveries", **bearer(other_key)).json()["results"] == []
    filtered = client.get(f"{BASE}/deliveries?endpoint={endpoint.id}", **bearer(other_key))
    assert filtered.status_code == 400
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert post(client, "/replay", other_key, {"since": since}).json() == {"queued": 0}
    assert (
        post(client, "/replay", other_key, {"since": since, "endpoint": str(endpoint.id)}).status_code == 400
    )
    assert WebhookDelivery.objects.get().state == State.DEAD


def test_without_a_key_nothing_is_shown(client, acme):
    for path in ["/endpoints", "/deliveries", f"/endpoints/{acme[0].id}"]:
        response = client.get(BASE + path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_user_uses_it_and_a_post_without_the_csrf_token_is_refused(tenant_user, endpoint):
    https = {"wsgi.url_scheme": "https", "SERVER_PORT": "443", "HTTP_X_FORWARDED_PROTO": "https"}
    browser = Client(enforce_csrf_checks=True, **https)
    browser.force_login(tenant_user)
    assert [e["id"] for e in browser.get(f"{BASE}/endpoints").json()] == [str(endpoint.id)]
    response = browser.post(f"{BASE}/endpoints/{endpoint.id}/rotate-secret")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_a_delivery_waiting_behind_an_earlier_one_of_its_chat_says_so(client, read_key, endpoint, tenant):
    def in_chat(text: str) -> WebhookDelivery:
        event = webhook_emit(
            tenant_id=tenant.id, event_type=events.MESSAGE_RECEIVED, data={"text": text}, order_key="chat:1"
        )
        return WebhookDelivery.objects.get(event=event)

    first, second = in_chat("first"), in_chat("second")
    other_chat = emit(endpoint)
    set_state(first, State.RETRYING)

    def behind() -> dict[int, bool]:
        rows = client.get(f"{BASE}/deliveries", **bearer(read_key)).json()["results"]
        return {row["id"]: row["behind_earlier"] for row in rows}

    assert behind() == {first.id: False, second.id: True, other_chat.id: False}
    assert client.get(f"{BASE}/deliveries/{second.id}", **bearer(read_key)).json()["behind_earlier"] is True
    set_state(first, State.SUCCEEDED)
    assert behind()[second.id] is False
